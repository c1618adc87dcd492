// Checks the engine's back-propagation for every activation and loss against central finite
// differences of the double-precision reference loss.
#include <cmath>
#include <memory>
#include <tuple>
#include <vector>

#include "core/model.h"
#include "gtest/gtest.h"
#include "tests/core/engine_test_util.h"
#include "tests/core/reference_mlp.h"

namespace mlpd {
namespace {

using testing::BatchTargets;
using testing::RandomValues;
using testing::ReferenceMlp;
using testing::TargetsFor;
using testing::TestSpec;

class GradientTest : public ::testing::TestWithParam<std::tuple<Activation, LossKind>> {};

TEST_P(GradientTest, EngineGradientMatchesFiniteDifferences) {
  const auto [activation, loss] = GetParam();
  // The hidden layers use the activation under test; the output layer too, where the loss
  // allows it (cross-entropy and logistic need identity outputs).
  const Activation output_activation = loss == LossKind::kMse ? activation : Activation::kIdentity;
  const int64_t outputs = loss == LossKind::kLogistic ? 1 : 3;
  ModelSpec spec = TestSpec(4, {{6, activation}, {5, activation}, {outputs, output_activation}},
                            loss, Reduction::kMean, OptimizerKind::kSgd, /*learning_rate=*/1.0f);
  const int64_t rows = 5;
  const std::vector<float> x = RandomValues(rows * spec.input_size, 11);
  const BatchTargets targets = TargetsFor(spec, rows, 12);

  auto model = Model::Create(spec);
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<float> before = (*model)->GetParameters();

  // With SGD and learning rate 1 the step subtracts exactly the gradient.
  auto step = (*model)->TrainStep(MatrixView{x.data(), rows, spec.input_size}, targets.view());
  ASSERT_TRUE(step.ok()) << step.status();
  const std::vector<float> after = (*model)->GetParameters();

  ReferenceMlp reference(spec, before);
  const double reference_loss =
      reference.LossAndGradient(x, rows, targets.values, targets.labels, nullptr);
  EXPECT_NEAR(*step, reference_loss, 1e-5 * std::max(1.0, std::abs(reference_loss)));

  const double h = 1e-5;
  double largest = 0.0;
  for (size_t i = 0; i < before.size(); ++i) {
    std::vector<double>& p = reference.mutable_parameters();
    const double saved = p[i];
    p[i] = saved + h;
    const double plus = reference.LossAndGradient(x, rows, targets.values, targets.labels, nullptr);
    p[i] = saved - h;
    const double minus =
        reference.LossAndGradient(x, rows, targets.values, targets.labels, nullptr);
    p[i] = saved;
    const double numeric = (plus - minus) / (2.0 * h);
    const double engine = static_cast<double>(before[i]) - static_cast<double>(after[i]);
    largest = std::max(largest, std::abs(numeric));
    // The engine's gradient is recovered from float parameters (|w| <= 0.5), which costs
    // about 3e-8 absolute; the engine computes in float.
    EXPECT_NEAR(engine, numeric, 2e-6 + 1e-4 * std::abs(numeric)) << "parameter " << i;
  }
  // A network whose gradient vanished would pass trivially.
  EXPECT_GT(largest, 1e-3);
}

std::string GradientTestName(
    const ::testing::TestParamInfo<std::tuple<Activation, LossKind>>& info) {
  return std::string(ActivationName(std::get<0>(info.param))) + "_" +
         std::string(LossKindName(std::get<1>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(
    EveryActivationAndLoss, GradientTest,
    ::testing::Combine(::testing::Values(Activation::kIdentity, Activation::kRelu,
                                         Activation::kTanh, Activation::kSigmoid),
                       ::testing::Values(LossKind::kMse, LossKind::kCrossEntropy,
                                         LossKind::kLogistic)),
    GradientTestName);

TEST(GradientTest, MseSumIsTheMeanTimesTheElementCount) {
  ModelSpec mean_spec = TestSpec(3, {{4, Activation::kTanh}, {2, Activation::kSigmoid}},
                                 LossKind::kMse, Reduction::kMean);
  ModelSpec sum_spec = mean_spec;
  sum_spec.loss.reduction = Reduction::kSum;
  const int64_t rows = 6;
  const std::vector<float> x = RandomValues(rows * 3, 1);
  const std::vector<float> t = RandomValues(rows * 2, 2);
  const TargetsView y = TargetsView::Values(MatrixView{t.data(), rows, 2});
  auto mean_model = Model::Create(mean_spec);
  auto sum_model = Model::Create(sum_spec);
  ASSERT_TRUE(mean_model.ok() && sum_model.ok());
  auto mean_loss = (*mean_model)->TrainStep(MatrixView{x.data(), rows, 3}, y);
  auto sum_loss = (*sum_model)->TrainStep(MatrixView{x.data(), rows, 3}, y);
  ASSERT_TRUE(mean_loss.ok() && sum_loss.ok());
  EXPECT_NEAR(*sum_loss, *mean_loss * rows * 2, 1e-5 * *sum_loss);
}

}  // namespace
}  // namespace mlpd
