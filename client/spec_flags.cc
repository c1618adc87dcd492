#include "client/spec_flags.h"

#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/model_spec.h"
#include "core/spec_enums.h"
#include "core/spec_proto.h"

namespace mlpd {
namespace {

absl::Status FlagError(absl::string_view flag, absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", value, "\" ", why));
}

// ParseInit reads "normal:STD", "uniform:A", "xavier" or "kaiming".
absl::StatusOr<InitSpec> ParseInit(const std::string& text, uint64_t seed) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 1));
  absl::StatusOr<InitKind> kind = ParseInitKind(absl::AsciiStrToLower(parts[0]));
  if (!kind.ok()) {
    return FlagError("init", text, "is not one of normal:STD, uniform:A, xavier, kaiming");
  }
  InitSpec init;
  init.kind = *kind;
  init.seed = seed;
  const bool scaled = *kind == InitKind::kNormal || *kind == InitKind::kUniform;
  if (scaled) {
    double scale = 0;
    if (parts.size() != 2 || !absl::SimpleAtod(parts[1], &scale) || !(scale > 0)) {
      return FlagError("init", text, "needs a positive scale, e.g. normal:1e-6 or uniform:0.1");
    }
    const std::string problem = Float32Problem(scale);
    if (!problem.empty()) {
      return FlagError("init", text, absl::StrCat("has a scale that ", problem));
    }
    init.scale = static_cast<float>(scale);
  } else if (parts.size() == 2) {
    return FlagError("init", text, "takes no scale (xavier and kaiming derive it from fan-in)");
  }
  return init;
}

// ParseFlagEnum reads the name of one of `table`'s values, in any case.
template <typename Core, typename Proto, size_t N>
absl::StatusOr<Core> ParseFlagEnum(absl::string_view flag, absl::string_view text,
                                   const EnumRow<Core, Proto> (&table)[N]) {
  std::optional<Core> value = CoreOfName(table, absl::AsciiStrToLower(text));
  if (!value.has_value()) {
    return FlagError(flag, text, absl::StrCat("is not one of ", JoinedNames(table)));
  }
  return *value;
}

// ParseLayers reads --layers and --activations into spec's input size and layers.
absl::Status ParseLayers(const SpecFlags& flags, ModelSpec* spec) {
  std::vector<int64_t> sizes;
  for (absl::string_view part : absl::StrSplit(flags.layers, ',')) {
    int64_t size = 0;
    if (!absl::SimpleAtoi(part, &size) || size < 1) {
      return FlagError("layers", flags.layers,
                       "must be positive integers: the input size then each layer's units, e.g. "
                       "784,50,10");
    }
    sizes.push_back(size);
  }
  if (sizes.size() < 2) {
    return FlagError("layers", flags.layers,
                     "needs the input size and at least one layer, e.g. 784,50,10");
  }
  spec->input_size = sizes[0];
  std::vector<std::string> activations =
      absl::StrSplit(flags.activations, ',', absl::SkipWhitespace());
  const size_t layer_count = sizes.size() - 1;
  if (activations.size() == 1) activations.resize(layer_count, activations[0]);
  if (activations.size() != layer_count) {
    return FlagError("activations", flags.activations,
                     absl::StrCat("names ", activations.size(), " activations, the ", layer_count,
                                  " layers of --layers need ", layer_count, " (",
                                  JoinedNames(kActivationTable), ")"));
  }
  for (size_t i = 0; i < layer_count; ++i) {
    absl::StatusOr<Activation> activation =
        ParseFlagEnum("activations", activations[i], kActivationTable);
    if (!activation.ok()) return activation.status();
    spec->layers.push_back(LayerSpec{sizes[i + 1], *activation});
  }
  return absl::OkStatus();
}

}  // namespace

std::string Float32Problem(double value) {
  // Compared before narrowing: casting a double beyond float's range is undefined behaviour.
  constexpr double kLargest = std::numeric_limits<float>::max();
  if (!(std::fabs(value) <= kLargest)) {
    return absl::StrFormat("is not finite as float32, expected a magnitude <= %g", kLargest);
  }
  if (value != 0 && static_cast<float>(value) == 0) {
    return absl::StrFormat("rounds to 0 as float32, expected 0 or a magnitude >= %g",
                           std::numeric_limits<float>::denorm_min());
  }
  return "";
}

absl::StatusOr<v1::ModelSpec> SpecFromFlags(const SpecFlags& flags) {
  ModelSpec spec;
  absl::Status layers = ParseLayers(flags, &spec);
  if (!layers.ok()) return layers;
  absl::StatusOr<LossKind> loss = ParseFlagEnum("loss", flags.loss, kLossKindTable);
  if (!loss.ok()) return loss.status();
  spec.loss.kind = *loss;
  if (!flags.reduction.empty()) {
    absl::StatusOr<Reduction> reduction =
        ParseFlagEnum("reduction", flags.reduction, kReductionTable);
    if (!reduction.ok()) return reduction.status();
    spec.loss.reduction = *reduction;
  }
  absl::StatusOr<OptimizerKind> optimizer =
      ParseFlagEnum("optimizer", flags.optimizer, kOptimizerKindTable);
  if (!optimizer.ok()) return optimizer.status();
  spec.optimizer.kind = *optimizer;
  // Checked on the values for callers that fill SpecFlags themselves; mlpctl has already
  // checked the typed text, so its errors quote "1e99" rather than 1e+99.
  const std::pair<const char*, std::optional<double>> float_flags[] = {{"lr", flags.learning_rate},
                                                                       {"momentum", flags.momentum},
                                                                       {"beta1", flags.beta1},
                                                                       {"beta2", flags.beta2},
                                                                       {"eps", flags.epsilon}};
  for (const auto& [flag, value] : float_flags) {
    if (!value.has_value()) continue;
    const std::string problem = Float32Problem(*value);
    if (!problem.empty()) return FlagError(flag, absl::StrCat(*value), problem);
  }
  spec.optimizer.learning_rate = static_cast<float>(flags.learning_rate);
  const auto as_float = [](std::optional<double> value) -> std::optional<float> {
    if (!value.has_value()) return std::nullopt;
    return static_cast<float>(*value);
  };
  spec.optimizer.momentum = as_float(flags.momentum);
  spec.optimizer.beta1 = as_float(flags.beta1);
  spec.optimizer.beta2 = as_float(flags.beta2);
  spec.optimizer.epsilon = as_float(flags.epsilon);
  absl::StatusOr<InitSpec> init = ParseInit(flags.init, flags.seed);
  if (!init.ok()) return init.status();
  spec.init = *init;
  // The server validates too; checking here names the flag instead of the proto field.
  absl::Status valid = ValidateModelSpec(WithDefaults(spec));
  if (!valid.ok()) return valid;
  v1::ModelSpec proto;
  SpecToProto(spec, &proto);
  return proto;
}

std::string SpecSummary(const v1::ModelSpec& proto) {
  absl::StatusOr<ModelSpec> spec = SpecFromProto(proto);
  if (!spec.ok()) return std::string(spec.status().message());
  std::vector<std::string> activations;
  for (const LayerSpec& layer : spec->layers) {
    activations.emplace_back(ActivationName(layer.activation));
  }
  std::string init(InitKindName(spec->init.kind));
  if (spec->init.kind == InitKind::kNormal || spec->init.kind == InitKind::kUniform) {
    absl::StrAppendFormat(&init, ":%g", spec->init.scale);
  }
  return absl::StrFormat("%s %s %s(%s) %s lr=%g init=%s seed=%d", LayerSizesString(*spec),
                         absl::StrJoin(activations, ","), LossKindName(spec->loss.kind),
                         ReductionName(spec->loss.reduction),
                         OptimizerKindName(spec->optimizer.kind), spec->optimizer.learning_rate,
                         init, spec->init.seed);
}

}  // namespace mlpd
