#include "core/model_spec.h"

#include <cmath>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/spec_enums.h"
#include "core/status_macros.h"

namespace mlpd {
namespace {

bool IsFinitePositive(float value) { return std::isfinite(value) && value > 0.0f; }

bool InUnitInterval(float value) { return std::isfinite(value) && value >= 0.0f && value < 1.0f; }

// Names are matched case-insensitively so "TANH" (the proto spelling) and "tanh" both parse.
template <typename Core, typename Proto, size_t N>
absl::StatusOr<Core> ParseName(absl::string_view what, absl::string_view name,
                               const EnumRow<Core, Proto> (&table)[N]) {
  std::optional<Core> value = CoreOfName(table, absl::AsciiStrToLower(name));
  if (value.has_value()) return *value;
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown %s '%s'; expected one of: %s", what, name, JoinedNames(table)));
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
    if (!IsKnown(kActivationTable, layer.activation)) {
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
  if (!IsKnown(kLossKindTable, loss.kind)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.loss.kind is unknown (%d)", static_cast<int>(loss.kind)));
  }
  if (!IsKnown(kReductionTable, loss.reduction)) {
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

// CheckHyperparameter refuses an unset hyperparameter (WithDefaults sets every one its
// optimizer uses) and a value outside its range, naming the field.
absl::Status CheckHyperparameter(absl::string_view name, std::optional<float> value,
                                 bool (*in_range)(float), absl::string_view expected) {
  if (!value.has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat("spec.optimizer.%s is unset", name));
  }
  if (!in_range(*value)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.optimizer.%s is %g, expected %s", name, *value, expected));
  }
  return absl::OkStatus();
}

absl::Status ValidateOptimizer(const OptimizerSpec& optimizer) {
  if (!IsKnown(kOptimizerKindTable, optimizer.kind)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.optimizer.kind is unknown (%d)", static_cast<int>(optimizer.kind)));
  }
  if (!IsFinitePositive(optimizer.learning_rate)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spec.optimizer.learning_rate is %g, expected a finite value > 0",
                        optimizer.learning_rate));
  }
  if (optimizer.kind == OptimizerKind::kMomentum) {
    MLPD_RETURN_IF_ERROR(
        CheckHyperparameter("momentum", optimizer.momentum, InUnitInterval, "a value in [0, 1)"));
  }
  if (optimizer.kind == OptimizerKind::kAdam) {
    MLPD_RETURN_IF_ERROR(
        CheckHyperparameter("beta1", optimizer.beta1, InUnitInterval, "a value in [0, 1)"));
    MLPD_RETURN_IF_ERROR(
        CheckHyperparameter("beta2", optimizer.beta2, InUnitInterval, "a value in [0, 1)"));
    MLPD_RETURN_IF_ERROR(
        CheckHyperparameter("epsilon", optimizer.epsilon, IsFinitePositive, "a finite value > 0"));
  }
  return absl::OkStatus();
}

absl::Status ValidateInit(const InitSpec& init) {
  if (!IsKnown(kInitKindTable, init.kind)) {
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
  if (optimizer.kind == OptimizerKind::kMomentum) {
    if (!optimizer.momentum.has_value()) optimizer.momentum = kDefaultMomentum;
  } else {
    optimizer.momentum.reset();
  }
  if (optimizer.kind == OptimizerKind::kAdam) {
    if (!optimizer.beta1.has_value()) optimizer.beta1 = kDefaultBeta1;
    if (!optimizer.beta2.has_value()) optimizer.beta2 = kDefaultBeta2;
    if (!optimizer.epsilon.has_value()) optimizer.epsilon = kDefaultEpsilon;
  } else {
    optimizer.beta1.reset();
    optimizer.beta2.reset();
    optimizer.epsilon.reset();
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
  return NameOf(kActivationTable, activation);
}

absl::string_view LossKindName(LossKind kind) { return NameOf(kLossKindTable, kind); }

absl::string_view ReductionName(Reduction reduction) { return NameOf(kReductionTable, reduction); }

absl::string_view OptimizerKindName(OptimizerKind kind) {
  return NameOf(kOptimizerKindTable, kind);
}

absl::string_view InitKindName(InitKind kind) { return NameOf(kInitKindTable, kind); }

absl::StatusOr<Activation> ParseActivation(absl::string_view name) {
  return ParseName("activation", name, kActivationTable);
}

absl::StatusOr<LossKind> ParseLossKind(absl::string_view name) {
  return ParseName("loss", name, kLossKindTable);
}

absl::StatusOr<Reduction> ParseReduction(absl::string_view name) {
  return ParseName("reduction", name, kReductionTable);
}

absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name) {
  return ParseName("optimizer", name, kOptimizerKindTable);
}

absl::StatusOr<InitKind> ParseInitKind(absl::string_view name) {
  return ParseName("init", name, kInitKindTable);
}

std::string LayerSizesString(const ModelSpec& spec) {
  std::string sizes = absl::StrCat(spec.input_size);
  for (const LayerSpec& layer : spec.layers) absl::StrAppend(&sizes, "-", layer.units);
  return sizes;
}

}  // namespace mlpd
