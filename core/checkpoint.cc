#include "core/checkpoint.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/finite.h"
#include "core/spec_proto.h"
#include "core/status_macros.h"

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

}  // namespace

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
  checkpoint.set_last_loss(model.last_loss());
  return checkpoint;
}

absl::StatusOr<std::unique_ptr<Model>> RestoreCheckpoint(const v1::Checkpoint& checkpoint) {
  if (checkpoint.format_version() != kCheckpointFormatVersion) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint.format_version is %d, this build reads %d",
                        checkpoint.format_version(), kCheckpointFormatVersion));
  }
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
  if (!std::isfinite(checkpoint.last_loss())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint.last_loss is %f, expected a finite value", checkpoint.last_loss()));
  }
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
  model->SetCounters(checkpoint.step_count(), checkpoint.samples_seen(), checkpoint.last_loss());
  return model;
}

}  // namespace mlpd
