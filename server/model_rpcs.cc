// The model handlers: ExportSession, ImportSession, SaveSession.
#include <memory>
#include <utility>

#include "core/checkpoint.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/names.h"
#include "server/request_checks.h"
#include "server/service.h"

namespace mlpd {

grpc::ServerUnaryReactor* MlpdService::ExportSession(grpc::CallbackServerContext* context,
                                                     const v1::ExportSessionRequest* request,
                                                     v1::ExportSessionResponse* response) {
  absl::Status precheck = Admit(*context);
  const v1::ExportFormat format = request->format();
  if (precheck.ok()) precheck = CheckExportFormat(format);
  return runner_.Run(context, "ExportSession", request->name(), precheck,
                     [format, response](Session& session) {
                       response->set_format(format);
                       MLPD_ASSIGN_OR_RETURN(*response->mutable_data(), session.Export(format));
                       return absl::OkStatus();
                     });
}

grpc::ServerUnaryReactor* MlpdService::ImportSession(grpc::CallbackServerContext* context,
                                                     const v1::ImportSessionRequest* request,
                                                     v1::SessionInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto checkpoint = std::make_shared<v1::Checkpoint>();
  auto parse = [&]() -> absl::StatusOr<ModelSpec> {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_RETURN_IF_ERROR(ValidateName("name", request->name()));
    MLPD_ASSIGN_OR_RETURN(ModelSpec spec, ParseImport(*request, checkpoint.get()));
    MLPD_RETURN_IF_ERROR(CheckSessionSize(spec, max_session_params_));
    return spec;
  };
  absl::StatusOr<ModelSpec> spec = parse();
  if (!spec.ok()) {
    Answer(reactor, "ImportSession", request->name(), spec.status());
    return reactor;
  }
  return runner_.Create(
      reactor, "ImportSession", request->name(), *spec,
      [checkpoint] { return RestoreCheckpoint(*checkpoint); }, response);
}

grpc::ServerUnaryReactor* MlpdService::SaveSession(grpc::CallbackServerContext* context,
                                                   const v1::SaveSessionRequest* request,
                                                   v1::SaveSessionResponse* response) {
  absl::Status precheck = Admit(*context);
  if (precheck.ok() && !files_.keeps_data()) {
    precheck =
        absl::FailedPreconditionError("the server keeps no data: it runs without --data-dir");
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::shared_ptr<Session>> session = runner_.Find(request->name());
  if (precheck.ok()) precheck = session.status();
  if (precheck.ok()) {
    std::shared_ptr<Session> target = *session;
    precheck = executor_->Submit(target->id, [reactor, response, target](bool cancelled) {
      const absl::Status gone = target->Gone(cancelled);
      if (!gone.ok()) {
        Answer(reactor, "SaveSession", target->name, gone);
        return;
      }
      // The answer waits for the writer: SaveSession acknowledges only durable snapshots.
      target->Snapshot(
          [reactor, response, name = target->name](const absl::Status& saved, int64_t step) {
            if (saved.ok()) response->set_step_count(step);
            Answer(reactor, "SaveSession", name, saved);
          });
    });
  }
  if (!precheck.ok()) Answer(reactor, "SaveSession", request->name(), precheck);
  return reactor;
}

}  // namespace mlpd
