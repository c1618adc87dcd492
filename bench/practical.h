// practical.h: the lecture's practical session on MNIST as a recipe.
//
// The practical's data and network are fixed by the handout: the first 1000 train and test
// images, one scalar mean/std fitted on the train slice, one-hot targets, a 784-50-10 tanh
// network with summed squared error, N(0, 1e-6) init and SGD at 0.1/1000 on the full batch.
// The test that checks our results against the handout and the benchmark that times them share
// this one definition, so they cannot drift apart.
//
//   absl::StatusOr<PracticalData> data = LoadPracticalData(mnist_dir, PracticalVariant::k2019);
//   absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(PracticalSpec(/*seed=*/1));
//   for (int step = 0; step < kPracticalSteps; ++step) {
//     (*model)->TrainStep(data->train.x.view(), data->train.targets_view());
//   }
#ifndef MLPD_BENCH_PRACTICAL_H_
#define MLPD_BENCH_PRACTICAL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/dataset.h"
#include "core/model_spec.h"

namespace mlpd {

// PracticalVariant: k2019 is the handout to reproduce (0/1 one-hot targets times 0.9); k2018
// is the older solution (-1/+1 one-hot targets, inputs times 0.9 after standardization), whose
// first losses the handout quotes.
enum class PracticalVariant { k2019, k2018 };

inline constexpr int64_t kPracticalRows = 1000;
inline constexpr int64_t kPracticalSteps = 1000;
inline constexpr int64_t kPracticalClasses = 10;
inline constexpr float kPracticalZeta = 0.9f;

// PracticalData is the preprocessed data: train with one-hot float targets, test with its int
// labels (the argmax of the outputs is compared with them), and the standardization fitted on
// the train slice and applied to both.
struct PracticalData {
  Dataset train;
  Dataset test;
  Standardization standardization;
};

// LoadPracticalData reads the four MNIST IDX files from `mnist_dir` (names as published:
// train-images-idx3-ubyte, ...) and applies the variant's preprocessing.
[[nodiscard]] absl::StatusOr<PracticalData> LoadPracticalData(const std::string& mnist_dir,
                                                              PracticalVariant variant);

// PracticalSpec is the practical's 784-50-10 tanh/tanh network, MSE with reduction SUM, SGD
// at 0.1/1000 and N(0, 1e-6^2) init drawn with `seed`.
ModelSpec PracticalSpec(uint64_t seed);

}  // namespace mlpd

#endif  // MLPD_BENCH_PRACTICAL_H_
