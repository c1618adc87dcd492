#include "server/job_watch_reactor.h"

#include <utility>

namespace mlpd {

JobWatchReactor::JobWatchReactor(JobRegistry* jobs, std::string job_id, std::string cancel_reason)
    : jobs_(jobs), job_id_(std::move(job_id)), cancel_reason_(std::move(cancel_reason)) {}

void JobWatchReactor::Start() {
  absl::StatusOr<v1::Job> job = jobs_->Watch(job_id_, this);
  absl::MutexLock lock(&mutex_);
  // Events the registry handed over since Watch wait in pending_; the state goes before them.
  started_ = true;
  if (!job.ok()) {
    pending_.clear();
    FinishWhenWritten(grpc::Status(static_cast<grpc::StatusCode>(job.status().code()),
                                   std::string(job.status().message())));
    return;
  }
  v1::TrainResponse first;
  *first.mutable_job() = *job;
  pending_.push_front(std::move(first));
  StartWrite(&pending_.front());
  if (job->done()) End(*job);
}

void JobWatchReactor::OnEvent(const v1::TrainResponse& event) {
  absl::MutexLock lock(&mutex_);
  if (!finishing_) Send(event);
}

void JobWatchReactor::OnDone(const v1::Job& job) {
  absl::MutexLock lock(&mutex_);
  End(job);
}

void JobWatchReactor::End(const v1::Job& job) {
  if (finishing_) return;
  if (job.has_summary()) {
    v1::TrainResponse last;
    *last.mutable_summary() = job.summary();
    Send(std::move(last));
    FinishWhenWritten(grpc::Status::OK);
    return;
  }
  FinishWhenWritten(
      grpc::Status(static_cast<grpc::StatusCode>(job.error().code()), job.error().message()));
}

void JobWatchReactor::OnCancel() {
  // Unwatch first: once it returns the registry never calls this reactor again.
  jobs_->Unwatch(job_id_, this);
  if (!cancel_reason_.empty()) (void)jobs_->RequestCancel(job_id_, cancel_reason_);
  absl::MutexLock lock(&mutex_);
  FinishWhenWritten(grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
}

void JobWatchReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mutex_);
  pending_.pop_front();
  if (!ok) pending_.clear();  // The stream is broken; OnCancel follows.
  if (!pending_.empty()) {
    StartWrite(&pending_.front());
  } else if (finishing_ && !finished_) {
    finished_ = true;
    Finish(final_status_);
  }
}

void JobWatchReactor::OnDone() {
  jobs_->Unwatch(job_id_, this);
  delete this;
}

void JobWatchReactor::Send(v1::TrainResponse message) {
  if (pending_.size() > kMaxQueuedReports && pending_.back().has_progress() &&
      message.has_progress()) {
    pending_.back() = std::move(message);  // Not started yet: the newer report replaces it.
    return;
  }
  pending_.push_back(std::move(message));
  if (started_ && pending_.size() == 1) StartWrite(&pending_.front());
}

void JobWatchReactor::FinishWhenWritten(const grpc::Status& status) {
  if (finishing_) return;
  finishing_ = true;
  final_status_ = status;
  if (started_ && pending_.empty() && !finished_) {
    finished_ = true;
    Finish(final_status_);
  }
}

}  // namespace mlpd
