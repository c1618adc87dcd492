// model_spec.h: the description of an MLP (shape, loss, optimizer, initialisation).
//
// A ModelSpec is plain data; ValidateModelSpec() says whether the engine can build it and, when
// not, names the field, the expected and the received value. Defaults (Adam's betas, ...) are
// filled by WithDefaults(), so a validated spec is explicit about every hyperparameter.
//
//   ModelSpec spec;
//   spec.input_size = 784;
//   spec.layers = {{50, Activation::kTanh}, {10, Activation::kTanh}};
//   spec.loss = {LossKind::kMse, Reduction::kSum};
//   spec.optimizer.kind = OptimizerKind::kSgd;
//   spec.optimizer.learning_rate = 1e-4f;
//   spec.init = {InitKind::kNormal, 1e-6f, /*seed=*/0};
//   absl::Status status = ValidateModelSpec(WithDefaults(spec));
#ifndef MLPD_CORE_MODEL_SPEC_H_
#define MLPD_CORE_MODEL_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mlpd {

// Activation is the element-wise function after a layer's affine map.
enum class Activation { kIdentity, kRelu, kTanh, kSigmoid };

// LossKind: kMse (float targets), kCrossEntropy (softmax + NLL of int labels, mean over the
// batch), kLogistic (the lecture's -log sigmoid(y s), y in {-1, +1}, one identity output).
enum class LossKind { kMse, kCrossEntropy, kLogistic };

// Reduction: kMean (MSE: over all elements, as PyTorch; LOGISTIC: over rows) or kSum.
enum class Reduction { kMean, kSum };

enum class OptimizerKind { kSgd, kMomentum, kAdam };

enum class InitKind { kNormal, kUniform, kXavier, kKaiming };

// LayerSpec is one fully connected layer: `units` outputs, then `activation`.
struct LayerSpec {
  int64_t units = 0;
  Activation activation = Activation::kIdentity;
};

struct LossSpec {
  LossKind kind = LossKind::kMse;
  Reduction reduction = Reduction::kMean;
};

// OptimizerSpec: hyperparameters left unset take their defaults in WithDefaults(); a set one is
// used as given (0 included).
struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::kSgd;
  float learning_rate = 0.0f;
  std::optional<float> momentum;  // kMomentum; default kDefaultMomentum.
  std::optional<float> beta1;     // kAdam; default kDefaultBeta1.
  std::optional<float> beta2;     // kAdam; default kDefaultBeta2.
  std::optional<float> epsilon;   // kAdam; default kDefaultEpsilon.
};

// The defaults of the optimizer's hyperparameters (PyTorch's).
inline constexpr float kDefaultMomentum = 0.9f;
inline constexpr float kDefaultBeta1 = 0.9f;
inline constexpr float kDefaultBeta2 = 0.999f;
inline constexpr float kDefaultEpsilon = 1e-8f;

// InitSpec: kNormal draws N(0, scale^2), kUniform U(-scale, scale) for weights and biases;
// kXavier and kKaiming draw weights from their fan-based laws and set biases to 0.
struct InitSpec {
  InitKind kind = InitKind::kNormal;
  float scale = 0.0f;
  uint64_t seed = 0;
};

struct ModelSpec {
  int64_t input_size = 0;
  std::vector<LayerSpec> layers;
  LossSpec loss;
  OptimizerSpec optimizer;
  InitSpec init;

  // output_size is the last layer's units (0 when there are no layers).
  int64_t output_size() const { return layers.empty() ? 0 : layers.back().units; }
};

// Hard limits that keep one spec from exhausting the machine; the server may set lower ones.
inline constexpr int64_t kMaxLayerUnits = 1 << 20;
inline constexpr int64_t kMaxLayers = 64;
inline constexpr int64_t kMaxParameters = int64_t{1} << 31;

// WithDefaults returns `spec` with every defaulted hyperparameter made explicit.
ModelSpec WithDefaults(ModelSpec spec);

// ValidateModelSpec returns INVALID_ARGUMENT naming what is wrong, or OK.
absl::Status ValidateModelSpec(const ModelSpec& spec);

// ParameterCount is the number of weights plus biases of the network.
int64_t ParameterCount(const ModelSpec& spec);

// Names used by the CLI and the logs ("tanh", "cross_entropy", "adam", "kaiming", ...).
absl::string_view ActivationName(Activation activation);
absl::string_view LossKindName(LossKind kind);
absl::string_view ReductionName(Reduction reduction);
absl::string_view OptimizerKindName(OptimizerKind kind);
absl::string_view InitKindName(InitKind kind);
absl::StatusOr<Activation> ParseActivation(absl::string_view name);
absl::StatusOr<LossKind> ParseLossKind(absl::string_view name);
absl::StatusOr<Reduction> ParseReduction(absl::string_view name);
absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name);
absl::StatusOr<InitKind> ParseInitKind(absl::string_view name);

// LayerSizesString is "784-50-10" for the spec's input and layer sizes.
std::string LayerSizesString(const ModelSpec& spec);

}  // namespace mlpd

#endif  // MLPD_CORE_MODEL_SPEC_H_
