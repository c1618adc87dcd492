// The model handlers: ExportSession, ImportSession, SaveSession.
#include <memory>
#include <utility>

#include "core/checkpoint.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/export_reactor.h"
#include "server/import_reactor.h"
#include "server/names.h"
#include "server/request_checks.h"
#include "server/service.h"

namespace mlpd {

grpc::ServerWriteReactor<v1::ExportSessionResponse>* MlpdService::ExportSession(
    grpc::CallbackServerContext* context, const v1::ExportSessionRequest* request) {
  absl::Status precheck = Admit(*context);
  const v1::ExportFormat format = request->format();
  if (precheck.ok()) precheck = CheckExportFormat(format);
  auto* reactor = new ExportReactor(request->name(), format);
  // The export is made on the executor; the stream sends it from gRPC's threads.
  auto bytes = std::make_shared<std::string>();
  runner_.Submit(
      context, request->name(), precheck,
      [bytes, format](Session& session) {
        MLPD_ASSIGN_OR_RETURN(*bytes, session.Export(format));
        return absl::OkStatus();
      },
      [reactor, bytes](const absl::Status& status) { reactor->Send(status, std::move(*bytes)); });
  return reactor;
}

grpc::ServerReadReactor<v1::ImportSessionRequest>* MlpdService::ImportSession(
    grpc::CallbackServerContext* context, v1::SessionInfo* response) {
  const absl::Status admitted = Admit(*context);
  if (!admitted.ok()) {
    return Refuse<grpc::ServerReadReactor<v1::ImportSessionRequest>>("ImportSession", "", admitted);
  }
  return new ImportReactor(
      context, ImportBytesLimit(max_session_params_),
      [this, response](ImportedExport import, ImportReactor::Done done) {
        auto checkpoint = std::make_shared<v1::Checkpoint>();
        auto parse = [&]() -> absl::StatusOr<ModelSpec> {
          MLPD_ASSIGN_OR_RETURN(ModelSpec spec, ParseImport(import.data, checkpoint.get()));
          MLPD_RETURN_IF_ERROR(CheckSessionSize(spec, max_session_params_));
          return spec;
        };
        absl::StatusOr<ModelSpec> spec = parse();
        if (!spec.ok()) {
          done(spec.status());
          return;
        }
        // The bytes are parsed: free them before the model is built from the checkpoint.
        import.data = std::string();
        runner_.Create(
            import.name, *spec, [checkpoint] { return RestoreCheckpoint(*checkpoint); }, response,
            std::move(done));
      });
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
