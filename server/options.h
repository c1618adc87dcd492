// options.h: every setting of the mlpd server, with its default written once.
//
// main.cc binds each field to its flag (the flag's default is the field's default), tests and
// benchmarks set fields directly; Server::Start checks them with ValidateOptions.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   MLPD_RETURN_IF_ERROR(ValidateOptions(options));
#ifndef MLPD_SERVER_OPTIONS_H_
#define MLPD_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "server/security.h"

namespace mlpd {

// kDefaultDataDir is --data-dir's default: the mlpd binary keeps its data unless told not to,
// while a server embedded in a test or a benchmark (ServerOptions::data_dir empty) keeps none.
inline constexpr char kDefaultDataDir[] = "./data/mlpd";
// kDefaultHttpListen is --http-listen's default (Prometheus' registered exporter port range);
// a server embedded in a test or a benchmark opens no HTTP port unless it asks, so servers run
// at once do not collide on it.
inline constexpr char kDefaultHttpListen[] = "127.0.0.1:9464";

// ServerOptions are the flags of `mlpd` (see main.cc for their documentation).
struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // host:port (port 0 picks one) or unix:/path.
  std::string data_dir;                    // Empty: nothing is kept on disk.
  int64_t max_message_mb = 64;
  int64_t max_sessions = 10000;            // 0: no limit.
  int64_t max_session_params = 100000000;  // Parameters of one session.
  int64_t max_sessions_mb = 4096;          // All sessions' parameters and state; 0: no limit.
  int64_t max_datasets = 1000;             // 0: no limit.
  int64_t max_datasets_mb = 2048;          // All datasets together; 0: no limit.
  // Activations of one call (a training step, a chunk of Predict or Evaluate); 0: no bound.
  int64_t max_call_activation_mb = 256;
  int64_t max_queue = 1024;
  // Training runs open at once: Train calls and jobs (queued or running); 0: no limit.
  int64_t max_trains = 64;
  int threads = 0;  // OpenMP threads of the compute executor; 0: every core.
  // How long the idle executor polls for the next call before it sleeps; 0: sleep at once.
  double executor_spin_us = 500;
  int64_t checkpoint_every = 1000;          // Snapshot every N steps of a session; 0: never.
  double checkpoint_interval_seconds = 30;  // 0: no periodic snapshots.
  double drain_seconds = 10;
  ServerSecurityOptions security;
  std::string http_listen;          // host:port of /metrics and the dashboard; empty: none.
  bool http_metrics_open = false;   // With an auth token: /metrics answers without it.
  std::string log_format = "text";  // text or json.
};

// ValidateOptions refuses values outside what each flag means, naming the flag and the range.
absl::Status ValidateOptions(const ServerOptions& options);

}  // namespace mlpd

#endif  // MLPD_SERVER_OPTIONS_H_
