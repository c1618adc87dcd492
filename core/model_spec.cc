#include "core/model_spec.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace mlpd {
namespace {

bool IsFinitePositive(float value) { return std::isfinite(value) && value > 0.0f; }

bool InUnitInterval(float value) { return std::isfinite(value) && value >= 0.0f && value < 1.0f; }

// Names are matched case-insensitively so "TANH" (the proto spelling) and "tanh" both parse.
template <typename Enum, size_t N>
absl::StatusOr<Enum> ParseName(absl::string_view what, absl::string_view name,
                               const Enum (&values)[N], absl::string_view (*name_of)(Enum)) {
  const std::string lowered = absl::AsciiStrToLower(name);
  std::string expected;
  for (Enum value : values) {
    if (name_of(value) == lowered) return value;
    absl::StrAppend(&expected, expected.empty() ? "" : ", ", name_of(value));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown %s '%s'; expected one of: %s", what, name, expected));
}

constexpr Activation kActivations[] = {Activation::kIdentity, Activation::kRelu, Activation::kTanh,
                                       Activation::kSigmoid};
constexpr LossKind kLossKinds[] = {LossKind::kMse, LossKind::kCrossEntropy, LossKind::kLogistic};
constexpr Reduction kReductions[] = {Reduction::kMean, Reduction::kSum};
constexpr OptimizerKind kOptimizerKinds[] = {OptimizerKind::kSgd, OptimizerKind::kMomentum,
                                             OptimizerKind::kAdam};
constexpr InitKind kInitKinds[] = {InitKind::kNormal, InitKind::kUniform, InitKind::kXavier,
                                   InitKind::kKaiming};

template <typename Enum, size_t N>
bool IsKnown(Enum value, const Enum (&values)[N]) {
  for (Enum known : values) {
    if (known == value) return true;
  }
  return false;
}

absl::Status ValidateShape(const ModelSpec& spec) {
  if (spec.input_size < 1 || spec.input_size > kMaxLayerUnits) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.input_size is %d, expected 1..%d", spec.input_size, kMaxLayerUnits));
  }
  if (spec.layers.empty()) {
    return absl::InvalidArgumentError("spec.layers is empty, expected at least one layer");
  }
  if (static_cast<int64_t>(spec.layers.size()) > kMaxLayers) {
    return absl::InvalidArgumentError(absl::StrFormat("spec.layers has %d layers, expected <= %d",
                                                      spec.layers.size(), kMaxLayers));
  }
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    const LayerSpec& layer = spec.layers[l];
    if (layer.units < 1 || layer.units > kMaxLayerUnits) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "spec.layers[%d].units is %d, expected 1..%d", l, layer.units, kMaxLayerUnits));
    }
    if (!IsKnown(layer.activation, kActivations)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "spec.layers[%d].activation is unknown (%d)", l, static_cast<int>(layer.activation)));
    }
  }
  // Sizes are bounded above, so this sum cannot overflow int64.
  const int64_t parameters = ParameterCount(spec);
  if (parameters > kMaxParameters) {
    return absl::InvalidArgumentError(absl::StrFormat("spec has %d parameters (%s), expected <= %d",
                                                      parameters, LayerSizesString(spec),
                                                      kMaxParameters));
  }
  return absl::OkStatus();
}

absl::Status ValidateLoss(const ModelSpec& spec) {
  const LossSpec& loss = spec.loss;
  if (!IsKnown(loss.kind, kLossKinds)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.loss.kind is unknown (%d)", static_cast<int>(loss.kind)));
  }
  if (!IsKnown(loss.reduction, kReductions)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.loss.reduction is unknown (%d)", static_cast<int>(loss.reduction)));
  }
  const LayerSpec& last = spec.layers.back();
  const size_t last_index = spec.layers.size() - 1;
  switch (loss.kind) {
    case LossKind::kMse:
      break;
    case LossKind::kCrossEntropy:
      if (loss.reduction != Reduction::kMean) {
        return absl::InvalidArgumentError(
            "spec.loss.reduction is sum, expected mean for cross_entropy (always the mean over "
            "the batch)");
      }
      if (last.units < 2) {
        return absl::InvalidArgumentError(
            absl::StrFormat("spec.layers[%d].units is %d, cross_entropy needs at least 2 classes",
                            last_index, last.units));
      }
      if (last.activation != Activation::kIdentity) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "spec.layers[%d].activation is %s, expected identity for cross_entropy (the softmax "
            "belongs to the loss)",
            last_index, ActivationName(last.activation)));
      }
      break;
    case LossKind::kLogistic:
      if (last.units != 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("spec.layers[%d].units is %d, expected 1 for the logistic loss",
                            last_index, last.units));
      }
      if (last.activation != Activation::kIdentity) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "spec.layers[%d].activation is %s, expected identity for the logistic loss (the "
            "sigmoid belongs to the loss)",
            last_index, ActivationName(last.activation)));
      }
      break;
  }
  return absl::OkStatus();
}

absl::Status ValidateOptimizer(const OptimizerSpec& optimizer) {
  if (!IsKnown(optimizer.kind, kOptimizerKinds)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.optimizer.kind is unknown (%d)", static_cast<int>(optimizer.kind)));
  }
  if (!IsFinitePositive(optimizer.learning_rate)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.optimizer.learning_rate is %g, expected a finite value > 0",
                        optimizer.learning_rate));
  }
  if (optimizer.kind == OptimizerKind::kMomentum && !InUnitInterval(optimizer.momentum)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "spec.optimizer.momentum is %g, expected a value in [0, 1)", optimizer.momentum));
  }
  if (optimizer.kind == OptimizerKind::kAdam) {
    if (!InUnitInterval(optimizer.beta1)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "spec.optimizer.beta1 is %g, expected a value in [0, 1)", optimizer.beta1));
    }
    if (!InUnitInterval(optimizer.beta2)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "spec.optimizer.beta2 is %g, expected a value in [0, 1)", optimizer.beta2));
    }
    if (!IsFinitePositive(optimizer.epsilon)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "spec.optimizer.epsilon is %g, expected a finite value > 0", optimizer.epsilon));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateInit(const InitSpec& init) {
  if (!IsKnown(init.kind, kInitKinds)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.init.kind is unknown (%d)", static_cast<int>(init.kind)));
  }
  if ((init.kind == InitKind::kNormal || init.kind == InitKind::kUniform) &&
      !IsFinitePositive(init.scale)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.init.scale is %g, expected a finite value > 0 for %s init",
                        init.scale, InitKindName(init.kind)));
  }
  return absl::OkStatus();
}

}  // namespace

ModelSpec WithDefaults(ModelSpec spec) {
  OptimizerSpec& optimizer = spec.optimizer;
  // Hyperparameters of other optimizers are dropped: nothing checks or uses them, and a
  // session should not report values (NaN, say) that play no part in its training.
  if (optimizer.kind != OptimizerKind::kMomentum) optimizer.momentum = 0.0f;
  if (optimizer.kind != OptimizerKind::kAdam) {
    optimizer.beta1 = 0.0f;
    optimizer.beta2 = 0.0f;
    optimizer.epsilon = 0.0f;
  }
  if (optimizer.kind == OptimizerKind::kMomentum && optimizer.momentum == 0.0f) {
    optimizer.momentum = 0.9f;
  }
  if (optimizer.kind == OptimizerKind::kAdam) {
    if (optimizer.beta1 == 0.0f) optimizer.beta1 = 0.9f;
    if (optimizer.beta2 == 0.0f) optimizer.beta2 = 0.999f;
    if (optimizer.epsilon == 0.0f) optimizer.epsilon = 1e-8f;
  }
  return spec;
}

absl::Status ValidateModelSpec(const ModelSpec& spec) {
  if (absl::Status status = ValidateShape(spec); !status.ok()) return status;
  if (absl::Status status = ValidateLoss(spec); !status.ok()) return status;
  if (absl::Status status = ValidateOptimizer(spec.optimizer); !status.ok()) return status;
  return ValidateInit(spec.init);
}

int64_t ParameterCount(const ModelSpec& spec) {
  int64_t count = 0;
  int64_t in = spec.input_size;
  for (const LayerSpec& layer : spec.layers) {
    count += layer.units * in + layer.units;
    in = layer.units;
  }
  return count;
}

absl::string_view ActivationName(Activation activation) {
  switch (activation) {
    case Activation::kIdentity:
      return "identity";
    case Activation::kRelu:
      return "relu";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSigmoid:
      return "sigmoid";
  }
  return "unknown";
}

absl::string_view LossKindName(LossKind kind) {
  switch (kind) {
    case LossKind::kMse:
      return "mse";
    case LossKind::kCrossEntropy:
      return "cross_entropy";
    case LossKind::kLogistic:
      return "logistic";
  }
  return "unknown";
}

absl::string_view ReductionName(Reduction reduction) {
  switch (reduction) {
    case Reduction::kMean:
      return "mean";
    case Reduction::kSum:
      return "sum";
  }
  return "unknown";
}

absl::string_view OptimizerKindName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "sgd";
    case OptimizerKind::kMomentum:
      return "momentum";
    case OptimizerKind::kAdam:
      return "adam";
  }
  return "unknown";
}

absl::string_view InitKindName(InitKind kind) {
  switch (kind) {
    case InitKind::kNormal:
      return "normal";
    case InitKind::kUniform:
      return "uniform";
    case InitKind::kXavier:
      return "xavier";
    case InitKind::kKaiming:
      return "kaiming";
  }
  return "unknown";
}

absl::StatusOr<Activation> ParseActivation(absl::string_view name) {
  return ParseName("activation", name, kActivations, &ActivationName);
}

absl::StatusOr<LossKind> ParseLossKind(absl::string_view name) {
  return ParseName("loss", name, kLossKinds, &LossKindName);
}

absl::StatusOr<Reduction> ParseReduction(absl::string_view name) {
  return ParseName("reduction", name, kReductions, &ReductionName);
}

absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name) {
  return ParseName("optimizer", name, kOptimizerKinds, &OptimizerKindName);
}

absl::StatusOr<InitKind> ParseInitKind(absl::string_view name) {
  return ParseName("init", name, kInitKinds, &InitKindName);
}

std::string LayerSizesString(const ModelSpec& spec) {
  std::string sizes = absl::StrCat(spec.input_size);
  for (const LayerSpec& layer : spec.layers) absl::StrAppend(&sizes, "-", layer.units);
  return sizes;
}

}  // namespace mlpd
