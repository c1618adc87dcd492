#include "server/service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/checkpoint.h"
#include "core/status_macros.h"
#include "server/names.h"

namespace mlpd {
namespace {

// The executor key of work that belongs to no session (start-up restores).
constexpr uint64_t kServiceKey = 0;

}  // namespace

MlpdService::MlpdService(ServiceOptions options, ComputeExecutor* executor, SessionStore* store,
                         SerialWorker* writer, const TokenAuthenticator* auth)
    : options_(options),
      executor_(executor),
      auth_(auth),
      files_(store, writer),
      policy_{&files_, options.checkpoint_every},
      sessions_("session", {options.max_sessions, "--max-sessions"},
                {options.max_session_bytes, "--max-sessions-mb"}),
      runner_(executor, &sessions_, &policy_),
      datasets_({options.max_datasets, "--max-datasets"}, options.max_dataset_bytes, &files_) {}

MlpdService::~MlpdService() = default;

absl::Status MlpdService::Admit(const grpc::CallbackServerContext& context) const {
  if (draining_.load()) {
    return absl::UnavailableError("the server is shutting down; no new calls are accepted");
  }
  if (auth_ != nullptr) return auth_->Check(context);
  return absl::OkStatus();
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

absl::Status MlpdService::RestoreSession(const std::string& name,
                                         const v1::Checkpoint& checkpoint) {
  MLPD_RETURN_IF_ERROR(ValidateName("session file name", name));
  absl::StatusOr<std::unique_ptr<Model>> model;
  // Building a model touches oneDNN; it belongs on the executor like every engine call.
  executor_->RunAndWait(kServiceKey, [&] { model = RestoreCheckpoint(checkpoint); });
  if (!model.ok()) return model.status();
  // Snapshots since this field exists keep the session's times; older ones fall back to now.
  const int64_t now = NowUnixMs();
  const int64_t created =
      checkpoint.create_time_unix_ms() > 0 ? checkpoint.create_time_unix_ms() : now;
  const int64_t updated =
      checkpoint.update_time_unix_ms() > 0 ? checkpoint.update_time_unix_ms() : created;
  std::shared_ptr<Session> session = runner_.NewSession(name, (*model)->spec(), created);
  session->Attach(*std::move(model), updated);
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
