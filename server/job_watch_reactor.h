// job_watch_reactor.h: the stream of a job's events, for WatchJob and for Train.
//
// It subscribes to the job in the registry and writes, in order: a `job` event with the job as
// it is, each progress report, then the summary; the call ends OK, or with the job's error as
// its status (FAILED, CANCELLED). Writes go one at a time (gRPC allows one outstanding write);
// training never waits for a slow reader: past kMaxQueuedReports waiting reports, the newest
// replaces the last one queued. A watcher that goes away only unsubscribes, unless it was
// made with a `cancel_reason` (Train: "start and watch, cancel when the caller goes away"),
// in which case the job is asked to stop with that reason.
//
//   auto* reactor = new JobWatchReactor(&jobs, job_id, /*cancel_reason=*/"");
//   reactor->Start();
//   return reactor;  // it deletes itself when the call is done
#ifndef MLPD_SERVER_JOB_WATCH_REACTOR_H_
#define MLPD_SERVER_JOB_WATCH_REACTOR_H_

#include <cstddef>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_callback.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/job_registry.h"

namespace mlpd {

class JobWatchReactor : public grpc::ServerWriteReactor<v1::TrainResponse>, public JobWatcher {
 public:
  // Reports waiting behind the one being written before newer ones replace the last: a client
  // reading as fast as its network allows misses none; one that stops reading costs a few KB.
  static constexpr size_t kMaxQueuedReports = 64;

  JobWatchReactor(JobRegistry* jobs, std::string job_id, std::string cancel_reason);

  // Start subscribes and writes the job's current state (or ends the call at once when the job
  // is unknown or already done).
  void Start();

  // JobWatcher: called by the registry under its lock.
  void OnEvent(const v1::TrainResponse& event) override;
  void OnDone(const v1::Job& job) override;

  // grpc::ServerWriteReactor.
  void OnCancel() override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  void Send(v1::TrainResponse message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // End queues the job's final events and finishes the call once they are written.
  void End(const v1::Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void FinishWhenWritten(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  JobRegistry* const jobs_;
  const std::string job_id_;
  const std::string cancel_reason_;

  absl::Mutex mutex_;
  std::deque<v1::TrainResponse> pending_ ABSL_GUARDED_BY(mutex_);  // front() is being written.
  bool started_ ABSL_GUARDED_BY(mutex_) = false;  // Start has queued the job's state.
  bool finishing_ ABSL_GUARDED_BY(mutex_) = false;
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mlpd

#endif  // MLPD_SERVER_JOB_WATCH_REACTOR_H_
