#include "core/spec_proto.h"

#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "core/spec_enums.h"

namespace mlpd {
namespace {

// FromProto converts an API enum value by its table. It rejects the proto's UNSPECIFIED value
// (unless `unspecified_means` gives its documented meaning) and any number this build does not
// know (a newer client may send one), naming the field.
template <typename Core, typename Proto, size_t N>
absl::StatusOr<Core> FromProto(const EnumRow<Core, Proto> (&table)[N], Proto value,
                               absl::string_view field,
                               std::optional<Core> unspecified_means = std::nullopt) {
  std::optional<Core> converted = CoreOfProto(table, value);
  if (converted.has_value()) return *converted;
  if (static_cast<int>(value) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s has unknown value %d", field, static_cast<int>(value)));
  }
  if (unspecified_means.has_value()) return *unspecified_means;
  return absl::InvalidArgumentError(absl::StrFormat("%s is unspecified", field));
}

}  // namespace

absl::StatusOr<ModelSpec> SpecFromProto(const v1::ModelSpec& proto) {
  ModelSpec spec;
  spec.input_size = proto.input_size();
  spec.layers.reserve(proto.layers_size());
  for (int l = 0; l < proto.layers_size(); ++l) {
    const v1::LayerSpec& layer = proto.layers(l);
    const std::string field = absl::StrFormat("spec.layers[%d].activation", l);
    absl::StatusOr<Activation> activation = FromProto(kActivationTable, layer.activation(), field);
    if (!activation.ok()) return activation.status();
    spec.layers.push_back(LayerSpec{layer.units(), *activation});
  }

  absl::StatusOr<LossKind> loss_kind =
      FromProto(kLossKindTable, proto.loss().kind(), "spec.loss.kind");
  if (!loss_kind.ok()) return loss_kind.status();
  // An unspecified reduction is documented as MEAN.
  absl::StatusOr<Reduction> reduction =
      FromProto(kReductionTable, proto.loss().reduction(), "spec.loss.reduction",
                std::optional<Reduction>(Reduction::kMean));
  if (!reduction.ok()) return reduction.status();
  spec.loss = LossSpec{*loss_kind, *reduction};

  const v1::OptimizerSpec& optimizer = proto.optimizer();
  absl::StatusOr<OptimizerKind> optimizer_kind =
      FromProto(kOptimizerKindTable, optimizer.kind(), "spec.optimizer.kind");
  if (!optimizer_kind.ok()) return optimizer_kind.status();
  spec.optimizer.kind = *optimizer_kind;
  spec.optimizer.learning_rate = optimizer.learning_rate();
  if (optimizer.has_momentum()) spec.optimizer.momentum = optimizer.momentum();
  if (optimizer.has_beta1()) spec.optimizer.beta1 = optimizer.beta1();
  if (optimizer.has_beta2()) spec.optimizer.beta2 = optimizer.beta2();
  if (optimizer.has_epsilon()) spec.optimizer.epsilon = optimizer.epsilon();

  absl::StatusOr<InitKind> init_kind =
      FromProto(kInitKindTable, proto.init().kind(), "spec.init.kind");
  if (!init_kind.ok()) return init_kind.status();
  spec.init = InitSpec{*init_kind, proto.init().scale(), proto.init().seed()};
  return WithDefaults(std::move(spec));
}

void SpecToProto(const ModelSpec& spec, v1::ModelSpec* proto) {
  proto->Clear();
  proto->set_input_size(spec.input_size);
  for (const LayerSpec& layer : spec.layers) {
    v1::LayerSpec* out = proto->add_layers();
    out->set_units(layer.units);
    out->set_activation(ProtoOf(kActivationTable, layer.activation));
  }
  proto->mutable_loss()->set_kind(ProtoOf(kLossKindTable, spec.loss.kind));
  proto->mutable_loss()->set_reduction(ProtoOf(kReductionTable, spec.loss.reduction));
  v1::OptimizerSpec* optimizer = proto->mutable_optimizer();
  optimizer->set_kind(ProtoOf(kOptimizerKindTable, spec.optimizer.kind));
  optimizer->set_learning_rate(spec.optimizer.learning_rate);
  if (spec.optimizer.momentum.has_value()) optimizer->set_momentum(*spec.optimizer.momentum);
  if (spec.optimizer.beta1.has_value()) optimizer->set_beta1(*spec.optimizer.beta1);
  if (spec.optimizer.beta2.has_value()) optimizer->set_beta2(*spec.optimizer.beta2);
  if (spec.optimizer.epsilon.has_value()) optimizer->set_epsilon(*spec.optimizer.epsilon);
  v1::InitSpec* init = proto->mutable_init();
  init->set_kind(ProtoOf(kInitKindTable, spec.init.kind));
  init->set_scale(spec.init.scale);
  init->set_seed(spec.init.seed);
}

}  // namespace mlpd
