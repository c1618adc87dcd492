// session.h: one hosted model and what the server keeps beside it.
//
// The model and the snapshot bookkeeping belong to the compute executor: only work running
// there touches them. The counters are mirrored into atomics after every change so GetSession
// and ListSessions answer from any thread without queueing behind training.
//
//   auto session = std::make_shared<Session>(id, "mnist", spec, NowUnixMs());
//   // on the executor:
//   session->model = std::move(model);
//   session->PublishCounters(NowUnixMs());
#ifndef MLPD_SERVER_SESSION_H_
#define MLPD_SERVER_SESSION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/model.h"
#include "core/model_spec.h"
#include "core/tensor.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

// NowUnixMs is the wall clock in milliseconds since the Unix epoch.
int64_t NowUnixMs();

struct Session : std::enable_shared_from_this<Session> {
  Session(uint64_t id, std::string name, ModelSpec spec, int64_t create_time_unix_ms);

  // FillInfo describes the session from its published counters (any thread).
  void FillInfo(v1::SessionInfo* info) const;
  // PublishCounters copies the model's counters into the atomics (executor only).
  void PublishCounters(int64_t update_time_unix_ms);
  // Dirty says whether the file lags the model: steps were applied since the last snapshot, or
  // that snapshot failed to be written (executor only).
  bool Dirty() const {
    return model != nullptr && (model->step_count() != snapshot_step || snapshot_failed.load());
  }

  // Constant after construction. `id` keys the session's work on the executor, so a session
  // deleted and created again under the same name never shares a queue with the old one.
  const uint64_t id;
  const std::string name;
  const ModelSpec spec;  // With defaults filled in.
  const int64_t parameter_count;
  const int64_t memory_bytes;  // Parameters and optimizer state (ModelStateBytes).
  const int64_t create_time_unix_ms;

  // Executor only. model is null until the creation work has run (and after a failed one).
  std::unique_ptr<Model> model;
  int64_t snapshot_step = -1;  // Step count of the last snapshot handed to the writer.
  Matrix outputs;              // Predict's buffer, reused across calls.

  // Set once by DeleteSession; queued work that sees it answers NOT_FOUND.
  std::atomic<bool> deleted{false};
  // Set once the model is built: until then (a large import is being checked) GetSession and
  // ListSessions do not show the session, which may still be refused.
  std::atomic<bool> ready{false};
  // Set by the writer when a snapshot could not be written (disk full, I/O error), cleared when
  // the next one is handed to it: the periodic and final snapshots try again.
  std::atomic<bool> snapshot_failed{false};

  // Published counters.
  std::atomic<int64_t> step_count{0};
  std::atomic<int64_t> samples_seen{0};
  std::atomic<float> last_loss{0.0f};
  std::atomic<int64_t> update_time_unix_ms;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SESSION_H_
