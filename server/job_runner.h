// job_runner.h: runs training jobs on the compute executor, and resumes them after a restart.
//
// Each job is one executor item per mini-batch under its session's key, each queuing the next
// with Continue, so other sessions' calls (and TrainStep/Predict on the job's own session) run
// between its mini-batches. Between mini-batches the job checks, in order: its session or
// datasets were deleted (FAILED, naming them), CancelJob was asked (CANCELLED, applied steps
// stay), the server is stopping (the job stays RUNNING on disk and resumes at the next start).
//
// What a job needs of the server is behind JobHost, so the runner knows no RPC and is tested
// with a real executor and a fake host.
//
//   JobRunner runner(&executor, &jobs, &host, {&job_store, &history, &writer});
//   absl::StatusOr<v1::Job> job = runner.Start(request);
//   runner.ResumeAll();  // at start-up, after the sessions and jobs are loaded
#ifndef MLPD_SERVER_JOB_RUNNER_H_
#define MLPD_SERVER_JOB_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/dataset.h"
#include "core/model.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/compute_executor.h"
#include "server/history_store.h"
#include "server/job_registry.h"
#include "server/job_store.h"
#include "server/serial_worker.h"
#include "server/training_runs.h"

namespace mlpd {

// JobTargets is what a job trains: found by JobHost::Resolve on any thread, used on the
// executor only (model, after_step, snapshot).
struct JobTargets {
  uint64_t key = 0;        // The session's executor key.
  RunCost cost;            // What the run holds while it is open (TrainingRuns).
  int64_t step_count = 0;  // The session's published step count when resolved.
  const Dataset* train = nullptr;
  const Dataset* eval = nullptr;           // Null when the request names none.
  std::shared_ptr<const void> keep_alive;  // Holds the session and datasets while the job runs.
  // How the job's evaluations run through the network (the session's activation bound).
  ChunkControl evaluation_chunks;
  // Model is the session's model, null once it is gone.
  std::function<Model*()> model;
  // Gone is OK while the session and datasets live, else why the job cannot go on (FAILED).
  std::function<absl::Status()> gone;
  // AfterSteps applies the session's snapshot policy after a step.
  std::function<void()> after_steps;
  // Snapshot hands a snapshot of the session to the disk writer now (keep_best's restored
  // parameters change no counter the policy looks at).
  std::function<void()> snapshot;
  // Record adds a point to the session's learning curve (may be empty: no curve is kept). It
  // must not wait for a disk: it runs on the executor.
  std::function<void(const HistoryPoint&)> record;
};

class JobHost {
 public:
  virtual ~JobHost() = default;
  // Resolve finds the job's session and datasets: NOT_FOUND naming what is missing.
  virtual absl::StatusOr<JobTargets> Resolve(const v1::TrainRequest& request) = 0;
};

class JobRunner {
 public:
  // Where jobs keep their best parameters; both may be null (no data dir).
  struct Storage {
    JobStore* store = nullptr;
    SerialWorker* writer = nullptr;  // Saves of best parameters go through it, in order.
  };
  // kSaveInterval bounds how often progress alone rewrites a job's record: a resume reads its
  // place from the session's snapshot, not from the record. Changes of state and evaluations
  // (which early stopping replays on resume) are saved at once.
  static constexpr absl::Duration kSaveInterval = absl::Seconds(1);

  // `runs` counts the jobs among the open training runs (--max-trains, their memory in
  // --max-sessions-mb); may be null (not counted).
  JobRunner(ComputeExecutor* executor, JobRegistry* jobs, JobHost* host, Storage storage,
            TrainingRuns* runs = nullptr);

  // Start admits a job for the checked request and queues its first mini-batch; when the open
  // training runs leave no room for it, RESOURCE_EXHAUSTED naming the limit.
  absl::StatusOr<v1::Job> Start(const v1::TrainRequest& request);

  // ResumeAll queues every job left live by the previous run of the server, each from its
  // session's snapshot (whose step count says how far it got), or ends it FAILED when its
  // session or dataset is gone. Call once at start-up, after sessions and jobs are loaded. The
  // jobs were within the limits of the server that admitted them: under lower limits they still
  // resume (logged), and new runs are refused until enough have ended.
  void ResumeAll();

  // Stop makes running jobs stop at their next mini-batch without ending them (shutdown): they
  // stay live on disk and resume at the next start; their watchers are let go.
  void Stop() { stopping_ = true; }
  int64_t running() const { return running_.load(); }

  // HistoryPointOf is the curve point of a report.
  static HistoryPoint HistoryPointOf(const v1::TrainProgress& progress, int64_t now_unix_ms);

 private:
  class Run;
  // ResumedLease opens a resumed job's run even past the limits, logging when it passes them.
  TrainingRuns::Lease ResumedLease(const v1::Job& job, const RunCost& cost);
  void Queue(std::shared_ptr<Run> run);
  void Step(const std::shared_ptr<Run>& run, bool cancelled);
  // MarkRunning records that the job's first mini-batch runs now (state, start step and time).
  void MarkRunning(Run& run, const Model& model);
  // ApplyStep runs one mini-batch and publishes its report, best and point; false when the run
  // failed and has ended.
  bool ApplyStep(const std::shared_ptr<Run>& run, Model* model);
  // EndRun records how far the run got and ends its job; End ends a job that never ran here.
  void EndRun(const std::shared_ptr<Run>& run, v1::JobState state, const absl::Status& status,
              const v1::TrainSummary* summary = nullptr);
  void End(const std::string& id, v1::JobState state, const absl::Status& status,
           const v1::TrainSummary* summary = nullptr);

  ComputeExecutor* const executor_;
  JobRegistry* const jobs_;
  JobHost* const host_;
  const Storage storage_;
  TrainingRuns* const runs_;  // May be null.
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> running_{0};
};

}  // namespace mlpd

#endif  // MLPD_SERVER_JOB_RUNNER_H_
