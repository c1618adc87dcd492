// Compares the engine's forward pass and optimizer steps with the plain-loop double-precision
// reference for several shapes, batch sizes 1, 7 and 64, and every optimizer.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
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

struct Shape {
  const char* name;
  int64_t input_size;
  std::vector<LayerSpec> layers;
  LossKind loss;
  Reduction reduction;
};

std::vector<Shape> Shapes() {
  return {
      {"tanh_mse_sum",
       9,
       {{12, Activation::kTanh}, {4, Activation::kTanh}},
       LossKind::kMse,
       Reduction::kSum},
      {"relu_xent",
       30,
       {{40, Activation::kRelu}, {17, Activation::kRelu}, {5, Activation::kIdentity}},
       LossKind::kCrossEntropy,
       Reduction::kMean},
      {"sigmoid_logistic",
       3,
       {{8, Activation::kSigmoid}, {1, Activation::kIdentity}},
       LossKind::kLogistic,
       Reduction::kMean},
      {"identity_mse_mean", 6, {{2, Activation::kIdentity}}, LossKind::kMse, Reduction::kMean},
  };
}

// MaxRelativeError is max |a - b| / max |b|: relative to the tensor's scale, so entries near
// zero do not dominate.
double MaxRelativeError(const std::vector<float>& actual, const std::vector<double>& expected) {
  double difference = 0.0;
  double scale = 1e-30;
  for (size_t i = 0; i < expected.size(); ++i) {
    difference = std::max(difference, std::abs(actual[i] - expected[i]));
    scale = std::max(scale, std::abs(expected[i]));
  }
  return difference / scale;
}

class ReferenceTest : public ::testing::TestWithParam<std::tuple<int, int64_t, OptimizerKind>> {};

TEST_P(ReferenceTest, ForwardAndStepsMatchThePlainLoopReference) {
  const auto [shape_index, rows, optimizer] = GetParam();
  const Shape shape = Shapes()[shape_index];
  const ModelSpec spec = TestSpec(shape.input_size, shape.layers, shape.loss, shape.reduction,
                                  optimizer, /*learning_rate=*/0.05f);
  auto model = Model::Create(spec);
  ASSERT_TRUE(model.ok()) << model.status();
  ReferenceMlp reference(spec, (*model)->GetParameters());

  const std::vector<float> x = RandomValues(rows * spec.input_size, 100 + rows);
  const MatrixView input{x.data(), rows, spec.input_size};
  const BatchTargets targets = TargetsFor(spec, rows, 200 + rows);

  // Forward: the raw outputs (softmax for cross-entropy, as Predict returns).
  Matrix outputs;
  ASSERT_TRUE((*model)->Predict(input, &outputs).ok());
  ASSERT_EQ(outputs.rows, rows);
  ASSERT_EQ(outputs.cols, spec.output_size());
  std::vector<double> expected = reference.Forward(x, rows);
  if (spec.loss.kind == LossKind::kCrossEntropy) {
    for (int64_t r = 0; r < rows; ++r) {
      double* row = expected.data() + r * outputs.cols;
      double total = 0.0;
      for (int64_t c = 0; c < outputs.cols; ++c) total += std::exp(row[c]);
      for (int64_t c = 0; c < outputs.cols; ++c) row[c] = std::exp(row[c]) / total;
    }
  }
  EXPECT_LE(MaxRelativeError(outputs.data, expected), 1e-5);

  // Three steps, so momentum's velocity and Adam's moments and bias correction all matter.
  for (int step = 1; step <= 3; ++step) {
    const std::vector<float> before = (*model)->GetParameters();
    std::vector<double> gradient;
    const double expected_loss =
        reference.LossAndGradient(x, rows, targets.values, targets.labels, &gradient);
    const std::vector<double> reference_before = reference.parameters();
    reference.Step(gradient, step);

    auto loss = (*model)->TrainStep(input, targets.view());
    ASSERT_TRUE(loss.ok()) << loss.status();
    EXPECT_NEAR(*loss, expected_loss, 1e-5 * std::max(1.0, std::abs(expected_loss)));
    const std::vector<float> after = (*model)->GetParameters();
    EXPECT_LE(MaxRelativeError(after, reference.parameters()), 1e-5) << "step " << step;

    // The update itself (not only the parameters, which barely move) must agree too.
    std::vector<float> update(after.size());
    std::vector<double> expected_update(after.size());
    for (size_t i = 0; i < after.size(); ++i) {
      update[i] = after[i] - before[i];
      expected_update[i] = reference.parameters()[i] - reference_before[i];
    }
    EXPECT_LE(MaxRelativeError(update, expected_update), 2e-3) << "step " << step;
  }
  EXPECT_EQ((*model)->step_count(), 3);
  EXPECT_EQ((*model)->samples_seen(), 3 * rows);
}

std::string ReferenceTestName(
    const ::testing::TestParamInfo<std::tuple<int, int64_t, OptimizerKind>>& info) {
  return std::string(Shapes()[std::get<0>(info.param)].name) + "_b" +
         std::to_string(std::get<1>(info.param)) + "_" +
         std::string(OptimizerKindName(std::get<2>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(ShapesBatchesOptimizers, ReferenceTest,
                         ::testing::Combine(::testing::Values(0, 1, 2, 3),
                                            ::testing::Values(1, 7, 64),
                                            ::testing::Values(OptimizerKind::kSgd,
                                                              OptimizerKind::kMomentum,
                                                              OptimizerKind::kAdam)),
                         ReferenceTestName);

}  // namespace
}  // namespace mlpd
