#include "bench/practical.h"

#include "core/status_macros.h"

namespace mlpd {

absl::StatusOr<PracticalData> LoadPracticalData(const std::string& mnist_dir,
                                                PracticalVariant variant) {
  PracticalData data;
  MLPD_ASSIGN_OR_RETURN(data.train,
                        ReadIdx(mnist_dir + "/train-images-idx3-ubyte",
                                mnist_dir + "/train-labels-idx1-ubyte", kPracticalRows));
  MLPD_ASSIGN_OR_RETURN(data.test, ReadIdx(mnist_dir + "/t10k-images-idx3-ubyte",
                                           mnist_dir + "/t10k-labels-idx1-ubyte", kPracticalRows));
  // The test slice is normalised with the train slice's numbers, as the handout does.
  data.standardization = FitStandardization(data.train);
  ApplyStandardization(data.standardization, &data.train);
  ApplyStandardization(data.standardization, &data.test);
  if (variant == PracticalVariant::k2019) {
    MLPD_RETURN_IF_ERROR(OneHotTargets(kPracticalClasses, /*scale=*/kPracticalZeta,
                                       /*base=*/0.0f, &data.train));
  } else {
    ScaleInputs(kPracticalZeta, &data.train);
    ScaleInputs(kPracticalZeta, &data.test);
    MLPD_RETURN_IF_ERROR(
        OneHotTargets(kPracticalClasses, /*scale=*/1.0f, /*base=*/-1.0f, &data.train));
  }
  return data;
}

ModelSpec PracticalSpec(uint64_t seed) {
  ModelSpec spec;
  spec.input_size = 784;
  spec.layers = {{50, Activation::kTanh}, {kPracticalClasses, Activation::kTanh}};
  spec.loss = {LossKind::kMse, Reduction::kSum};
  spec.optimizer.kind = OptimizerKind::kSgd;
  spec.optimizer.learning_rate = 0.1f / 1000.0f;
  spec.init = {InitKind::kNormal, /*scale=*/1e-6f, seed};
  return spec;
}

}  // namespace mlpd
