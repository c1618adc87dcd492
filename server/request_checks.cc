#include "server/request_checks.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/checkpoint.h"
#include "core/spec_proto.h"
#include "core/status_macros.h"
#include "server/names.h"

namespace mlpd {

absl::Status CheckInput(absl::string_view field, MatrixView x, const ModelSpec& spec) {
  if (x.cols != spec.input_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.shape[1] is %d, the session's input size is %d", field, x.cols, spec.input_size));
  }
  return absl::OkStatus();
}

absl::Status CheckBatch(absl::string_view field, const BatchView& batch, const ModelSpec& spec,
                        TargetUse use) {
  MLPD_RETURN_IF_ERROR(CheckInput(absl::StrCat(field, ".x"), batch.x, spec));
  return ValidateTargets(spec, batch.x.rows, batch.y, use, field);
}

absl::Status CheckDataset(absl::string_view field, absl::string_view dataset_name,
                          const Dataset& dataset, const ModelSpec& spec, TargetUse use) {
  MLPD_RETURN_IF_ERROR(CheckInput(absl::StrCat(field, ".x"), dataset.x.view(), spec));
  const absl::Status status = ValidateTargets(spec, dataset.x.rows, dataset.targets_view(), use);
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrFormat("%s \"%s\": %s", field, dataset_name, status.message()));
}

absl::Status CheckTrainOptions(const v1::TrainRequest& request) {
  if (request.epochs() < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("epochs is %d; expected >= 1", request.epochs()));
  }
  if (request.batch_size() < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "batch_size is %d; expected >= 1, or 0 for the full dataset", request.batch_size()));
  }
  if (request.report_every_steps() < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("report_every_steps is %d; expected >= 1, or 0 for once per epoch",
                        request.report_every_steps()));
  }
  if (request.eval_every_steps() < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("eval_every_steps is %d; expected >= 1, or 0 for at each report",
                        request.eval_every_steps()));
  }
  const v1::EarlyStopping& early = request.early_stopping();
  if (early.patience() < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("early_stopping.patience is %d; expected >= 1, or 0 for no early stopping",
                        early.patience()));
  }
  if (!(early.min_delta() >= 0) || !std::isfinite(early.min_delta())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "early_stopping.min_delta is %g; expected a finite value >= 0", early.min_delta()));
  }
  if (request.eval_dataset().empty()) {
    const char* needs = request.eval_every_steps() > 0 ? "eval_every_steps"
                        : early.patience() > 0         ? "early_stopping"
                        : request.keep_best()          ? "keep_best"
                                                       : nullptr;
    if (needs != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s needs an eval_dataset to evaluate on; eval_dataset is empty", needs));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTrainLength(const v1::TrainRequest& request, int64_t rows) {
  const int64_t steps_per_epoch = BatchIterator::BatchesPerEpoch(rows, request.batch_size());
  if (request.epochs() > kMaxTrainSteps / steps_per_epoch) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "epochs is %d; at %d steps per epoch that is over %d steps, expected at most %d epochs",
        request.epochs(), steps_per_epoch, kMaxTrainSteps, kMaxTrainSteps / steps_per_epoch));
  }
  return absl::OkStatus();
}

absl::Status CheckSessionSize(const ModelSpec& spec, int64_t max_parameters) {
  const int64_t parameters = ParameterCount(spec);
  if (parameters > max_parameters) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("spec has %d parameters; the limit --max-session-params is %d", parameters,
                        max_parameters));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelSpec> ParseCreate(const v1::CreateSessionRequest& request) {
  if (!request.has_spec()) return absl::InvalidArgumentError("spec is missing");
  MLPD_ASSIGN_OR_RETURN(ModelSpec spec, SpecFromProto(request.spec()));
  MLPD_RETURN_IF_ERROR(ValidateModelSpec(spec));
  return spec;
}

absl::Status CheckImportFormat(v1::ExportFormat format) {
  if (format != v1::EXPORT_FORMAT_NATIVE) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "format is %s; ImportSession takes EXPORT_FORMAT_NATIVE only", FormatName(format)));
  }
  return absl::OkStatus();
}

int64_t ImportBytesLimit(int64_t max_session_params) {
  constexpr int64_t kFloatsPerParameter = 3;  // The parameter, Adam's two moments.
  return max_session_params * kFloatsPerParameter * 4 + (int64_t{1} << 20);
}

absl::Status CheckImportBytes(absl::string_view field, int64_t bytes, int64_t max_bytes) {
  if (bytes < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s is %d bytes", field, bytes));
  }
  if (bytes > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s is %d bytes; the largest export the limit --max-session-params allows is %d bytes",
        field, bytes, max_bytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelSpec> ParseImport(const std::string& data, v1::Checkpoint* checkpoint) {
  if (data.empty() || !checkpoint->ParseFromString(data)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("data (%d bytes) is not a serialized mlpd.v1.Checkpoint", data.size()));
  }
  if (!checkpoint->has_spec()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "data (%d bytes) parses but holds no spec: it is not an mlpd.v1.Checkpoint of a "
        "session",
        data.size()));
  }
  MLPD_RETURN_IF_ERROR(CheckCheckpointVersion(checkpoint->format_version(), "data.format_version"));
  MLPD_ASSIGN_OR_RETURN(ModelSpec spec, SpecFromProto(checkpoint->spec()));
  MLPD_RETURN_IF_ERROR(ValidateModelSpec(spec));
  return spec;
}

absl::Status CheckExportFormat(v1::ExportFormat format) {
  if (format != v1::EXPORT_FORMAT_NATIVE && format != v1::EXPORT_FORMAT_ONNX) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "format is %s; expected EXPORT_FORMAT_NATIVE or EXPORT_FORMAT_ONNX", FormatName(format)));
  }
  return absl::OkStatus();
}

absl::Status CheckAnswerSize(int64_t rows, const ModelSpec& spec, int64_t max_message_bytes) {
  // Each row costs its outputs as floats plus up to 5 bytes of class.
  const int64_t answer_bytes = rows * (spec.output_size() * 4 + 5);
  if (answer_bytes > max_message_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the outputs of %d rows take about %d bytes, over the limit --max-message-mb of "
        "%d MiB; send fewer rows per call",
        rows, answer_bytes, max_message_bytes >> 20));
  }
  return absl::OkStatus();
}

absl::Status CheckActivationMemory(int64_t rows, const ModelSpec& spec, bool training,
                                   int64_t max_bytes) {
  const int64_t per_row = ActivationBytesPerRow(spec, training);
  if (max_bytes > 0 && rows > max_bytes / per_row) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s of %d rows needs %d MiB of activations (%d bytes a row for layers %s), more than "
        "--max-call-activation-mb %d; send at most %d rows",
        training ? "a training step" : "a call", rows, (rows * per_row) >> 20, per_row,
        LayerSizesString(spec), max_bytes >> 20, max_bytes / per_row));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ChunkRows(const ModelSpec& spec, int64_t preferred, int64_t max_bytes) {
  if (max_bytes == 0) return preferred;
  MLPD_RETURN_IF_ERROR(CheckActivationMemory(1, spec, /*training=*/false, max_bytes));
  return std::min(preferred, max_bytes / ActivationBytesPerRow(spec, /*training=*/false));
}

absl::Status CheckFirstChunk(const v1::UploadDatasetRequest& chunk) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", chunk.name()));
  if (chunk.total_rows() < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "total_rows is %d; expected the rows of the whole stream, or 0 when not known",
        chunk.total_rows()));
  }
  return absl::OkStatus();
}

absl::Status CheckChunkName(int64_t index, const v1::UploadDatasetRequest& chunk,
                            absl::string_view name) {
  if (!chunk.name().empty() && chunk.name() != name) {
    return absl::InvalidArgumentError(
        absl::StrFormat("chunk %d: name is \"%s\"; the first chunk named the dataset \"%s\"", index,
                        chunk.name(), name));
  }
  return absl::OkStatus();
}

absl::Status CheckChunkShape(absl::string_view field, const BatchView& rows, const Dataset& data) {
  if (rows.x.cols != data.x.cols) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.x.shape[1] is %d; earlier chunks have %d columns", field, rows.x.cols, data.x.cols));
  }
  if (rows.y.has_labels() != data.has_labels) {
    return absl::InvalidArgumentError(absl::StrFormat("%s has %s; earlier chunks have %s", field,
                                                      rows.y.has_labels() ? "labels" : "targets",
                                                      data.has_labels ? "labels" : "targets"));
  }
  if (!data.has_labels && rows.y.values.cols != data.targets.cols) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s.targets.shape[1] is %d; earlier chunks have %d columns", field,
                        rows.y.values.cols, data.targets.cols));
  }
  return absl::OkStatus();
}

std::string FormatName(v1::ExportFormat format) {
  const std::string& name = v1::ExportFormat_Name(format);
  return name.empty() ? absl::StrCat(static_cast<int>(format)) : name;
}

std::optional<int64_t> ExpectedStep(const v1::TrainStepRequest& request) {
  if (!request.has_expected_step()) return std::nullopt;
  return request.expected_step();
}

absl::Status CheckExpectedStep(std::optional<int64_t> expected_step, int64_t step_count) {
  if (!expected_step.has_value() || *expected_step == step_count) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrFormat("expected_step is %d, the session's step count is %d; nothing was applied",
                      *expected_step, step_count));
}

}  // namespace mlpd
