#include "server/answer.h"

#include "absl/strings/str_format.h"
#include "server/log.h"

namespace mlpd {

void LogFailure(absl::string_view method, absl::string_view name, const absl::Status& status) {
  LogLine(absl::StrFormat("%s failed: code=%s name=\"%s\" %s", method,
                          StatusCodeName(status.code()), name, status.message()));
}

void Answer(grpc::ServerUnaryReactor* reactor, absl::string_view method, absl::string_view name,
            const absl::Status& status) {
  if (!status.ok()) LogFailure(method, name, status);
  reactor->Finish(ToGrpcStatus(status));
}

}  // namespace mlpd
