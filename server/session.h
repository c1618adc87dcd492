// session.h: one hosted model, what the server keeps beside it, and its policy: when a call
// finds it gone, when it is snapshotted, when its file lags it.
//
// The model and the snapshot bookkeeping belong to the compute executor: only work running
// there calls the methods marked "executor only". The counters are mirrored into atomics after
// every change so GetSession and ListSessions answer from any thread without queueing behind
// training. A request reaches the engine one way: handler -> SessionRunner -> executor ->
// Session -> Model.
//
//   auto session = std::make_shared<Session>(id, "mnist", spec, NowUnixMs(), &policy);
//   // on the executor:
//   session->Attach(*Model::Create(spec), session->create_time_unix_ms);
//   absl::StatusOr<float> loss = session->TrainStep(batch);
#ifndef MLPD_SERVER_SESSION_H_
#define MLPD_SERVER_SESSION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/model.h"
#include "core/model_spec.h"
#include "core/tensor.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/data_writer.h"
#include "server/wire.h"

namespace mlpd {

class MlpdMetrics;

// NowUnixMs is the wall clock in milliseconds since the Unix epoch.
int64_t NowUnixMs();

// SessionPolicy is what every session of a service shares: where snapshots go and how often.
struct SessionPolicy {
  const DataWriter* files = nullptr;  // Never null; it may keep no data.
  int64_t checkpoint_every = 0;       // Snapshot every N steps of a session; 0: never.
  MlpdMetrics* metrics = nullptr;     // Counts steps and snapshots; may be null.
  // Activation memory one call may use (--max-call-activation-mb, in bytes); 0: no bound.
  int64_t max_call_activation_bytes = 0;
  // What the sessions' parameters and optimizer state leave of --max-sessions-mb, in bytes
  // (negative: no limit); may be empty. A call's activations (its plans) must fit in it too.
  std::function<int64_t()> session_room_bytes;
  int64_t max_sessions_mb = 0;  // Named in the refusal.
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // SnapshotDone gets the outcome of a snapshot and the step it holds, on the writer thread.
  using SnapshotDone = std::function<void(const absl::Status&, int64_t step)>;

  Session(uint64_t id, std::string name, ModelSpec spec, int64_t create_time_unix_ms,
          const SessionPolicy* policy);

  // FillInfo describes the session from its published counters (any thread).
  void FillInfo(v1::SessionInfo* info) const;

  // Executor only, from here to the counters.

  // Attach gives the session its model (built or restored) and makes it visible.
  void Attach(std::unique_ptr<Model> model, int64_t update_time_unix_ms);
  // MarkSaved records that the session's file holds its current step (restored from it).
  void MarkSaved() { snapshot_step_ = model_->step_count(); }
  // Gone says why work queued for the session must not run: deleted, the executor stopping
  // (`cancelled`), or never built. OK when it may run.
  absl::Status Gone(bool cancelled) const;
  Model& model() const { return *model_; }
  bool has_model() const { return model_ != nullptr; }

  // CheckStepMemory refuses training steps of `rows` rows whose activations would pass
  // --max-call-activation-mb, or what the sessions leave of --max-sessions-mb
  // (RESOURCE_EXHAUSTED naming the flag). Any thread.
  absl::Status CheckStepMemory(int64_t rows) const;
  // TrainStep checks the batch against the spec and the activation bound, and applies one step.
  absl::StatusOr<float> TrainStep(const BatchView& batch);
  // Predict checks x and the size of its answer (up to `max_answer_bytes`) and writes the
  // outputs into `outputs`. Predict and Evaluate run in chunks that fit the activation bound and
  // stop between chunks once `cancelled` (may be empty) says the caller no longer waits.
  absl::Status Predict(MatrixView x, int64_t max_answer_bytes,
                       const std::function<bool()>& cancelled, Matrix* outputs) const;
  // Evaluate checks the batch (`field` names it in errors) and evaluates it.
  absl::StatusOr<Evaluation> Evaluate(absl::string_view field, const BatchView& batch,
                                      const std::function<bool()>& cancelled) const;
  // Chunks is how this session's forward passes run: chunks of rows within the activation bound,
  // stopping once `cancelled` (may be empty) says so; RESOURCE_EXHAUSTED when not even one row
  // fits. Any thread.
  absl::StatusOr<ChunkControl> Chunks(const std::function<bool()>& cancelled) const;
  // Export encodes the model as NATIVE (an mlpd.v1.Checkpoint) or ONNX bytes.
  absl::StatusOr<std::string> Export(v1::ExportFormat format) const;

  // AfterSteps publishes the counters and snapshots every checkpoint_every steps.
  void AfterSteps();
  // Snapshot copies the state now and writes it on the writer; `done` (may be empty) runs on
  // the writer once it is durable, or at once without a data dir. At most one snapshot per
  // session waits for the writer: a newer one replaces it (so a slow disk costs one copy per
  // session, not one per step), and `done` then hears of the newer step.
  void Snapshot(SnapshotDone done);
  // SnapshotIfDirty snapshots a live session whose file lags it.
  void SnapshotIfDirty();
  // Dirty says whether the file lags the model: steps were applied since the last snapshot, or
  // that snapshot failed to be written.
  bool Dirty() const {
    return model_ != nullptr && (model_->step_count() != snapshot_step_ || snapshot_failed.load());
  }
  // PublishCounters copies the model's counters into the atomics, as one snapshot.
  void PublishCounters(int64_t update_time_unix_ms);

  // Constant after construction. `id` keys the session's work on the executor, so a session
  // deleted and created again under the same name never shares a queue with the old one.
  const uint64_t id;
  const std::string name;
  const ModelSpec spec;  // With defaults filled in.
  const int64_t parameter_count;
  const int64_t memory_bytes;  // Parameters and optimizer state (ModelStateBytes).
  const int64_t create_time_unix_ms;

  // Set once by DeleteSession; queued work that sees it answers NOT_FOUND.
  std::atomic<bool> deleted{false};
  // Set once the model is built: until then (a large import is being checked) GetSession and
  // ListSessions do not show the session, which may still be refused.
  std::atomic<bool> ready{false};
  // Set by the writer when a snapshot could not be written (disk full, I/O error), cleared when
  // the next one is handed to it: the periodic and final snapshots try again.
  std::atomic<bool> snapshot_failed{false};

  // Published counters. FillInfo reads them as one snapshot (never the step of one call with
  // the samples of the next); one counter alone may be read from its atomic.
  std::atomic<int64_t> step_count{0};
  std::atomic<int64_t> samples_seen{0};
  std::atomic<float> last_loss{0.0f};
  std::atomic<int64_t> update_time_unix_ms;

 private:
  // CheckRoom refuses a call whose activations (`bytes`) do not fit in what the sessions leave
  // of --max-sessions-mb.
  absl::Status CheckRoom(int64_t bytes, int64_t rows) const;
  // WritePending writes the waiting snapshot, on the writer.
  void WritePending(DataDir& store);

  const SessionPolicy* const policy_;
  // Odd while PublishCounters writes the counters; FillInfo reads them again until it sees the
  // same even value before and after.
  std::atomic<uint64_t> publish_sequence_{0};
  // Executor only. model_ is null until the creation work has run (and after a failed one).
  std::unique_ptr<Model> model_;
  int64_t snapshot_step_ = -1;  // Step count of the last snapshot handed to the writer.

  // The snapshot waiting for the writer (null: none, or the writer has taken it), its step and
  // the callers waiting for it.
  absl::Mutex pending_mutex_;
  std::shared_ptr<const v1::Checkpoint> pending_ ABSL_GUARDED_BY(pending_mutex_);
  int64_t pending_step_ ABSL_GUARDED_BY(pending_mutex_) = 0;
  std::vector<SnapshotDone> pending_done_ ABSL_GUARDED_BY(pending_mutex_);
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SESSION_H_
