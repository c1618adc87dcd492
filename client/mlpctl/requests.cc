#include "client/mlpctl/requests.h"

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
  return request;
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
  if (lower == "native") return v1::NATIVE;
  if (lower == "onnx") return v1::ONNX;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: \"", text, "\" is not one of native, onnx"));
}

}  // namespace mlpd::mlpctl
