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
  int64_t eval_every = 0;           // --eval-every N steps (0: at each report).
  int64_t patience = 0;             // --patience evaluations without improvement (0: off).
  double min_delta = 0;             // --min-delta: the smallest improvement that counts.
  bool keep_best = false;           // --keep-best
};

// TrainRequestFromFlags: INVALID_ARGUMENT naming --batch-size unless it is "full" (the whole
// dataset, sent as batch_size 0) or a positive integer; naming --eval-every, --patience or
// --keep-best when given without --eval (they decide from its evaluations); naming --min-delta
// when it is negative, not finite, or given without --patience.
absl::StatusOr<v1::TrainRequest> TrainRequestFromFlags(const TrainFlags& flags);

// ParseJobState reads --state: queued, running, succeeded, failed or cancelled, in any case.
// INVALID_ARGUMENT naming the flag and the states.
absl::StatusOr<v1::JobState> ParseJobState(const std::string& text);

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
