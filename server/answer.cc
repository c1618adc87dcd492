#include "server/answer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "server/log.h"

namespace mlpd {

void LogFailure(absl::string_view method, absl::string_view name, const absl::Status& status) {
  const std::string code = StatusCodeName(status.code());
  LogEvent event("call_failed");
  event.Level(status.code() == absl::StatusCode::kInternal ? LogLevel::kError : LogLevel::kWarning)
      .Method(method)
      .Code(code)
      .Message(absl::StrFormat("%s failed: code=%s name=\"%s\" %s", method, code, name,
                               status.message()));
  // The name is a session's, except for the dataset methods.
  if (!absl::StrContains(method, "Dataset")) event.Session(name);
  event.Write();
}

void Answer(grpc::ServerUnaryReactor* reactor, absl::string_view method, absl::string_view name,
            const absl::Status& status) {
  if (!status.ok()) LogFailure(method, name, status);
  reactor->Finish(ToGrpcStatus(status));
}

}  // namespace mlpd
