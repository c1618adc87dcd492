// The lecture's practical on real MNIST, end to end through the readers,
// the preprocessing and the engine: the acceptance band of the 2019 handout, and the first
// losses of the 2018 solution as a check of the loss definition.
//
// MNIST is read from MLPD_MNIST_DIR, which the README's test command fills with
// scripts/fetch-mnist first; a missing folder is a failure, not a skip, so a broken fetch
// cannot pass unnoticed.
#include "bench/practical.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/model.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

constexpr uint64_t kSeed = 1;

absl::StatusOr<PracticalData> Load(PracticalVariant variant) {
  absl::StatusOr<PracticalData> data = LoadPracticalData(MLPD_MNIST_DIR, variant);
  if (!data.ok()) {
    ADD_FAILURE() << "cannot read MNIST from " << MLPD_MNIST_DIR << " (" << data.status()
                  << "); run scripts/fetch-mnist (the README's test command does)";
  }
  return data;
}

TEST(PracticalTest, ReadsTheFirstThousandImagesWithTheHandoutsNormalisation) {
  absl::StatusOr<PracticalData> data = Load(PracticalVariant::k2019);
  ASSERT_TRUE(data.ok());
  EXPECT_NEAR(data->standardization.mean, 32.700928, 1e-5);
  EXPECT_NEAR(data->standardization.std, 77.810455, 1e-5);
  std::printf("practical: mean %.6f std %.6f (fitted on the first 1000 train images)\n",
              data->standardization.mean, data->standardization.std);
  EXPECT_EQ(data->train.rows(), 1000);
  EXPECT_EQ(data->train.x.cols, 784);
  EXPECT_EQ(data->test.rows(), 1000);
  EXPECT_EQ(data->test.x.cols, 784);
  EXPECT_TRUE(data->train.Validate().ok());
  EXPECT_TRUE(data->test.Validate().ok());
  // Targets: 0.9 at the label, 0 elsewhere; MNIST's first training label is a 5.
  ASSERT_EQ(data->train.targets.cols, 10);
  EXPECT_FLOAT_EQ(data->train.targets.data[5], 0.9f);
  float row_sum = 0.0f;
  for (int i = 0; i < 10; ++i) row_sum += data->train.targets.data[i];
  EXPECT_FLOAT_EQ(row_sum, 0.9f);
  // The test slice is normalised with the train slice's numbers, so it is not exactly
  // centred itself.
  const Standardization test_after = FitStandardization(data->test);
  EXPECT_GT(std::abs(test_after.mean), 1e-4);
  EXPECT_LT(std::abs(test_after.mean), 0.1);
}

TEST(PracticalTest, ReachesTheHandoutsErrorRates) {
  absl::StatusOr<PracticalData> data = Load(PracticalVariant::k2019);
  ASSERT_TRUE(data.ok());
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(PracticalSpec(kSeed));
  ASSERT_TRUE(model.ok()) << model.status();
  const MatrixView x = data->train.x.view();
  const TargetsView targets = data->train.targets_view();
  std::vector<float> losses;
  for (int64_t step = 0; step < kPracticalSteps; ++step) {
    absl::StatusOr<float> loss = (*model)->TrainStep(x, targets);
    ASSERT_TRUE(loss.ok()) << "step " << step << ": " << loss.status();
    losses.push_back(*loss);
  }
  absl::StatusOr<Evaluation> train = (*model)->Evaluate(x, targets);
  ASSERT_TRUE(train.ok()) << train.status();
  absl::StatusOr<Evaluation> test =
      (*model)->Evaluate(data->test.x.view(), data->test.targets_view());
  ASSERT_TRUE(test.ok()) << test.status();
  std::printf(
      "practical: loss step 0 %.2f, step 999 %.2f, after training %.2f; train error %.2f%%, "
      "test error %.2f%%\n",
      losses.front(), losses.back(), train->loss, 100 * train->error_rate, 100 * test->error_rate);

  // At a 1e-6 init the outputs are ~0, so the first loss is the targets' squared norm:
  // 1000 rows of one 0.9.
  EXPECT_NEAR(losses.front(), 1000 * 0.81, 1.0);
  EXPECT_LT(losses.back(), losses.front() / 5);
  // Evaluate's summed loss after the last update is close to the last step's (both ~50).
  EXPECT_NEAR(train->loss, losses.back(), 0.1 * losses.back());
  ASSERT_TRUE(train->has_error_rate);
  ASSERT_TRUE(test->has_error_rate);
  EXPECT_EQ(test->count, 1000);
  EXPECT_LE(train->error_rate, 0.01);
  EXPECT_GE(test->error_rate, 0.14);
  EXPECT_LE(test->error_rate, 0.175);
}

TEST(PracticalTest, TheOlderSolutionsFirstLossesMatch) {
  absl::StatusOr<PracticalData> data = Load(PracticalVariant::k2018);
  ASSERT_TRUE(data.ok());
  // -1 everywhere and +1 at the label.
  float row_sum = 0.0f;
  for (int i = 0; i < 10; ++i) row_sum += data->train.targets.data[i];
  EXPECT_FLOAT_EQ(row_sum, -8.0f);
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(PracticalSpec(kSeed));
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<double> expected = {10000.00, 7712.08, 6327.60};
  for (size_t step = 0; step < expected.size(); ++step) {
    absl::StatusOr<float> loss =
        (*model)->TrainStep(data->train.x.view(), data->train.targets_view());
    ASSERT_TRUE(loss.ok()) << loss.status();
    std::printf("practical 2018: loss at step %zu is %.2f (expected about %.2f)\n", step, *loss,
                expected[step]);
    EXPECT_NEAR(*loss, expected[step], 0.005 * expected[step]) << "step " << step;
  }
}

TEST(PracticalTest, AMissingFolderNamesTheFile) {
  const std::string missing = ::testing::TempDir() + "/mlpd_no_mnist_here";
  absl::StatusOr<PracticalData> data = LoadPracticalData(missing, PracticalVariant::k2019);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(data.status().message().find(missing + "/train-images-idx3-ubyte"),
            absl::string_view::npos)
      << data.status();
}

}  // namespace
}  // namespace mlpd
