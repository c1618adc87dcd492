#include "core/spec_proto.h"

#include <string>

#include "absl/strings/str_format.h"

namespace mlpd {
namespace {

// Each converter rejects the proto's UNSPECIFIED value and any number this build does not know
// (a newer client may send one), naming the field.
absl::Status Unspecified(absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrFormat("%s is unspecified", field));
}

absl::Status UnknownValue(absl::string_view field, int value) {
  return absl::InvalidArgumentError(absl::StrFormat("%s has unknown value %d", field, value));
}

absl::StatusOr<Activation> ActivationFromProto(v1::Activation activation, absl::string_view field) {
  switch (activation) {
    case v1::IDENTITY:
      return Activation::kIdentity;
    case v1::RELU:
      return Activation::kRelu;
    case v1::TANH:
      return Activation::kTanh;
    case v1::SIGMOID:
      return Activation::kSigmoid;
    case v1::ACTIVATION_UNSPECIFIED:
      return Unspecified(field);
    default:
      return UnknownValue(field, activation);
  }
}

v1::Activation ActivationToProto(Activation activation) {
  switch (activation) {
    case Activation::kIdentity:
      return v1::IDENTITY;
    case Activation::kRelu:
      return v1::RELU;
    case Activation::kTanh:
      return v1::TANH;
    case Activation::kSigmoid:
      return v1::SIGMOID;
  }
  return v1::ACTIVATION_UNSPECIFIED;
}

absl::StatusOr<LossKind> LossKindFromProto(v1::LossKind kind) {
  switch (kind) {
    case v1::MSE:
      return LossKind::kMse;
    case v1::CROSS_ENTROPY:
      return LossKind::kCrossEntropy;
    case v1::LOGISTIC:
      return LossKind::kLogistic;
    case v1::LOSS_UNSPECIFIED:
      return Unspecified("spec.loss.kind");
    default:
      return UnknownValue("spec.loss.kind", kind);
  }
}

v1::LossKind LossKindToProto(LossKind kind) {
  switch (kind) {
    case LossKind::kMse:
      return v1::MSE;
    case LossKind::kCrossEntropy:
      return v1::CROSS_ENTROPY;
    case LossKind::kLogistic:
      return v1::LOGISTIC;
  }
  return v1::LOSS_UNSPECIFIED;
}

absl::StatusOr<Reduction> ReductionFromProto(v1::Reduction reduction) {
  switch (reduction) {
    case v1::REDUCTION_UNSPECIFIED:  // Documented as MEAN.
    case v1::MEAN:
      return Reduction::kMean;
    case v1::SUM:
      return Reduction::kSum;
    default:
      return UnknownValue("spec.loss.reduction", reduction);
  }
}

absl::StatusOr<OptimizerKind> OptimizerKindFromProto(v1::OptimizerKind kind) {
  switch (kind) {
    case v1::SGD:
      return OptimizerKind::kSgd;
    case v1::MOMENTUM:
      return OptimizerKind::kMomentum;
    case v1::ADAM:
      return OptimizerKind::kAdam;
    case v1::OPTIMIZER_UNSPECIFIED:
      return Unspecified("spec.optimizer.kind");
    default:
      return UnknownValue("spec.optimizer.kind", kind);
  }
}

v1::OptimizerKind OptimizerKindToProto(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return v1::SGD;
    case OptimizerKind::kMomentum:
      return v1::MOMENTUM;
    case OptimizerKind::kAdam:
      return v1::ADAM;
  }
  return v1::OPTIMIZER_UNSPECIFIED;
}

absl::StatusOr<InitKind> InitKindFromProto(v1::InitKind kind) {
  switch (kind) {
    case v1::NORMAL:
      return InitKind::kNormal;
    case v1::UNIFORM:
      return InitKind::kUniform;
    case v1::XAVIER:
      return InitKind::kXavier;
    case v1::KAIMING:
      return InitKind::kKaiming;
    case v1::INIT_UNSPECIFIED:
      return Unspecified("spec.init.kind");
    default:
      return UnknownValue("spec.init.kind", kind);
  }
}

v1::InitKind InitKindToProto(InitKind kind) {
  switch (kind) {
    case InitKind::kNormal:
      return v1::NORMAL;
    case InitKind::kUniform:
      return v1::UNIFORM;
    case InitKind::kXavier:
      return v1::XAVIER;
    case InitKind::kKaiming:
      return v1::KAIMING;
  }
  return v1::INIT_UNSPECIFIED;
}

}  // namespace

absl::StatusOr<ModelSpec> SpecFromProto(const v1::ModelSpec& proto) {
  ModelSpec spec;
  spec.input_size = proto.input_size();
  spec.layers.reserve(proto.layers_size());
  for (int l = 0; l < proto.layers_size(); ++l) {
    const v1::LayerSpec& layer = proto.layers(l);
    const std::string field = absl::StrFormat("spec.layers[%d].activation", l);
    absl::StatusOr<Activation> activation = ActivationFromProto(layer.activation(), field);
    if (!activation.ok()) return activation.status();
    spec.layers.push_back(LayerSpec{layer.units(), *activation});
  }

  absl::StatusOr<LossKind> loss_kind = LossKindFromProto(proto.loss().kind());
  if (!loss_kind.ok()) return loss_kind.status();
  absl::StatusOr<Reduction> reduction = ReductionFromProto(proto.loss().reduction());
  if (!reduction.ok()) return reduction.status();
  spec.loss = LossSpec{*loss_kind, *reduction};

  const v1::OptimizerSpec& optimizer = proto.optimizer();
  absl::StatusOr<OptimizerKind> optimizer_kind = OptimizerKindFromProto(optimizer.kind());
  if (!optimizer_kind.ok()) return optimizer_kind.status();
  spec.optimizer.kind = *optimizer_kind;
  spec.optimizer.learning_rate = optimizer.learning_rate();
  spec.optimizer.momentum = optimizer.momentum();
  spec.optimizer.beta1 = optimizer.beta1();
  spec.optimizer.beta2 = optimizer.beta2();
  spec.optimizer.epsilon = optimizer.epsilon();

  absl::StatusOr<InitKind> init_kind = InitKindFromProto(proto.init().kind());
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
    out->set_activation(ActivationToProto(layer.activation));
  }
  proto->mutable_loss()->set_kind(LossKindToProto(spec.loss.kind));
  proto->mutable_loss()->set_reduction(spec.loss.reduction == Reduction::kSum ? v1::SUM : v1::MEAN);
  v1::OptimizerSpec* optimizer = proto->mutable_optimizer();
  optimizer->set_kind(OptimizerKindToProto(spec.optimizer.kind));
  optimizer->set_learning_rate(spec.optimizer.learning_rate);
  optimizer->set_momentum(spec.optimizer.momentum);
  optimizer->set_beta1(spec.optimizer.beta1);
  optimizer->set_beta2(spec.optimizer.beta2);
  optimizer->set_epsilon(spec.optimizer.epsilon);
  v1::InitSpec* init = proto->mutable_init();
  init->set_kind(InitKindToProto(spec.init.kind));
  init->set_scale(spec.init.scale);
  init->set_seed(spec.init.seed);
}

}  // namespace mlpd
