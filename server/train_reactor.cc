#include "server/train_reactor.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/answer.h"
#include "server/job_runner.h"
#include "server/wire.h"

namespace mlpd {

TrainReactor::TrainReactor(ComputeExecutor* executor, TrainCalls* calls,
                           std::shared_ptr<Session> session, std::shared_ptr<StoredDataset> train,
                           std::shared_ptr<StoredDataset> eval, const v1::TrainRequest& request,
                           Record record)
    : executor_(executor),
      calls_(calls),
      session_(std::move(session)),
      train_(std::move(train)),
      eval_(std::move(eval)),
      record_(std::move(record)),
      run_(request, train_->data, eval_ != nullptr ? &eval_->data : nullptr, /*steps_done=*/0,
           /*evals=*/{}) {
  ++calls_->active;
}

void TrainReactor::Start() {
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
    if (run_.steps_done() > 0 && session_->deleted) {
      return absl::NotFoundError(
          absl::StrFormat("session \"%s\" was deleted during Train, after %d of %d steps",
                          session_->name, run_.steps_done(), run_.steps_total()));
    }
    return gone;
  }
  if (cancelled_) {
    return absl::CancelledError(
        absl::StrFormat("Train was cancelled by the client after %d of %d steps", run_.steps_done(),
                        run_.steps_total()));
  }
  if (calls_->stop) {
    return absl::UnavailableError(
        absl::StrFormat("the server is shutting down; Train stopped after %d of %d steps "
                        "(they are kept)",
                        run_.steps_done(), run_.steps_total()));
  }
  return absl::OkStatus();
}

void TrainReactor::Step(bool cancelled) {
  if (absl::Status stop = StopReason(cancelled); !stop.ok()) {
    End(stop);
    return;
  }
  Model& model = session_->model();
  absl::StatusOr<JobRun::StepResult> result = run_.Step(model);
  if (!result.ok()) {
    End(result.status());
    return;
  }
  session_->AfterSteps();
  if (result->report.has_value()) {
    if (record_) record_(JobRunner::HistoryPointOf(*result->report, NowUnixMs()));
    v1::TrainResponse message;
    *message.mutable_progress() = *std::move(result->report);
    Send(std::move(message));
  }
  if (!run_.over()) {
    executor_->Continue(session_->id, [this](bool cancelled) { Step(cancelled); });
    return;
  }
  absl::StatusOr<v1::TrainSummary> summary = run_.Finish(model);
  if (!summary.ok()) {
    End(summary.status());
    return;
  }
  // keep_best put back older parameters without a step: the snapshot must hold them.
  if (summary->kept_step() != summary->step()) session_->Snapshot(nullptr);
  End(absl::OkStatus(), &*summary);
}

void TrainReactor::End(const absl::Status& status, const v1::TrainSummary* summary) {
  if (!status.ok()) LogFailure("Train", session_->name, status);
  if (summary != nullptr) {
    v1::TrainResponse message;
    *message.mutable_summary() = *summary;
    Send(std::move(message));
  }
  // A Train call's end is a natural snapshot point; whatever stopped it, applied steps stay.
  if (run_.steps_done() > 0) session_->SnapshotIfDirty();
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
