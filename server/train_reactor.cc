#include "server/train_reactor.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/answer.h"
#include "server/wire.h"

namespace mlpd {

TrainReactor::TrainReactor(ComputeExecutor* executor, TrainCalls* calls,
                           std::shared_ptr<Session> session, std::shared_ptr<StoredDataset> train,
                           std::shared_ptr<StoredDataset> eval, const v1::TrainRequest& request)
    : executor_(executor),
      calls_(calls),
      session_(std::move(session)),
      train_(std::move(train)),
      eval_(std::move(eval)),
      epochs_(request.epochs()),
      report_every_(request.report_every_steps()),
      batches_(train_->data, request.batch_size(), request.shuffle(), request.seed()),
      steps_total_(epochs_ * batches_.batches_per_epoch()) {
  ++calls_->active;
}

void TrainReactor::Start() {
  start_ = absl::Now();
  report_start_ = start_;
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
    if (steps_done_ > 0 && session_->deleted) {
      return absl::NotFoundError(
          absl::StrFormat("session \"%s\" was deleted during Train, after %d of %d steps",
                          session_->name, steps_done_, steps_total_));
    }
    return gone;
  }
  if (cancelled_) {
    return absl::CancelledError(absl::StrFormat(
        "Train was cancelled by the client after %d of %d steps", steps_done_, steps_total_));
  }
  if (calls_->stop) {
    return absl::UnavailableError(
        absl::StrFormat("the server is shutting down; Train stopped after %d of %d steps "
                        "(they are kept)",
                        steps_done_, steps_total_));
  }
  return absl::OkStatus();
}

void TrainReactor::Step(bool cancelled) {
  if (absl::Status stop = StopReason(cancelled); !stop.ok()) {
    End(stop);
    return;
  }
  MatrixView x;
  TargetsView y;
  if (!batches_.Next(&x, &y)) {
    End(absl::InternalError("the dataset ran out of batches before the epoch ended"));
    return;
  }
  absl::StatusOr<float> loss = session_->model().TrainStep(x, y);
  if (!loss.ok()) {
    End(absl::Status(loss.status().code(),
                     absl::StrFormat("step %d of %d (epoch %d): %s", steps_done_ + 1, steps_total_,
                                     epoch_, loss.status().message())));
    return;
  }
  ++steps_done_;
  ++steps_since_report_;
  ++steps_in_epoch_;
  samples_since_report_ += x.rows;
  loss_since_report_ += *loss;
  last_loss_ = *loss;
  session_->AfterSteps();

  const bool epoch_ended = steps_in_epoch_ == batches_.batches_per_epoch();
  const bool report = report_every_ > 0 ? steps_done_ % report_every_ == 0 : epoch_ended;
  if (report) Report();
  if (epoch_ended) {
    ++epochs_done_;
    steps_in_epoch_ = 0;
    if (epochs_done_ < epochs_) {
      ++epoch_;
      batches_.Reset();
    }
  }
  if (steps_done_ == steps_total_) {
    End(absl::OkStatus());
    return;
  }
  executor_->Continue(session_->id, [this](bool cancelled) { Step(cancelled); });
}

template <typename Message>
void TrainReactor::EvaluateInto(Message* message) {
  if (eval_ == nullptr) return;
  absl::StatusOr<Evaluation> evaluation =
      session_->model().Evaluate(eval_->data.x.view(), eval_->data.targets_view());
  if (!evaluation.ok()) {
    LogFailure("Train", session_->name, evaluation.status());
    return;
  }
  message->set_has_eval(true);
  message->set_eval_loss(evaluation->loss);
  message->set_eval_has_error_rate(evaluation->has_error_rate);
  message->set_eval_error_rate(evaluation->error_rate);
}

void TrainReactor::Report() {
  const absl::Time now = absl::Now();
  v1::TrainResponse message;
  v1::TrainProgress* progress = message.mutable_progress();
  progress->set_epoch(epoch_);
  progress->set_step(session_->model().step_count());
  progress->set_steps_done(steps_done_);
  progress->set_steps_total(steps_total_);
  progress->set_loss(static_cast<float>(loss_since_report_ / steps_since_report_));
  const double seconds = absl::ToDoubleSeconds(now - report_start_);
  progress->set_samples_per_second(seconds > 0 ? samples_since_report_ / seconds : 0.0);
  EvaluateInto(progress);
  Send(std::move(message));
  steps_since_report_ = 0;
  samples_since_report_ = 0;
  loss_since_report_ = 0;
  report_start_ = absl::Now();  // Evaluation time is not training throughput.
}

void TrainReactor::End(const absl::Status& status) {
  if (!status.ok()) LogFailure("Train", session_->name, status);
  if (status.ok()) {
    v1::TrainResponse message;
    v1::TrainSummary* summary = message.mutable_summary();
    summary->set_steps(steps_done_);
    summary->set_epochs(epochs_done_);
    summary->set_step(session_->model().step_count());
    summary->set_last_loss(last_loss_);
    summary->set_seconds(absl::ToDoubleSeconds(absl::Now() - start_));
    EvaluateInto(summary);
    Send(std::move(message));
  }
  // A Train call's end is a natural snapshot point; whatever stopped it, applied steps stay.
  if (steps_done_ > 0) session_->SnapshotIfDirty();
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
