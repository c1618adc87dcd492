// answer.h: how a handler answers a call: the status goes back to the client, and a failure is
// logged with the method, the code and the name it concerned.
//
//   Answer(reactor, "GetSession", request->name(), status);
//   return Refuse<grpc::ServerWriteReactor<v1::TrainResponse>>("Train", name, status);
#ifndef MLPD_SERVER_ANSWER_H_
#define MLPD_SERVER_ANSWER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/server_callback.h"
#include "server/wire.h"

namespace mlpd {

// LogFailure writes one log line for a failed call.
void LogFailure(absl::string_view method, absl::string_view name, const absl::Status& status);

// Answer finishes a unary call with `status`, logging it when it failed.
void Answer(grpc::ServerUnaryReactor* reactor, absl::string_view method, absl::string_view name,
            const absl::Status& status);

// Refusal is a stream that fails before it starts: it only carries the status.
template <typename StreamReactor>
class Refusal : public StreamReactor {
 public:
  explicit Refusal(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

// Refuse logs the failure and returns a stream reactor that answers `status` at once.
template <typename StreamReactor>
StreamReactor* Refuse(absl::string_view method, absl::string_view name,
                      const absl::Status& status) {
  LogFailure(method, name, status);
  return new Refusal<StreamReactor>(status);
}

}  // namespace mlpd

#endif  // MLPD_SERVER_ANSWER_H_
