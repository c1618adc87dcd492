// ping_server.h: a tiny in-process gRPC server for transport and authentication tests.
//
// It serves only mlpd.v1.Mlpd/ListSessions (an empty list), after an optional bearer-token
// check, on a free loopback port with the given credentials. That is enough to prove what
// reaches a handler without depending on the real service.
//
//   mlpd::testing::PingServer server(grpc::InsecureServerCredentials(), &authenticator);
//   ASSERT_TRUE(server.started());
//   grpc::Status status = mlpd::testing::Ping(server.port(), channel_credentials, "Bearer t");
#ifndef MLPD_TESTS_SERVER_PING_SERVER_H_
#define MLPD_TESTS_SERVER_PING_SERVER_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "server/security.h"

namespace mlpd {
namespace testing {

class PingService final : public v1::Mlpd::Service {
 public:
  explicit PingService(const TokenAuthenticator* authenticator) : authenticator_(authenticator) {}

  grpc::Status ListSessions(grpc::ServerContext* context, const v1::ListSessionsRequest*,
                            v1::ListSessionsResponse*) override {
    if (authenticator_ != nullptr) {
      absl::Status allowed = authenticator_->Check(*context);
      if (!allowed.ok()) {
        return grpc::Status(static_cast<grpc::StatusCode>(allowed.code()),
                            std::string(allowed.message()));
      }
    }
    return grpc::Status::OK;
  }

 private:
  const TokenAuthenticator* authenticator_;  // Not owned; null means no token check.
};

class PingServer {
 public:
  explicit PingServer(std::shared_ptr<grpc::ServerCredentials> credentials,
                      const TokenAuthenticator* authenticator = nullptr)
      : service_(authenticator) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", std::move(credentials), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~PingServer() {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  bool started() const { return server_ != nullptr && port_ > 0; }
  int port() const { return port_; }

 private:
  PingService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// Ping makes one ListSessions call to host:port with an optional authorization value. The
// deadline bounds failed handshakes, which otherwise surface as UNAVAILABLE right away.
inline grpc::Status Ping(int port, std::shared_ptr<grpc::ChannelCredentials> credentials,
                         const std::string& authorization = "",
                         const std::string& host = "localhost",
                         const grpc::ChannelArguments& arguments = grpc::ChannelArguments()) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(absl::StrCat(host, ":", port), std::move(credentials), arguments);
  std::unique_ptr<v1::Mlpd::Stub> stub = v1::Mlpd::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  v1::ListSessionsRequest request;
  v1::ListSessionsResponse response;
  return stub->ListSessions(&context, request, &response);
}

}  // namespace testing
}  // namespace mlpd

#endif  // MLPD_TESTS_SERVER_PING_SERVER_H_
