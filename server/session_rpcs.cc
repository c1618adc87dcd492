// The session handlers: CreateSession, GetSession, ListSessions, DeleteSession.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/model.h"
#include "core/plan_cache.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/names.h"
#include "server/request_checks.h"
#include "server/service.h"

namespace mlpd {

grpc::ServerUnaryReactor* MlpdService::CreateSession(grpc::CallbackServerContext* context,
                                                     const v1::CreateSessionRequest* request,
                                                     v1::SessionInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto parse = [&]() -> absl::StatusOr<ModelSpec> {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_RETURN_IF_ERROR(ValidateName("name", request->name()));
    MLPD_ASSIGN_OR_RETURN(ModelSpec spec, ParseCreate(*request));
    MLPD_RETURN_IF_ERROR(CheckSessionSize(spec, max_session_params_));
    return spec;
  };
  absl::StatusOr<ModelSpec> spec = parse();
  if (!spec.ok()) {
    Answer(reactor, "CreateSession", request->name(), spec.status());
    return reactor;
  }
  runner_.Create(
      request->name(), *spec, [spec = *spec] { return Model::Create(spec); }, response,
      [reactor, name = request->name()](const absl::Status& status) {
        Answer(reactor, "CreateSession", name, status);
      });
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::GetSession(grpc::CallbackServerContext* context,
                                                  const v1::GetSessionRequest* request,
                                                  v1::SessionInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<std::shared_ptr<Session>> session = runner_.Find(request->name());
    status = session.status();
    if (status.ok() && !(*session)->ready) {
      status = absl::NotFoundError(absl::StrFormat(
          "session \"%s\" does not exist yet: its creation or import has not finished",
          request->name()));
    }
    if (status.ok()) (*session)->FillInfo(response);
  }
  Answer(reactor, "GetSession", request->name(), status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::ListSessions(grpc::CallbackServerContext* context,
                                                    const v1::ListSessionsRequest* request,
                                                    v1::ListSessionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  std::vector<std::shared_ptr<Session>> page;
  if (status.ok()) {
    status = sessions_.Page(request->page_size(), request->page_token(), &page,
                            response->mutable_next_page_token());
  }
  if (status.ok()) {
    for (const auto& session : page) {
      if (session->ready) session->FillInfo(response->add_sessions());
    }
  }
  Answer(reactor, "ListSessions", "", status);
  return reactor;
}

void MlpdService::ReleasePlans(const ModelSpec& spec) {
  const std::string shape_key = PlanCache::ShapeKey(spec);
  for (const std::shared_ptr<Session>& session : sessions_.All()) {
    if (PlanCache::ShapeKey(session->spec) == shape_key) return;
  }
  PlanCache::ForThisThread().Drop(shape_key);
}

grpc::ServerUnaryReactor* MlpdService::DeleteSession(grpc::CallbackServerContext* context,
                                                     const v1::DeleteSessionRequest* request,
                                                     v1::DeleteSessionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  absl::StatusOr<std::shared_ptr<Session>> session;
  if (status.ok()) {
    session = runner_.Find(request->name());
    status = session.status();
  }
  if (!status.ok()) {
    Answer(reactor, "DeleteSession", request->name(), status);
    return reactor;
  }
  // The session leaves memory once its file is gone, after any snapshot already handed to the
  // writer: a deletion that fails on disk leaves it in both, not gone now and back at restart.
  auto forget = [this, found = *session]() -> absl::Status {
    if (!sessions_.RemoveIf(found->name, found.get())) {
      return absl::NotFoundError(absl::StrFormat("session \"%s\" does not exist", found->name));
    }
    found->deleted = true;  // Later snapshots of it are not written.
    // Queued calls of the session answer NOT_FOUND now; a running one completes first.
    executor_->Cancel(found->id);
    executor_->Continue(found->id, [this, spec = found->spec](bool cancelled) {
      if (!cancelled) ReleasePlans(spec);
    });
    return absl::OkStatus();
  };
  files_.RemoveThenForget(
      reactor, "DeleteSession", request->name(),
      [name = request->name(), history = history_.get()](DataDir& store) {
        absl::Status removed = store.DeleteSession(name);
        // The curve goes with the session (RecordHistory drops points that come later).
        if (removed.ok() && history != nullptr) removed = history->Delete(name);
        return removed;
      },
      std::move(forget));
  return reactor;
}

}  // namespace mlpd
