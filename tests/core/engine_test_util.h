// engine_test_util.h: small builders shared by the engine's tests (specs, seeded data, targets
// that fit a loss).
//
//   ModelSpec spec = TestSpec(5, {{7, Activation::kTanh}, {3, Activation::kIdentity}},
//                             LossKind::kCrossEntropy);
//   std::vector<float> x = RandomValues(rows * 5, /*seed=*/1);
#ifndef MLPD_TESTS_CORE_ENGINE_TEST_UTIL_H_
#define MLPD_TESTS_CORE_ENGINE_TEST_UTIL_H_

#include <cstdint>
#include <random>
#include <vector>

#include "core/model_spec.h"
#include "core/tensor.h"

namespace mlpd::testing {

inline ModelSpec TestSpec(int64_t input_size, std::vector<LayerSpec> layers, LossKind loss,
                          Reduction reduction = Reduction::kMean,
                          OptimizerKind optimizer = OptimizerKind::kSgd,
                          float learning_rate = 0.05f) {
  ModelSpec spec;
  spec.input_size = input_size;
  spec.layers = std::move(layers);
  spec.loss = {loss, reduction};
  spec.optimizer.kind = optimizer;
  spec.optimizer.learning_rate = learning_rate;
  spec.init = {InitKind::kUniform, 0.5f, /*seed=*/7};
  return WithDefaults(spec);
}

// RandomValues draws `count` values uniformly from [-scale, scale].
inline std::vector<float> RandomValues(int64_t count, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(generator);
  return values;
}

// BatchTargets holds targets suited to a spec's loss: labels for cross-entropy, +-1 for
// logistic, random values for MSE.
struct BatchTargets {
  std::vector<float> values;
  std::vector<int32_t> labels;
  int64_t rows = 0;
  int64_t cols = 0;

  TargetsView view() const {
    if (!labels.empty()) return TargetsView::Labels(labels.data(), rows);
    return TargetsView::Values(MatrixView{values.data(), rows, cols});
  }
};

inline BatchTargets TargetsFor(const ModelSpec& spec, int64_t rows, uint64_t seed) {
  BatchTargets targets;
  targets.rows = rows;
  targets.cols = spec.output_size();
  std::mt19937_64 generator(seed);
  switch (spec.loss.kind) {
    case LossKind::kMse:
      targets.values = RandomValues(rows * targets.cols, seed);
      break;
    case LossKind::kCrossEntropy:
      for (int64_t r = 0; r < rows; ++r) {
        targets.labels.push_back(static_cast<int32_t>(generator() % targets.cols));
      }
      break;
    case LossKind::kLogistic:
      for (int64_t r = 0; r < rows; ++r) targets.values.push_back(generator() % 2 ? 1.0f : -1.0f);
      break;
  }
  return targets;
}

}  // namespace mlpd::testing

#endif  // MLPD_TESTS_CORE_ENGINE_TEST_UTIL_H_
