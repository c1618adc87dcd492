#include "server/session.h"

#include <thread>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/checkpoint.h"
#include "core/onnx_export.h"
#include "core/spec_proto.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/metrics_mlpd.h"
#include "server/request_checks.h"

namespace mlpd {

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

Session::Session(uint64_t id, std::string name, ModelSpec spec, int64_t create_time_unix_ms,
                 const SessionPolicy* policy)
    : id(id),
      name(std::move(name)),
      spec(std::move(spec)),
      parameter_count(ParameterCount(this->spec)),
      memory_bytes(ModelStateBytes(this->spec)),
      create_time_unix_ms(create_time_unix_ms),
      update_time_unix_ms(create_time_unix_ms),
      policy_(policy) {}

void Session::FillInfo(v1::SessionInfo* info) const {
  int64_t steps, samples, update_time;
  float loss;
  // A sequence lock: the executor publishes after every step, and a reader that overlapped a
  // publication reads again rather than mix two steps.
  for (;;) {
    const uint64_t before = publish_sequence_.load(std::memory_order_acquire);
    if (before % 2 == 1) {
      std::this_thread::yield();
      continue;
    }
    steps = step_count.load(std::memory_order_relaxed);
    samples = samples_seen.load(std::memory_order_relaxed);
    loss = last_loss.load(std::memory_order_relaxed);
    update_time = update_time_unix_ms.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (publish_sequence_.load(std::memory_order_relaxed) == before) break;
  }
  info->set_name(name);
  SpecToProto(spec, info->mutable_spec());
  info->set_parameter_count(parameter_count);
  info->set_step_count(steps);
  info->set_samples_seen(samples);
  if (steps > 0) info->set_last_loss(loss);
  info->set_create_time_unix_ms(create_time_unix_ms);
  info->set_update_time_unix_ms(update_time);
}

void Session::Attach(std::unique_ptr<Model> model, int64_t update_time) {
  model_ = std::move(model);
  PublishCounters(update_time);
  ready = true;
}

void Session::PublishCounters(int64_t update_time) {
  // Only the executor publishes, so the sequence has one writer.
  const uint64_t sequence = publish_sequence_.load(std::memory_order_relaxed);
  publish_sequence_.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  samples_seen.store(model_->samples_seen(), std::memory_order_relaxed);
  last_loss.store(model_->last_loss(), std::memory_order_relaxed);
  update_time_unix_ms.store(update_time, std::memory_order_relaxed);
  step_count.store(model_->step_count(), std::memory_order_relaxed);
  publish_sequence_.store(sequence + 2, std::memory_order_release);
}

absl::Status Session::Gone(bool cancelled) const {
  if (deleted.load()) {
    return absl::NotFoundError(
        absl::StrFormat("session \"%s\" was deleted before the call ran", name));
  }
  if (cancelled) {
    return absl::UnavailableError("the server is shutting down; the call did not run");
  }
  if (model_ == nullptr) {
    return absl::NotFoundError(absl::StrFormat("session \"%s\" does not exist", name));
  }
  return absl::OkStatus();
}

absl::Status Session::CheckRoom(int64_t bytes, int64_t rows) const {
  if (!policy_->session_room_bytes) return absl::OkStatus();
  const int64_t room = policy_->session_room_bytes();
  if (room < 0 || bytes <= room) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%d rows of layers %s need %d MiB of activations; the sessions' parameters and optimizer "
      "state leave %d MiB of --max-sessions-mb %d for them",
      rows, LayerSizesString(spec), bytes >> 20, std::max<int64_t>(room, 0) >> 20,
      policy_->max_sessions_mb));
}

absl::Status Session::CheckStepMemory(int64_t rows) const {
  MLPD_RETURN_IF_ERROR(
      CheckActivationMemory(rows, spec, /*training=*/true, policy_->max_call_activation_bytes));
  return CheckRoom(rows * ActivationBytesPerRow(spec, /*training=*/true), rows);
}

absl::StatusOr<float> Session::TrainStep(const BatchView& batch) {
  MLPD_RETURN_IF_ERROR(CheckBatch("batch", batch, spec, TargetUse::kTraining));
  MLPD_RETURN_IF_ERROR(CheckStepMemory(batch.x.rows));
  MLPD_ASSIGN_OR_RETURN(float loss, model_->TrainStep(batch.x, batch.y));
  AfterSteps();
  return loss;
}

absl::StatusOr<ChunkControl> Session::Chunks(const std::function<bool()>& cancelled) const {
  ChunkControl control;
  MLPD_ASSIGN_OR_RETURN(control.max_rows,
                        ChunkRows(spec, kDefaultChunkRows, policy_->max_call_activation_bytes));
  if (policy_->session_room_bytes) {
    // Chunks shrink to what the sessions leave of their limit; not even one row: refused.
    const int64_t room = policy_->session_room_bytes();
    const int64_t per_row = ActivationBytesPerRow(spec, /*training=*/false);
    if (room >= 0 && room / per_row < control.max_rows) {
      MLPD_RETURN_IF_ERROR(CheckRoom(per_row, 1));
      control.max_rows = room / per_row;
    }
  }
  control.cancelled = cancelled;
  return control;
}

absl::Status Session::Predict(MatrixView x, int64_t max_answer_bytes,
                              const std::function<bool()>& cancelled, Matrix* outputs) const {
  MLPD_RETURN_IF_ERROR(CheckInput("x", x, spec));
  MLPD_RETURN_IF_ERROR(CheckAnswerSize(x.rows, spec, max_answer_bytes));
  MLPD_ASSIGN_OR_RETURN(const ChunkControl control, Chunks(cancelled));
  return model_->Predict(x, outputs, control);
}

absl::StatusOr<Evaluation> Session::Evaluate(absl::string_view field, const BatchView& batch,
                                             const std::function<bool()>& cancelled) const {
  MLPD_RETURN_IF_ERROR(CheckBatch(field, batch, spec, TargetUse::kEvaluation));
  MLPD_ASSIGN_OR_RETURN(const ChunkControl control, Chunks(cancelled));
  return model_->Evaluate(batch.x, batch.y, control);
}

absl::StatusOr<std::string> Session::Export(v1::ExportFormat format) const {
  if (format == v1::EXPORT_FORMAT_ONNX) return ExportOnnx(*model_);
  MLPD_ASSIGN_OR_RETURN(v1::Checkpoint checkpoint, MakeCheckpoint(*model_));
  std::string bytes;
  if (!checkpoint.SerializeToString(&bytes)) {
    return absl::InternalError("the checkpoint did not serialize");
  }
  return bytes;
}

void Session::AfterSteps() {
  if (policy_->metrics != nullptr) {
    policy_->metrics->StepsApplied(name, model_->step_count() - step_count.load(),
                                   model_->samples_seen() - samples_seen.load());
  }
  PublishCounters(NowUnixMs());
  if (policy_->files->keeps_data() && policy_->checkpoint_every > 0 &&
      model_->step_count() - snapshot_step_ >= policy_->checkpoint_every) {
    Snapshot(nullptr);
  }
}

void Session::SnapshotIfDirty() {
  if (policy_->files->keeps_data() && !deleted && Dirty()) Snapshot(nullptr);
}

void Session::Snapshot(SnapshotDone done) {
  if (!policy_->files->keeps_data()) {
    if (done) {
      done(absl::FailedPreconditionError("the server keeps no data: it runs without --data-dir"),
           0);
    }
    return;
  }
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*model_);
  if (!checkpoint.ok()) {
    if (policy_->metrics != nullptr) policy_->metrics->SnapshotDone(false, absl::ZeroDuration());
    LogFailure("snapshot", name, checkpoint.status());
    if (done) done(checkpoint.status(), 0);
    return;
  }
  checkpoint->set_create_time_unix_ms(create_time_unix_ms);
  checkpoint->set_update_time_unix_ms(update_time_unix_ms.load());
  const int64_t step = model_->step_count();
  snapshot_step_ = step;
  snapshot_failed = false;
  auto copy = std::make_shared<const v1::Checkpoint>(*std::move(checkpoint));
  bool post = false;
  {
    absl::MutexLock lock(&pending_mutex_);
    post = pending_ == nullptr;
    pending_ = std::move(copy);
    pending_step_ = step;
    if (done) pending_done_.push_back(std::move(done));
  }
  if (post) {
    policy_->files->Post(
        [session = shared_from_this()](DataDir& store) { session->WritePending(store); });
  }
}

void Session::WritePending(DataDir& store) {
  std::shared_ptr<const v1::Checkpoint> checkpoint;
  int64_t step;
  std::vector<SnapshotDone> done;
  {
    absl::MutexLock lock(&pending_mutex_);
    checkpoint = std::move(pending_);
    pending_ = nullptr;
    step = pending_step_;
    done.swap(pending_done_);
  }
  const absl::Time start = absl::Now();
  // A deleted session must not come back from its file. A deletion removes the file and sets
  // `deleted` in one writer task: a snapshot queued before it is removed with the file, one
  // queued after it sees the flag.
  const absl::Status saved = deleted ? absl::NotFoundError(absl::StrFormat(
                                           "session \"%s\" was deleted before its snapshot", name))
                                     : store.SaveSession(name, *checkpoint);
  if (!saved.ok() && !deleted) {
    LogFailure("snapshot", name, saved);
    snapshot_failed = true;
  }
  if (policy_->metrics != nullptr && !deleted) {
    policy_->metrics->SnapshotDone(saved.ok(), absl::Now() - start);
  }
  for (SnapshotDone& callback : done) callback(saved, step);
}

}  // namespace mlpd
