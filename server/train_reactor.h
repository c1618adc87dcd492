// train_reactor.h: the Train stream: epochs over a stored dataset, one executor item per
// mini-batch (the run itself is a JobRun, as a job's: evaluations, early stopping, keep_best),
// with progress reports written to the client as they come and added to the session's curve.
//
// Each item queues the next with ComputeExecutor::Continue, so other sessions' work runs
// between mini-batches. The run is an attached job of the JobRegistry (its id goes to the client
// in the initial metadata, kJobIdMetadataKey): WatchJob follows it and CancelJob stops it between
// mini-batches, the stream then ending CANCELLED after the last step applied, so a client that
// stops a Train this way learns from the stream's end that no step follows. Progress messages are
// written one at a time (gRPC allows one outstanding write); the stream finishes once the last one
// is written. Training does not wait for a slow reader: past kMaxQueuedReports waiting reports, the
// newest replaces the last one queued, so memory stays bounded whatever the client does.
//
//   context->AddInitialMetadata(kJobIdMetadataKey, job.id());
//   auto* reactor = new TrainReactor(&executor, &trains, &jobs, job.id(), *std::move(lease),
//                                    session, train, eval, *request, record);
//   reactor->Start();  // deletes itself when done
#ifndef MLPD_SERVER_TRAIN_REACTOR_H_
#define MLPD_SERVER_TRAIN_REACTOR_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/dataset.h"
#include "grpcpp/support/server_callback.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/compute_executor.h"
#include "server/datasets.h"
#include "server/history_store.h"
#include "server/job_registry.h"
#include "server/job_run.h"
#include "server/session.h"
#include "server/training_runs.h"

namespace mlpd {

// kJobIdMetadataKey is the initial metadata key that carries a Train call's job id.
inline constexpr char kJobIdMetadataKey[] = "x-mlpd-job-id";

// TrainCalls counts the running Train calls and tells them to stop (at shutdown).
struct TrainCalls {
  std::atomic<int64_t> active{0};
  std::atomic<bool> stop{false};
};

class TrainReactor : public grpc::ServerWriteReactor<v1::TrainResponse> {
 public:
  // Reports waiting behind the one being written before newer ones replace the last: a client
  // reading as fast as its network allows misses none; one that stops reading costs a few KB.
  static constexpr size_t kMaxQueuedReports = 64;

  // Record adds a report's point to the session's curve (on the executor; must not block).
  using Record = std::function<void(const HistoryPoint&)>;

  // `eval` may be null. The request has been checked (CheckTrainOptions and the rest), opened
  // as a training run (`lease`, given back with the run's memory when the call ends) and
  // admitted to `jobs` as the attached job `job_id`, which the reactor ends.
  TrainReactor(ComputeExecutor* executor, TrainCalls* calls, JobRegistry* jobs, std::string job_id,
               TrainingRuns::Lease lease, std::shared_ptr<Session> session,
               std::shared_ptr<StoredDataset> train, std::shared_ptr<StoredDataset> eval,
               const v1::TrainRequest& request, Record record);

  // Start sends the initial metadata and queues the first mini-batch; when the queue refuses
  // it the call is answered.
  void Start();

  void OnCancel() override { cancelled_ = true; }
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // Step runs one mini-batch on the executor and queues the next.
  void Step(bool cancelled);
  // StopReason is why the run must end before this step, or OK to go on.
  absl::Status StopReason(bool cancelled) const;
  // RecordProgress copies how far the run got into its job. Executor only.
  void RecordProgress(v1::Job* job) const;
  // End ends the attached job, sends the summary (when training ran to its end) and finishes
  // the stream with `status`.
  void End(const absl::Status& status, const v1::TrainSummary* summary = nullptr);
  void Send(v1::TrainResponse message);

  ComputeExecutor* const executor_;
  TrainCalls* const calls_;
  JobRegistry* const jobs_;
  const std::string job_id_;
  const std::shared_ptr<Session> session_;
  const std::shared_ptr<StoredDataset> train_;
  const std::shared_ptr<StoredDataset> eval_;
  const Record record_;

  // Executor only (and the gRPC thread of Start before it queues anything). Freed by End with
  // the lease, before the caller learns that the call ended.
  std::unique_ptr<JobRun> run_;
  TrainingRuns::Lease lease_;
  bool started_ = false;  // Executor only: the first mini-batch has run.

  std::atomic<bool> cancelled_{false};

  absl::Mutex mutex_;
  std::deque<v1::TrainResponse> pending_ ABSL_GUARDED_BY(mutex_);  // front() is being written.
  bool finishing_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mlpd

#endif  // MLPD_SERVER_TRAIN_REACTOR_H_
