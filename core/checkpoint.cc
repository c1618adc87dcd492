#include "core/checkpoint.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/finite.h"
#include "core/spec_proto.h"
#include "core/status_macros.h"
#include "google/protobuf/unknown_field_set.h"

namespace mlpd {
namespace {

// CopyInto fills a packed repeated field with one memcpy into uninitialised space: a
// 784-256-256-10 Adam model has 800k values, and element-wise Add() or a zero-filling Resize()
// would dominate the snapshot time.
void CopyInto(const std::vector<float>& values, google::protobuf::RepeatedField<float>* field) {
  field->Clear();
  field->Reserve(static_cast<int>(values.size()));
  float* destination = field->AddNAlreadyReserved(static_cast<int>(values.size()));
  if (!values.empty()) std::memcpy(destination, values.data(), values.size() * sizeof(float));
}

// CheckFinite rejects NaN and infinity: a model never applies a non-finite step, so such a
// value means the checkpoint was damaged or forged.
absl::Status CheckFinite(absl::string_view field,
                         const google::protobuf::RepeatedField<float>& values) {
  return CheckAllFinite(absl::StrCat("checkpoint.", field), values.data(), values.size(),
                        /*cols=*/0);
}

// kVersion1LastLossField is version 1's `float last_loss = 7`, reserved in version 2: a version
// 1 file keeps it among the message's unknown fields.
constexpr int kVersion1LastLossField = 7;

// Version1LastLoss is the float a version 1 checkpoint stored in field 7, or 0 when absent
// (version 1 wrote nothing for 0, its value before the first step and for a zero loss).
float Version1LastLoss(const v1::Checkpoint& checkpoint) {
  const google::protobuf::UnknownFieldSet& unknown =
      checkpoint.GetReflection()->GetUnknownFields(checkpoint);
  float loss = 0.0f;
  for (int i = 0; i < unknown.field_count(); ++i) {
    const google::protobuf::UnknownField& field = unknown.field(i);
    if (field.number() == kVersion1LastLossField &&
        field.type() == google::protobuf::UnknownField::TYPE_FIXED32) {
      const uint32_t bits = field.fixed32();
      std::memcpy(&loss, &bits, sizeof(loss));
    }
  }
  return loss;
}

// LastLoss is the loss of the checkpoint's last step (0 before the first), checked finite; in
// version 2 it must be present exactly when step_count > 0.
absl::StatusOr<float> LastLoss(const v1::Checkpoint& checkpoint) {
  float loss = 0.0f;
  if (checkpoint.format_version() == kCheckpointFormatVersion1) {
    loss = Version1LastLoss(checkpoint);
  } else if (checkpoint.has_last_loss() != (checkpoint.step_count() > 0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint.last_loss is %s with step_count %d; it is set exactly when step_count > 0",
        checkpoint.has_last_loss() ? "set" : "unset", checkpoint.step_count()));
  } else {
    loss = static_cast<float>(checkpoint.last_loss());
  }
  if (!std::isfinite(loss)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint.last_loss is %f, expected a finite float", loss));
  }
  return loss;
}

}  // namespace

absl::Status CheckCheckpointVersion(uint32_t version, absl::string_view field) {
  if (version == kCheckpointFormatVersion || version == kCheckpointFormatVersion1) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat("%s is %d, this build reads versions %d and %d",
                                                    field, version, kCheckpointFormatVersion1,
                                                    kCheckpointFormatVersion));
}

absl::StatusOr<v1::Checkpoint> MakeCheckpoint(const Model& model) {
  v1::Checkpoint checkpoint;
  checkpoint.set_format_version(kCheckpointFormatVersion);
  SpecToProto(model.spec(), checkpoint.mutable_spec());
  const std::vector<float> parameters = model.GetParameters();
  if (static_cast<int64_t>(parameters.size()) != model.parameter_count()) {
    return absl::InternalError(absl::StrFormat("the model returned %d parameters, expected %d",
                                               parameters.size(), model.parameter_count()));
  }
  CopyInto(parameters, checkpoint.mutable_parameters());
  const std::vector<float> state = model.GetOptimizerState();
  if (static_cast<int64_t>(state.size()) != model.optimizer_state_size()) {
    return absl::InternalError(
        absl::StrFormat("the model returned %d optimizer state values, "
                        "expected %d",
                        state.size(), model.optimizer_state_size()));
  }
  CopyInto(state, checkpoint.mutable_optimizer_state());
  checkpoint.set_step_count(model.step_count());
  checkpoint.set_samples_seen(model.samples_seen());
  if (model.step_count() > 0) checkpoint.set_last_loss(model.last_loss());
  return checkpoint;
}

absl::StatusOr<std::unique_ptr<Model>> RestoreCheckpoint(const v1::Checkpoint& checkpoint) {
  MLPD_RETURN_IF_ERROR(
      CheckCheckpointVersion(checkpoint.format_version(), "checkpoint.format_version"));
  MLPD_ASSIGN_OR_RETURN(const ModelSpec spec, SpecFromProto(checkpoint.spec()));
  MLPD_RETURN_IF_ERROR(ValidateModelSpec(spec));
  // Sizes are checked before the model is built so a forged checkpoint cannot make the
  // server allocate a huge model only to reject it.
  const int64_t parameter_count = ParameterCount(spec);
  if (checkpoint.parameters_size() != parameter_count) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint.parameters has %d values, the spec's layers %s need %d",
                        checkpoint.parameters_size(), LayerSizesString(spec), parameter_count));
  }
  // The model's own bound (model.h): training stops at it, so what it saves restores.
  if (checkpoint.step_count() < 0 || checkpoint.step_count() > kMaxCounter) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint.step_count is %d, expected 0 to %d", checkpoint.step_count(), kMaxCounter));
  }
  if (checkpoint.samples_seen() < 0 || checkpoint.samples_seen() > kMaxCounter) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint.samples_seen is %d, expected 0 to %d", checkpoint.samples_seen(), kMaxCounter));
  }
  MLPD_ASSIGN_OR_RETURN(const float last_loss, LastLoss(checkpoint));
  MLPD_RETURN_IF_ERROR(CheckFinite("parameters", checkpoint.parameters()));
  MLPD_RETURN_IF_ERROR(CheckFinite("optimizer_state", checkpoint.optimizer_state()));

  MLPD_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(spec));
  if (checkpoint.optimizer_state_size() != model->optimizer_state_size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint.optimizer_state has %d values, the %s optimizer over %d parameters needs %d",
        checkpoint.optimizer_state_size(), OptimizerKindName(spec.optimizer.kind), parameter_count,
        model->optimizer_state_size()));
  }
  MLPD_RETURN_IF_ERROR(model->SetParameters(
      absl::MakeConstSpan(checkpoint.parameters().data(), checkpoint.parameters_size())));
  MLPD_RETURN_IF_ERROR(model->SetOptimizerState(
      absl::MakeConstSpan(checkpoint.optimizer_state().data(), checkpoint.optimizer_state_size())));
  model->SetCounters(checkpoint.step_count(), checkpoint.samples_seen(), last_loss);
  return model;
}

}  // namespace mlpd
