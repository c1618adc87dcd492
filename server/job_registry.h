// job_registry.h: the server's training jobs in memory, their watchers and the one-live-job-
// per-session rule.
//
// Every change of a job goes through the registry, which saves the record (through the
// persistence callbacks: the server posts them to its disk writer, in order with the session
// snapshots) and hands progress to the job's watchers. Watchers are WatchJob and Train streams;
// each is called under the registry's lock and must only queue what it gets (never call back
// into the registry from OnEvent/OnDone).
//
//   JobRegistry jobs({save, remove});
//   absl::StatusOr<v1::Job> job = jobs.Admit(request, start_step, steps_total, NowUnixMs());
//   jobs.Update(job->id(), [&](v1::Job* j) { j->set_steps_done(n); }, &event);
//   jobs.Finish(job->id(), v1::JOB_STATE_SUCCEEDED, summary, absl::OkStatus(), NowUnixMs());
//
// The rule: a session has at most one live (QUEUED or RUNNING) job; Admit of a second answers
// FAILED_PRECONDITION naming the live one's id. Queueing runs behind each other was the other
// choice; refusing keeps "what is this session doing" obvious and leaves ordering to the caller.
// Done jobs past `max_done` are forgotten, oldest first (record removed from disk).
//
// A Train call's run is an attached job: GetJob, WatchJob and CancelJob find it by its id while
// the call runs, but it is never saved, listed, counted or held to the one-job rule (Train
// calls are not), and it is forgotten as soon as it ends.
#ifndef MLPD_SERVER_JOB_REGISTRY_H_
#define MLPD_SERVER_JOB_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

// JobWatcher receives a job's events. Both calls come under the registry's lock.
class JobWatcher {
 public:
  virtual ~JobWatcher() = default;
  // OnEvent gets each progress report of the job.
  virtual void OnEvent(const v1::TrainResponse& event) = 0;
  // OnDone gets the final job (done, with summary or error); no call follows.
  virtual void OnDone(const v1::Job& job) = 0;
};

class JobRegistry {
 public:
  // Persistence is how records reach the disk; either may be empty (no data dir).
  struct Persistence {
    std::function<void(const v1::Job&)> save;
    std::function<void(const std::string& id)> remove;
  };
  static constexpr int64_t kDefaultMaxDone = 1000;

  explicit JobRegistry(Persistence persistence, int64_t max_done = kDefaultMaxDone);

  // Restore adds the jobs loaded at start-up (before any Admit).
  void Restore(std::vector<v1::Job> jobs);
  // Admit records a new QUEUED job for `request`, or FAILED_PRECONDITION naming the session's
  // live job. An `attached` job (a Train call's) is admitted whatever the session runs.
  absl::StatusOr<v1::Job> Admit(const v1::TrainRequest& request, int64_t start_step,
                                int64_t steps_total, int64_t now_unix_ms, bool attached = false);
  // Get returns the job; NOT_FOUND naming the id.
  absl::StatusOr<v1::Job> Get(const std::string& id) const;
  // List answers ListJobs (newest first; the page token is the last id of the previous page).
  absl::StatusOr<v1::ListJobsResponse> List(const v1::ListJobsRequest& request) const;
  // LiveJobs are the jobs not done, oldest first (to resume at start-up).
  std::vector<v1::Job> LiveJobs() const;
  // CountByState counts the jobs held in each state, named as `mlpctl jobs --state` spells them
  // ("queued", "running", "succeeded", "failed", "cancelled"), every state present even at 0.
  // Done jobs count until they are forgotten (past `max_done`).
  std::vector<std::pair<std::string, int64_t>> CountByState() const;

  // RequestCancel asks the job to stop with `reason` (the runner checks CancelReason between
  // mini-batches); returns the job. A done job is returned unchanged.
  absl::StatusOr<v1::Job> RequestCancel(const std::string& id, const std::string& reason);
  // CancelReason is the reason given to RequestCancel, empty when none was.
  std::string CancelReason(const std::string& id) const;

  // Update changes a live job with `change`, saves the record when `save`, and hands `event`
  // (when not null) to the watchers.
  void Update(const std::string& id, const std::function<void(v1::Job*)>& change,
              const v1::TrainResponse* event, bool save = true);
  // Finish makes the job done: SUCCEEDED with `summary`, or FAILED/CANCELLED with `error`.
  // Saves it, tells the watchers and lets them go.
  void Finish(const std::string& id, v1::JobState state, const v1::TrainSummary* summary,
              const absl::Status& error, int64_t now_unix_ms);

  // Release lets the watchers of a live job go with `status` (the server is stopping: the job
  // stays live and resumes at the next start).
  void Release(const std::string& id, const absl::Status& status);
  // CheckNoLiveJob is FAILED_PRECONDITION naming the session's QUEUED or RUNNING job, or OK.
  absl::Status CheckNoLiveJob(const std::string& session) const;

  // Watch returns the job as it is and, when it is live, subscribes `watcher` to its events
  // until Unwatch or its end. NOT_FOUND for an unknown id.
  absl::StatusOr<v1::Job> Watch(const std::string& id, JobWatcher* watcher);
  // Unwatch unsubscribes; after it returns the watcher is never called again.
  void Unwatch(const std::string& id, JobWatcher* watcher);

 private:
  struct Entry {
    v1::Job job;
    bool attached = false;  // A Train call's: never saved, listed or counted.
    std::string cancel_reason;
    std::vector<JobWatcher*> watchers;
  };
  void ForgetOldDone() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status CheckNoLiveJobLocked(const std::string& session) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Save(const Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Persistence persistence_;
  const int64_t max_done_;

  mutable absl::Mutex mutex_;
  std::map<std::string, Entry> jobs_ ABSL_GUARDED_BY(mutex_);  // By id: creation order.
  absl::flat_hash_map<std::string, std::string> live_by_session_ ABSL_GUARDED_BY(mutex_);
  int64_t done_count_ ABSL_GUARDED_BY(mutex_) = 0;
};

// IsFinal says whether a job in `state` is done.
bool IsFinal(v1::JobState state);
// JobStateLabel is the state's name as metrics, logs and `mlpctl jobs --state` spell it
// ("queued", "running", "succeeded", "failed", "cancelled"; "unspecified" otherwise).
const char* JobStateLabel(v1::JobState state);

}  // namespace mlpd

#endif  // MLPD_SERVER_JOB_REGISTRY_H_
