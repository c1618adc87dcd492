// server.h: the mlpd server: the service, its executor, its data dir and the gRPC listener.
//
// main() runs one Server; tests and benchmarks run one in-process on port 0 or a unix socket
// and talk to it through real stubs.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   options.data_dir = "/tmp/mlpd";
//   Server server;
//   absl::StatusOr<int> port = server.Start(options);
//   ...
//   server.Shutdown();  // drain, snapshot every session, stop
#ifndef MLPD_SERVER_SERVER_H_
#define MLPD_SERVER_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"
#include "server/compute_executor.h"
#include "server/data_dir.h"
#include "server/metrics_server.h"
#include "server/options.h"
#include "server/security.h"
#include "server/serial_worker.h"
#include "server/service.h"

namespace mlpd {

class Server {
 public:
  Server();
  // The destructor shuts down gracefully when Start succeeded and Shutdown was not called.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Start loads the data dir, then listens; returns the bound TCP port (0 for unix sockets).
  absl::StatusOr<int> Start(const ServerOptions& options);

  // Shutdown drains: health goes NOT_SERVING and new calls get UNAVAILABLE; queued work and
  // running Train calls get drain_seconds to finish (Train calls still running then stop at
  // their next mini-batch); every changed session is snapshotted; then the server stops.
  void Shutdown();

  // The service, for counters in tests and logs.
  const MlpdService& service() const { return *service_; }
  // The compute executor, for tests that look at its thread's state.
  ComputeExecutor& executor() { return *executor_; }
  const std::string& listen_address() const { return options_.listen; }
  // http_port is the bound HTTP port of /metrics and the dashboard; 0 when there is none.
  int http_port() const { return http_port_; }

 private:
  // LoadDataDir registers every session and dataset of the data dir with the service.
  absl::Status LoadDataDir();
  // Listen builds and starts the gRPC server on --listen; returns the bound TCP port (0 for
  // unix sockets). On failure nothing listens and the executor is stopped.
  absl::StatusOr<int> Listen(const std::shared_ptr<grpc::ServerCredentials>& credentials);
  // StartMetrics makes the metric families, which read the executor and the service at scrape
  // time (the HTTP port opens later, once the gRPC server runs).
  void StartMetrics();
  void SnapshotTimer();

  ServerOptions options_;
  std::unique_ptr<DataDir> store_;
  std::unique_ptr<SerialWorker> writer_;
  std::unique_ptr<ComputeExecutor> executor_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<ServerMetrics> metrics_;
  int http_port_ = 0;
  std::unique_ptr<MlpdService> service_;
  std::unique_ptr<grpc::Server> server_;

  absl::Mutex timer_mutex_;
  bool timer_stop_ ABSL_GUARDED_BY(timer_mutex_) = false;
  std::thread timer_;
  bool running_ = false;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SERVER_H_
