// request_checks.h: the checks of requests that need no server: each one takes the parsed
// request (and the session's spec where the answer depends on it) and returns OK or the error
// the client gets, naming the field, the expected and the received value.
//
// Handlers call them before queueing work, or on the executor once the session is known; they
// never touch a session. They are unit-tested alone (tests/server/request_checks_test.cc).
//
//   MLPD_RETURN_IF_ERROR(CheckBatch("batch", batch, session.spec, TargetUse::kTraining));
//   MLPD_RETURN_IF_ERROR(CheckTrainOptions(*request));
#ifndef MLPD_SERVER_REQUEST_CHECKS_H_
#define MLPD_SERVER_REQUEST_CHECKS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/model_spec.h"
#include "core/tensor.h"
#include "mlpd/v1/mlpd.pb.h"
#include "mlpd/v1/model.pb.h"
#include "server/wire.h"

namespace mlpd {

// kMaxTrainSteps bounds one Train call by the model's counter bound (kMaxCounter), which each
// step also meets: far beyond any real run.
inline constexpr int64_t kMaxTrainSteps = kMaxCounter;

// CheckInput compares a batch's columns with the session's input size, so the message names the
// session's expectation rather than the engine's.
absl::Status CheckInput(absl::string_view field, MatrixView x, const ModelSpec& spec);

// CheckBatch checks x and the targets or labels of `batch` against the session's spec.
absl::Status CheckBatch(absl::string_view field, const BatchView& batch, const ModelSpec& spec,
                        TargetUse use);

// CheckDataset checks a dataset's columns and, by the engine's target rule, every row of its
// targets; a refusal of a target names the dataset and the row within it.
absl::Status CheckDataset(absl::string_view field, absl::string_view dataset_name,
                          const Dataset& dataset, const ModelSpec& spec, TargetUse use);

// CheckTrainOptions checks a Train call's epochs, batch_size and report_every_steps.
absl::Status CheckTrainOptions(const v1::TrainRequest& request);

// CheckTrainLength refuses a Train call of more than kMaxTrainSteps steps over `rows` rows.
absl::Status CheckTrainLength(const v1::TrainRequest& request, int64_t rows);

// CheckSessionSize answers RESOURCE_EXHAUSTED above `max_parameters` (--max-session-params).
absl::Status CheckSessionSize(const ModelSpec& spec, int64_t max_parameters);

// ParseCreate returns the validated spec of a CreateSession call (not its name or its size).
absl::StatusOr<ModelSpec> ParseCreate(const v1::CreateSessionRequest& request);

// CheckImportFormat accepts EXPORT_FORMAT_NATIVE, the one format ImportSession reads.
absl::Status CheckImportFormat(v1::ExportFormat format);

// ImportBytesLimit is the largest NATIVE export a session of `max_session_params` parameters
// can have: the parameters and two optimizer slots (Adam) of 4 bytes each, plus 1 MiB for the
// spec, the counters and the fields' headers.
int64_t ImportBytesLimit(int64_t max_session_params);

// CheckImportBytes refuses a negative `bytes` (INVALID_ARGUMENT) and more than `max_bytes`
// (RESOURCE_EXHAUSTED, naming --max-session-params); `field` names what was counted.
absl::Status CheckImportBytes(absl::string_view field, int64_t bytes, int64_t max_bytes);

// ParseImport parses an ImportSession stream's data (a NATIVE export) into `checkpoint` and
// returns its validated spec (not the name or the size).
absl::StatusOr<ModelSpec> ParseImport(const std::string& data, v1::Checkpoint* checkpoint);

// CheckExportFormat accepts NATIVE and ONNX.
absl::Status CheckExportFormat(v1::ExportFormat format);

// CheckAnswerSize refuses a Predict whose answer for `rows` rows would pass `max_message_bytes`
// (--max-message-mb): gRPC would refuse it only after the work, and without naming the flag.
absl::Status CheckAnswerSize(int64_t rows, const ModelSpec& spec, int64_t max_message_bytes);

// CheckActivationMemory refuses a call of `rows` rows whose activations (ActivationBytesPerRow)
// would pass `max_bytes` (--max-call-activation-mb; 0: no bound) with RESOURCE_EXHAUSTED.
absl::Status CheckActivationMemory(int64_t rows, const ModelSpec& spec, bool training,
                                   int64_t max_bytes);

// ChunkRows is how many rows one forward pass of Predict or Evaluate may take: `preferred`, or
// fewer so their activations fit `max_bytes` (0: no bound); RESOURCE_EXHAUSTED when not even
// one row fits.
absl::StatusOr<int64_t> ChunkRows(const ModelSpec& spec, int64_t preferred, int64_t max_bytes);

// CheckFirstChunk checks the name and total_rows of an upload's first chunk.
absl::Status CheckFirstChunk(const v1::UploadDatasetRequest& chunk);

// CheckChunkName checks that chunk number `index` (> 0) names the dataset `name`, or nothing.
absl::Status CheckChunkName(int64_t index, const v1::UploadDatasetRequest& chunk,
                            absl::string_view name);

// CheckChunkShape checks that a later chunk's `rows` continue the dataset `data` holds so far:
// same columns, same kind of targets. `field` names the chunk's rows.
absl::Status CheckChunkShape(absl::string_view field, const BatchView& rows, const Dataset& data);

// FormatName is the enum's name, or its number when it has none (a newer or a bad client).
std::string FormatName(v1::ExportFormat format);

// ExpectedStep is TrainStepRequest.expected_step when set.
std::optional<int64_t> ExpectedStep(const v1::TrainStepRequest& request);

// CheckExpectedStep is ABORTED naming both counts when `expected_step` is set and differs from
// the session's `step_count`; the step must then apply nothing.
absl::Status CheckExpectedStep(std::optional<int64_t> expected_step, int64_t step_count);

}  // namespace mlpd

#endif  // MLPD_SERVER_REQUEST_CHECKS_H_
