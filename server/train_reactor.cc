#include "server/train_reactor.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/answer.h"
#include "server/job_runner.h"
#include "server/wire.h"

namespace mlpd {

TrainReactor::TrainReactor(ComputeExecutor* executor, TrainCalls* calls, JobRegistry* jobs,
                           std::string job_id, TrainingRuns::Lease lease,
                           std::shared_ptr<Session> session, std::shared_ptr<StoredDataset> train,
                           std::shared_ptr<StoredDataset> eval, const v1::TrainRequest& request,
                           Record record)
    : executor_(executor),
      calls_(calls),
      jobs_(jobs),
      job_id_(std::move(job_id)),
      session_(std::move(session)),
      train_(std::move(train)),
      eval_(std::move(eval)),
      record_(std::move(record)),
      run_(std::make_unique<JobRun>(request, train_->data,
                                    eval_ != nullptr ? &eval_->data : nullptr,
                                    /*steps_done=*/0, std::vector<v1::JobEval>{})),
      lease_(std::move(lease)) {
  ++calls_->active;
}

void TrainReactor::Start() {
  // The job id reaches the client before any progress, so it can stop the run from the start.
  StartSendInitialMetadata();
  // Evaluations stop between chunks once the client has gone.
  absl::StatusOr<ChunkControl> chunks = session_->Chunks([this] { return cancelled_.load(); });
  if (!chunks.ok()) {
    End(chunks.status());
    return;
  }
  run_->SetEvaluationChunks(*std::move(chunks));
  const absl::Status queued =
      executor_->Submit(session_->id, [this](bool cancelled) { Step(cancelled); });
  if (!queued.ok()) End(queued);
}

void TrainReactor::OnWriteDone(bool ok) {
  grpc::Status finish_with;
  bool finish = false;
  {
    absl::MutexLock lock(&mutex_);
    pending_.pop_front();
    if (!ok) cancelled_ = true;
    if (!pending_.empty()) {
      StartWrite(&pending_.front());
    } else if (finishing_) {
      finish = true;
      finish_with = final_status_;
    }
  }
  // Finish last, with mutex_ released: OnDone may delete this reactor, mutex_ included, on
  // another thread as soon as Finish is called.
  if (finish) Finish(finish_with);
}

void TrainReactor::OnDone() {
  --calls_->active;
  delete this;
}

absl::Status TrainReactor::StopReason(bool cancelled) const {
  absl::Status gone = session_->Gone(cancelled);
  if (!gone.ok()) {
    if (run_->steps_done() > 0 && session_->deleted) {
      return absl::NotFoundError(
          absl::StrFormat("session \"%s\" was deleted during Train, after %d of %d steps",
                          session_->name, run_->steps_done(), run_->steps_total()));
    }
    return gone;
  }
  if (cancelled_) {
    return absl::CancelledError(
        absl::StrFormat("Train was cancelled by the client after %d of %d steps",
                        run_->steps_done(), run_->steps_total()));
  }
  if (const std::string reason = jobs_->CancelReason(job_id_); !reason.empty()) {
    return absl::CancelledError(absl::StrFormat("%s, after %d of %d steps (they are kept)", reason,
                                                run_->steps_done(), run_->steps_total()));
  }
  if (calls_->stop) {
    return absl::UnavailableError(
        absl::StrFormat("the server is shutting down; Train stopped after %d of %d steps "
                        "(they are kept)",
                        run_->steps_done(), run_->steps_total()));
  }
  return absl::OkStatus();
}

void TrainReactor::Step(bool cancelled) {
  if (absl::Status stop = StopReason(cancelled); !stop.ok()) {
    End(stop);
    return;
  }
  Model& model = session_->model();
  if (!started_) {
    started_ = true;
    const int64_t now = NowUnixMs();
    jobs_->Update(
        job_id_,
        [&](v1::Job* job) {
          job->set_state(v1::JOB_STATE_RUNNING);
          job->set_start_step(model.step_count());
          job->set_start_time_unix_ms(now);
          job->set_update_time_unix_ms(now);
        },
        nullptr);
  }
  absl::StatusOr<JobRun::StepResult> result = run_->Step(model);
  if (!result.ok()) {
    End(result.status());
    return;
  }
  session_->AfterSteps();
  if (result->report.has_value()) {
    const int64_t now = NowUnixMs();
    if (record_) record_(JobRunner::HistoryPointOf(*result->report, now));
    v1::TrainResponse message;
    *message.mutable_progress() = *std::move(result->report);
    // Watchers of the attached job get the events the caller gets.
    jobs_->Update(
        job_id_,
        [&](v1::Job* job) {
          RecordProgress(job);
          *job->mutable_last_progress() = message.progress();
          job->set_update_time_unix_ms(now);
        },
        &message);
    Send(std::move(message));
  }
  if (!run_->over()) {
    executor_->Continue(session_->id, [this](bool cancelled) { Step(cancelled); });
    return;
  }
  absl::StatusOr<v1::TrainSummary> summary = run_->Finish(model);
  if (!summary.ok()) {
    End(summary.status());
    return;
  }
  // keep_best put back older parameters without a step: the snapshot must hold them.
  if (summary->kept_step() != summary->step()) session_->Snapshot(nullptr);
  End(absl::OkStatus(), &*summary);
}

void TrainReactor::RecordProgress(v1::Job* job) const {
  job->set_steps_done(run_->steps_done());
  job->set_epoch(run_->epoch());
  *job->mutable_evals() = {run_->evals().begin(), run_->evals().end()};
}

void TrainReactor::End(const absl::Status& status, const v1::TrainSummary* summary) {
  if (!status.ok()) LogFailure("Train", session_->name, status);
  jobs_->Update(
      job_id_, [this](v1::Job* job) { RecordProgress(job); }, nullptr);
  jobs_->Finish(job_id_,
                status.ok()                 ? v1::JOB_STATE_SUCCEEDED
                : absl::IsCancelled(status) ? v1::JOB_STATE_CANCELLED
                                            : v1::JOB_STATE_FAILED,
                summary, status, NowUnixMs());
  if (summary != nullptr) {
    v1::TrainResponse message;
    *message.mutable_summary() = *summary;
    Send(std::move(message));
  }
  // A Train call's end is a natural snapshot point; whatever stopped it, applied steps stay.
  if (run_->steps_done() > 0) session_->SnapshotIfDirty();
  // The run's memory and its place among the open runs are given back before the caller hears
  // the end, so a call it makes next finds them free.
  run_.reset();
  lease_.Release();
  grpc::Status finish_with = ToGrpcStatus(status);
  bool finish = false;
  {
    absl::MutexLock lock(&mutex_);
    finishing_ = true;
    final_status_ = finish_with;
    finish = pending_.empty();  // Else OnWriteDone finishes after the last write.
  }
  // As in OnWriteDone: Finish last, with mutex_ released.
  if (finish) Finish(finish_with);
}

void TrainReactor::Send(v1::TrainResponse message) {
  absl::MutexLock lock(&mutex_);
  if (pending_.size() > kMaxQueuedReports && pending_.back().has_progress()) {
    pending_.back() = std::move(message);  // Not started yet: the newer report replaces it.
    return;
  }
  pending_.push_back(std::move(message));
  if (pending_.size() == 1) StartWrite(&pending_.front());
}

}  // namespace mlpd
