// requests.h: the requests and call options mlpctl's commands build from their flags.
//
// Kept apart from the commands (which print and exit) so each rule is a function a test can
// call: what a train request holds, how long an upload may take, which export formats exist.
//
//   TrainFlags flags;
//   flags.name = "practical";
//   flags.dataset = "train";
//   flags.batch_size = "32";
//   absl::StatusOr<v1::TrainRequest> request = TrainRequestFromFlags(flags);
#ifndef MLPD_CLIENT_MLPCTL_REQUESTS_H_
#define MLPD_CLIENT_MLPCTL_REQUESTS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/client.h"
#include "client/mlpctl/connection.h"
#include "core/dataset.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd::mlpctl {

// TrainFlags are train's options.
struct TrainFlags {
  std::string name;                 // NAME: the session.
  std::string dataset;              // --dataset
  std::string eval_dataset;         // --eval
  int64_t epochs = 1;               // --epochs
  std::string batch_size = "full";  // --batch-size: rows per step, or "full".
  bool shuffle = false;             // --shuffle
  uint64_t seed = 0;                // --seed of the shuffle.
  int64_t report_every = 0;         // --report-every N steps (0: once per epoch).
};

// TrainRequestFromFlags: INVALID_ARGUMENT naming --batch-size unless it is "full" (the whole
// dataset, sent as batch_size 0) or a positive integer.
absl::StatusOr<v1::TrainRequest> TrainRequestFromFlags(const TrainFlags& flags);

// UploadCallOptions routes an upload to `routing_session`'s server and gives it the global
// deadline plus one second per 10 MiB of payload: large uploads take longer than a small call.
CallOptions UploadCallOptions(const GlobalFlags& global, const std::string& routing_session,
                              int64_t payload_bytes);

// BatchOfAllRows is every row of `dataset` as one v1::Batch (step and inline evaluate).
v1::Batch BatchOfAllRows(const Dataset& dataset);

// ParseExportFormat reads --format ("native" or "onnx", any case); INVALID_ARGUMENT naming it.
absl::StatusOr<v1::ExportFormat> ParseExportFormat(const std::string& text);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_REQUESTS_H_
