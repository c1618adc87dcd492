#include "client/mlpctl/requests.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/batch_proto.h"

namespace mlpd::mlpctl {

absl::StatusOr<v1::TrainRequest> TrainRequestFromFlags(const TrainFlags& flags) {
  v1::TrainRequest request;
  request.set_name(flags.name);
  request.set_dataset(flags.dataset);
  request.set_epochs(flags.epochs);
  if (flags.batch_size != "full") {
    int64_t rows = 0;
    if (!absl::SimpleAtoi(flags.batch_size, &rows) || rows < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--batch-size: \"", flags.batch_size, "\" is neither a positive integer nor 'full'"));
    }
    request.set_batch_size(rows);
  }
  request.set_shuffle(flags.shuffle);
  request.set_seed(flags.seed);
  request.set_eval_dataset(flags.eval_dataset);
  request.set_report_every_steps(flags.report_every);
  // Each option that decides from evaluations names the flag it lacks, as the server would
  // only name the request field.
  if (flags.eval_dataset.empty()) {
    for (const auto& [given, flag] :
         {std::pair{flags.eval_every > 0, "--eval-every"},
          std::pair{flags.patience > 0, "--patience"}, std::pair{flags.keep_best, "--keep-best"}}) {
      if (given) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, " needs --eval, the dataset whose loss it decides from"));
      }
    }
  }
  if (!std::isfinite(flags.min_delta) || flags.min_delta < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--min-delta is ", flags.min_delta, ", expected a finite number >= 0"));
  }
  if (flags.min_delta > 0 && flags.patience == 0) {
    return absl::InvalidArgumentError("--min-delta needs --patience (early stopping is off)");
  }
  request.set_eval_every_steps(flags.eval_every);
  if (flags.patience > 0) {
    request.mutable_early_stopping()->set_patience(flags.patience);
    request.mutable_early_stopping()->set_min_delta(flags.min_delta);
  }
  request.set_keep_best(flags.keep_best);
  return request;
}

absl::StatusOr<v1::JobState> ParseJobState(const std::string& text) {
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  const std::string upper = absl::AsciiStrToUpper(text);
  if (upper.empty() || upper == "UNSPECIFIED" ||
      !v1::JobState_Parse(absl::StrCat("JOB_STATE_", upper), &state)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--state: \"", text, "\" is not one of queued, running, succeeded, failed, cancelled"));
  }
  return state;
}

CallOptions UploadCallOptions(const GlobalFlags& global, const std::string& routing_session,
                              int64_t payload_bytes) {
  CallOptions call;
  call.routing_session = routing_session;
  call.timeout = absl::Seconds(global.timeout_seconds) +
                 absl::Seconds(static_cast<double>(payload_bytes) / (10 << 20));
  return call;
}

v1::Batch BatchOfAllRows(const Dataset& dataset) {
  v1::Batch batch;
  DatasetRowsToBatch(dataset, 0, dataset.rows(), &batch);
  return batch;
}

absl::StatusOr<v1::ExportFormat> ParseExportFormat(const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "native") return v1::EXPORT_FORMAT_NATIVE;
  if (lower == "onnx") return v1::EXPORT_FORMAT_ONNX;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: \"", text, "\" is not one of native, onnx"));
}

}  // namespace mlpd::mlpctl
