// scripted_server.h: an in-process gRPC server running a scripted service on a free loopback
// port, for the client tests that check what the client sends and how it reads the answers.
#ifndef MLPD_TESTS_CLIENT_SCRIPTED_SERVER_H_
#define MLPD_TESTS_CLIENT_SCRIPTED_SERVER_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace mlpd {

struct ScriptedServer {
  std::unique_ptr<grpc::Server> server;  // Null when it could not start.
  int port = 0;
  std::string target() const { return absl::StrCat("127.0.0.1:", port); }
};

// StartScripted serves `service` (which must outlive the server) on 127.0.0.1 and a free port.
inline ScriptedServer StartScripted(grpc::Service* service) {
  ScriptedServer scripted;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &scripted.port);
  builder.RegisterService(service);
  scripted.server = builder.BuildAndStart();
  return scripted;
}

}  // namespace mlpd

#endif  // MLPD_TESTS_CLIENT_SCRIPTED_SERVER_H_
