#include "server/session_runner.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/names.h"

namespace mlpd {
namespace {

// Work up to this many multiply-adds (rows x parameters) may run inline on an idle executor:
// a one-row Predict of a small MLP takes microseconds, less than waking the executor thread.
constexpr int64_t kInlineCostLimit = 1 << 16;

}  // namespace

absl::StatusOr<std::shared_ptr<Session>> SessionRunner::Find(const std::string& name) const {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  return sessions_->Find(name);
}

std::shared_ptr<Session> SessionRunner::NewSession(const std::string& name, const ModelSpec& spec,
                                                   int64_t create_time_unix_ms) {
  return std::make_shared<Session>(next_session_id_++, name, spec, create_time_unix_ms, policy_);
}

grpc::ServerUnaryReactor* SessionRunner::Run(grpc::CallbackServerContext* context,
                                             const char* method, const std::string& name,
                                             const absl::Status& precheck, Work work,
                                             int64_t inline_rows) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Submit(
      context, name, precheck, std::move(work),
      [reactor, method, name](const absl::Status& status) {
        Answer(reactor, method, name, status);
      },
      inline_rows);
  return reactor;
}

void SessionRunner::Submit(grpc::CallbackServerContext* context, const std::string& name,
                           const absl::Status& precheck, Work work, Done done,
                           int64_t inline_rows) {
  absl::Status status = precheck;
  if (status.ok()) {
    absl::StatusOr<std::shared_ptr<Session>> session = Find(name);
    status = session.status();
    if (status.ok()) {
      std::shared_ptr<Session> target = *std::move(session);
      const uint64_t key = target->id;
      // Tiny work on an idle executor runs right here: the hand-off would cost more.
      if (inline_rows > 0 && inline_rows * target->parameter_count <= kInlineCostLimit &&
          executor_->TryRunInline([&] {
            absl::Status result = target->Gone(/*cancelled=*/false);
            if (result.ok()) result = work(*target);
            done(result);
          })) {
        return;
      }
      status = executor_->Submit(
          key, [context, done, target = std::move(target), work = std::move(work)](bool cancelled) {
            absl::Status result = target->Gone(cancelled);
            // A caller that gave up while the call waited (its deadline passed, it cancelled or
            // went away) has its answer already: do not apply a step it will never hear of.
            if (result.ok() && context->IsCancelled()) {
              result = absl::CancelledError(
                  "the call was cancelled or passed its deadline while it waited; it did not run");
            }
            if (result.ok()) result = work(*target);
            done(result);
          });
    }
  }
  if (!status.ok()) done(status);
}

void SessionRunner::Create(const std::string& name, const ModelSpec& spec, MakeModel make_model,
                           v1::SessionInfo* response, Done done) {
  std::shared_ptr<Session> session = NewSession(name, spec, NowUnixMs());
  absl::Status status = sessions_->Add(name, session, session->memory_bytes);
  if (status.ok()) {
    status = executor_->Submit(session->id, [this, done, session, response,
                                             make_model = std::move(make_model)](bool cancelled) {
      absl::Status result;
      if (session->deleted) {
        result = absl::NotFoundError(
            absl::StrFormat("session \"%s\" was deleted before it was created", session->name));
      } else if (cancelled) {
        result = absl::UnavailableError("the server is shutting down; the session was not made");
      } else {
        absl::StatusOr<std::unique_ptr<Model>> model = make_model();
        result = model.status();
        if (result.ok()) {
          session->Attach(*std::move(model), session->create_time_unix_ms);
          session->FillInfo(response);
          // A session exists on disk from its creation on, not only after its first steps.
          if (policy_->files->keeps_data()) session->Snapshot(nullptr);
        }
      }
      if (!result.ok()) sessions_->RemoveIf(session->name, session.get());
      done(result);
    });
    if (!status.ok()) sessions_->RemoveIf(name, session.get());
  }
  if (!status.ok()) done(status);
}

}  // namespace mlpd
