#include "server/service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/log.h"
#include "server/names.h"

namespace mlpd {
namespace {

// JobPersistence saves and removes job records on the disk writer, in order with the sessions'
// snapshots: a record that names a session's step count is on disk before a snapshot past it.
JobRegistry::Persistence JobPersistence(JobStore* store, SerialWorker* writer) {
  if (store == nullptr) return {};
  return {[store, writer](const v1::Job& job) {
            writer->Post([store, job] {
              const absl::Status saved = store->Save(job);
              if (!saved.ok()) LogLine(absl::StrFormat("job %s: %s", job.id(), saved.ToString()));
            });
          },
          [store, writer](const std::string& id) {
            writer->Post([store, id] {
              const absl::Status removed = store->Delete(id);
              if (!removed.ok()) LogLine(absl::StrFormat("job %s: %s", id, removed.ToString()));
            });
          }};
}

}  // namespace

MlpdService::MlpdService(const ServerOptions& options, ComputeExecutor* executor, DataDir* store,
                         SerialWorker* writer, const TokenAuthenticator* auth, MlpdMetrics* metrics)
    : max_session_params_(options.max_session_params),
      max_message_bytes_(options.max_message_mb << 20),
      info_(DescribeServer(options, ServerTraits{/*keeps_data=*/store != nullptr,
                                                 /*requires_token=*/auth != nullptr,
                                                 /*start_time_unix_ms=*/NowUnixMs()})),
      executor_(executor),
      auth_(auth),
      files_(store, writer),
      policy_{&files_,
              options.checkpoint_every,
              metrics,
              options.max_call_activation_mb << 20,
              [this] { return session_room_bytes(); },
              options.max_sessions_mb},
      max_sessions_bytes_(options.max_sessions_mb << 20),
      writer_(files_.keeps_data() ? writer : nullptr),
      job_store_(writer_ != nullptr ? std::make_unique<JobStore>(store->data_dir() + "/jobs")
                                    : nullptr),
      history_(writer_ != nullptr ? std::make_unique<HistoryStore>(store->data_dir() + "/history")
                                  : nullptr),
      sessions_("session", {options.max_sessions, "--max-sessions"},
                {options.max_sessions_mb << 20, "--max-sessions-mb"}),
      runs_(options.max_trains, &sessions_),
      runner_(executor, &sessions_, &policy_),
      datasets_({options.max_datasets, "--max-datasets"}, options.max_datasets_mb << 20, &files_),
      jobs_(JobPersistence(job_store_.get(), writer_)),
      job_runner_(executor, &jobs_, this, {job_store_.get(), writer_}, &runs_) {}

MlpdService::~MlpdService() = default;

grpc::ServerUnaryReactor* MlpdService::GetServerInfo(grpc::CallbackServerContext* context,
                                                     const v1::GetServerInfoRequest* request,
                                                     v1::ServerInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Status admitted = Admit(*context);
  if (admitted.ok()) *response = info_;
  Answer(reactor, "GetServerInfo", "", admitted);
  return reactor;
}

absl::Status MlpdService::Admit(const grpc::CallbackServerContext& context) const {
  if (draining_.load()) {
    return absl::UnavailableError("the server is shutting down; no new calls are accepted");
  }
  if (auth_ != nullptr) return auth_->Check(context);
  return absl::OkStatus();
}

int64_t MlpdService::session_room_bytes() const {
  const int64_t state = sessions_.bytes() + sessions_.reserved_bytes();
  if (max_sessions_bytes_ == 0 || state > max_sessions_bytes_) return -1;
  return max_sessions_bytes_ - state;
}

std::string MlpdService::OverLimits() const {
  std::vector<std::string> over = {sessions_.OverLimit()};
  for (std::string& dataset_over : datasets_.OverLimit()) over.push_back(std::move(dataset_over));
  over.erase(std::remove(over.begin(), over.end(), ""), over.end());
  return absl::StrJoin(over, "; ");
}

int64_t MlpdService::unsaved_sessions() const {
  int64_t unsaved = 0;
  for (const std::shared_ptr<Session>& session : sessions_.All()) {
    unsaved += session->snapshot_failed ? 1 : 0;
  }
  return unsaved;
}

void MlpdService::SnapshotChanged() {
  for (const std::shared_ptr<Session>& session : sessions_.All()) session->SnapshotIfDirty();
}

absl::Status MlpdService::RestoreSession(const std::string& name, LoadedSession loaded) {
  MLPD_RETURN_IF_ERROR(ValidateName("session file name", name));
  // Snapshots since this field exists keep the session's times; older ones fall back to now.
  const int64_t now = NowUnixMs();
  const int64_t created = loaded.create_time_unix_ms > 0 ? loaded.create_time_unix_ms : now;
  const int64_t updated = loaded.update_time_unix_ms > 0 ? loaded.update_time_unix_ms : created;
  std::shared_ptr<Session> session = runner_.NewSession(name, loaded.model->spec(), created);
  session->Attach(std::move(loaded.model), updated);
  session->MarkSaved();
  // A session on disk is loaded even past a lowered limit: left out, its file could be
  // overwritten by a new session of the same name.
  const int64_t bytes = session->memory_bytes;
  return sessions_.Add(name, std::move(session), bytes, NamedRegistry<Session>::AtLimit::kAdd);
}

absl::Status MlpdService::RestoreDataset(const std::string& name, Dataset dataset,
                                         int64_t create_time_unix_ms) {
  return datasets_.Restore(name, std::move(dataset), create_time_unix_ms);
}

void MlpdService::BeginDrain() { draining_ = true; }

void MlpdService::StopTrains() { trains_.stop = true; }

}  // namespace mlpd
