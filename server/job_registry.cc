#include "server/job_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "server/job_store.h"

namespace mlpd {
namespace {

constexpr int32_t kDefaultPageSize = 100;
constexpr int32_t kMaxPageSize = 1000;
// The states a job passes through, with their labels.
constexpr std::pair<v1::JobState, const char*> kStates[] = {{v1::JOB_STATE_QUEUED, "queued"},
                                                            {v1::JOB_STATE_RUNNING, "running"},
                                                            {v1::JOB_STATE_SUCCEEDED, "succeeded"},
                                                            {v1::JOB_STATE_FAILED, "failed"},
                                                            {v1::JOB_STATE_CANCELLED, "cancelled"}};

}  // namespace

bool IsFinal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

const char* JobStateLabel(v1::JobState state) {
  for (const auto& [known, label] : kStates) {
    if (known == state) return label;
  }
  return "unspecified";
}

JobRegistry::JobRegistry(Persistence persistence, int64_t max_done)
    : persistence_(std::move(persistence)), max_done_(max_done) {}

void JobRegistry::Save(const Entry& entry) {
  if (!entry.attached && persistence_.save) persistence_.save(entry.job);
}

void JobRegistry::Restore(std::vector<v1::Job> jobs) {
  absl::MutexLock lock(&mutex_);
  for (v1::Job& job : jobs) {
    const std::string id = job.id();
    if (job.done()) {
      ++done_count_;
    } else {
      live_by_session_[job.session()] = id;
    }
    jobs_[id].job = std::move(job);
  }
  ForgetOldDone();
}

absl::StatusOr<v1::Job> JobRegistry::Admit(const v1::TrainRequest& request, int64_t start_step,
                                           int64_t steps_total, int64_t now_unix_ms,
                                           bool attached) {
  absl::MutexLock lock(&mutex_);
  if (!attached) {
    if (absl::Status free = CheckNoLiveJobLocked(request.name()); !free.ok()) return free;
  }
  std::string id = NewJobId(now_unix_ms);
  while (jobs_.count(id) > 0) id = NewJobId(now_unix_ms);
  v1::Job job;
  job.set_id(id);
  job.set_session(request.name());
  job.set_dataset(request.dataset());
  *job.mutable_request() = request;
  job.set_state(v1::JOB_STATE_QUEUED);
  job.set_steps_total(steps_total);
  job.set_epoch(1);
  job.set_start_step(start_step);
  job.set_create_time_unix_ms(now_unix_ms);
  job.set_update_time_unix_ms(now_unix_ms);
  Entry& entry = jobs_[id];
  entry.job = job;
  entry.attached = attached;
  if (!attached) live_by_session_[request.name()] = id;
  Save(entry);
  return job;
}

absl::StatusOr<v1::Job> JobRegistry::Get(const std::string& id) const {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end()) return absl::NotFoundError(absl::StrFormat("no job \"%s\"", id));
  return found->second.job;
}

absl::StatusOr<v1::ListJobsResponse> JobRegistry::List(const v1::ListJobsRequest& request) const {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("page_size is %d, expected >= 0", request.page_size()));
  }
  const int32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  v1::ListJobsResponse response;
  absl::MutexLock lock(&mutex_);
  // Newest first: walk ids downwards from just below the token.
  auto it = request.page_token().empty() ? jobs_.end() : jobs_.lower_bound(request.page_token());
  while (it != jobs_.begin()) {
    --it;
    const v1::Job& job = it->second.job;
    if (it->second.attached) continue;
    if (!request.session().empty() && job.session() != request.session()) continue;
    if (request.state() != v1::JOB_STATE_UNSPECIFIED && job.state() != request.state()) continue;
    if (response.jobs_size() == page_size) {
      response.set_next_page_token(response.jobs(page_size - 1).id());
      break;
    }
    *response.add_jobs() = job;
  }
  return response;
}

std::vector<v1::Job> JobRegistry::LiveJobs() const {
  std::vector<v1::Job> live;
  absl::MutexLock lock(&mutex_);
  for (const auto& [id, entry] : jobs_) {
    if (!entry.job.done() && !entry.attached) live.push_back(entry.job);
  }
  return live;
}

std::vector<std::pair<std::string, int64_t>> JobRegistry::CountByState() const {
  std::vector<std::pair<std::string, int64_t>> counts;
  absl::MutexLock lock(&mutex_);
  for (const auto& [state, name] : kStates) {
    int64_t count = 0;
    for (const auto& [id, entry] : jobs_) {
      count += !entry.attached && entry.job.state() == state ? 1 : 0;
    }
    counts.emplace_back(name, count);
  }
  return counts;
}

absl::StatusOr<v1::Job> JobRegistry::RequestCancel(const std::string& id,
                                                   const std::string& reason) {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end()) return absl::NotFoundError(absl::StrFormat("no job \"%s\"", id));
  Entry& entry = found->second;
  if (!entry.job.done() && entry.cancel_reason.empty()) entry.cancel_reason = reason;
  return entry.job;
}

std::string JobRegistry::CancelReason(const std::string& id) const {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  return found == jobs_.end() ? std::string() : found->second.cancel_reason;
}

void JobRegistry::Update(const std::string& id, const std::function<void(v1::Job*)>& change,
                         const v1::TrainResponse* event, bool save) {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end() || found->second.job.done()) return;
  Entry& entry = found->second;
  change(&entry.job);
  if (save) Save(entry);
  if (event == nullptr) return;
  for (JobWatcher* watcher : entry.watchers) watcher->OnEvent(*event);
}

void JobRegistry::Finish(const std::string& id, v1::JobState state, const v1::TrainSummary* summary,
                         const absl::Status& error, int64_t now_unix_ms) {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end() || found->second.job.done()) return;
  Entry& entry = found->second;
  v1::Job& job = entry.job;
  job.set_state(state);
  job.set_done(true);
  job.set_end_time_unix_ms(now_unix_ms);
  job.set_update_time_unix_ms(now_unix_ms);
  if (summary != nullptr) {
    *job.mutable_summary() = *summary;
  } else {
    job.mutable_error()->set_code(static_cast<int32_t>(error.code()));
    job.mutable_error()->set_message(std::string(error.message()));
  }
  Save(entry);
  if (auto live = live_by_session_.find(job.session());
      live != live_by_session_.end() && live->second == id) {
    live_by_session_.erase(live);
  }
  for (JobWatcher* watcher : entry.watchers) watcher->OnDone(job);
  entry.watchers.clear();
  if (entry.attached) {
    jobs_.erase(found);
    return;
  }
  ++done_count_;
  ForgetOldDone();
}

void JobRegistry::ForgetOldDone() {
  for (auto it = jobs_.begin(); done_count_ > max_done_ && it != jobs_.end();) {
    if (!it->second.job.done()) {
      ++it;
      continue;
    }
    if (persistence_.remove) persistence_.remove(it->first);
    it = jobs_.erase(it);
    --done_count_;
  }
}

void JobRegistry::Release(const std::string& id, const absl::Status& status) {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end()) return;
  v1::Job released = found->second.job;
  released.mutable_error()->set_code(static_cast<int32_t>(status.code()));
  released.mutable_error()->set_message(std::string(status.message()));
  for (JobWatcher* watcher : found->second.watchers) watcher->OnDone(released);
  found->second.watchers.clear();
}

absl::Status JobRegistry::CheckNoLiveJob(const std::string& session) const {
  absl::MutexLock lock(&mutex_);
  return CheckNoLiveJobLocked(session);
}

absl::Status JobRegistry::CheckNoLiveJobLocked(const std::string& session) const {
  auto live = live_by_session_.find(session);
  if (live == live_by_session_.end()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "session \"%s\" already has a running job, %s; cancel it (CancelJob) or wait for it "
      "(WatchJob) before starting another",
      session, live->second));
}

absl::StatusOr<v1::Job> JobRegistry::Watch(const std::string& id, JobWatcher* watcher) {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end()) return absl::NotFoundError(absl::StrFormat("no job \"%s\"", id));
  if (!found->second.job.done()) found->second.watchers.push_back(watcher);
  return found->second.job;
}

void JobRegistry::Unwatch(const std::string& id, JobWatcher* watcher) {
  absl::MutexLock lock(&mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end()) return;
  std::vector<JobWatcher*>& watchers = found->second.watchers;
  watchers.erase(std::remove(watchers.begin(), watchers.end(), watcher), watchers.end());
}

}  // namespace mlpd
