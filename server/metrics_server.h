// metrics_server.h: every metric family of one mlpd server and the HTTP port that serves them
// (/metrics and the dashboard).
//
// The server makes one ServerMetrics before it builds its gRPC server, gives the builder the
// interceptor factories (the grpc_server_* families), tells it where its own figures live (the
// mlpd_* families), and starts the HTTP port once the gRPC server runs, since the dashboard
// reads through the server's in-process channel.
//
//   ServerMetrics metrics(options, held, queue_depth);
//   builder.experimental().SetInterceptorCreators(metrics.InterceptorFactories());
//   std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
//   absl::StatusOr<int> http_port = metrics.StartHttp(server->InProcessChannel({}));
//   ...
//   metrics.StopHttp();  // before the gRPC server shuts down
#ifndef MLPD_SERVER_METRICS_SERVER_H_
#define MLPD_SERVER_METRICS_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/http/http_server.h"
#include "server/metrics_grpc.h"
#include "server/metrics_mlpd.h"
#include "server/metrics_registry.h"

namespace mlpd {

class ServerMetrics {
 public:
  struct Options {
    std::string http_listen;  // host:port of /metrics and the dashboard; empty: no HTTP port.
    std::string token;        // The --auth-token-file token; empty: the port is open.
    bool metrics_without_token = false;  // With a token: leave /metrics open.
    MlpdMetrics::Limits limits;
  };

  ServerMetrics(Options options, std::function<MlpdMetrics::Held()> held,
                std::function<int64_t()> queue_depth);
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // InterceptorFactories returns what grpc::ServerBuilder needs to count every call; call once.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  InterceptorFactories();

  // StartHttp opens the HTTP port (unless http_listen is empty: then it returns 0); the
  // dashboard calls the API over `channel`. Returns the bound port.
  absl::StatusOr<int> StartHttp(std::shared_ptr<grpc::Channel> channel);
  // StopHttp closes the port; idempotent.
  void StopHttp();

  MetricsRegistry& registry() { return registry_; }
  MlpdMetrics& mlpd() { return mlpd_; }

 private:
  const Options options_;
  MetricsRegistry registry_;
  GrpcServerMetrics grpc_;
  MlpdMetrics mlpd_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_METRICS_SERVER_H_
