// mlpd: the MLP training service. See `mlpd --help` for the flags.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "server/log.h"
#include "server/malloc_settings.h"
#include "server/openmp_environment.h"
#include "server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve on: host:port (port 0 picks a free one) or unix:/path/to/socket.");
ABSL_FLAG(std::string, data_dir, "./data/mlpd",
          "Folder holding session snapshots and datasets; loaded at start. Empty: keep nothing "
          "on disk.");
ABSL_FLAG(int64_t, max_message_mb, 64, "Largest request or response message, in MiB.");
ABSL_FLAG(int64_t, max_sessions, 10000, "Most sessions the server holds at once; 0: no limit.");
ABSL_FLAG(int64_t, max_session_params, 100000000,
          "Most parameters (weights plus biases) of one session.");
ABSL_FLAG(int64_t, max_sessions_mb, 4096,
          "Most memory all sessions' parameters and optimizer state may take together, in MiB; "
          "0: no limit.");
ABSL_FLAG(int64_t, max_datasets, 1000, "Most datasets the server holds at once; 0: no limit.");
ABSL_FLAG(int64_t, max_datasets_mb, 2048, "Most memory all datasets together may hold, in MiB.");
ABSL_FLAG(int64_t, max_queue, 1024,
          "Most calls waiting for the compute executor; beyond it calls get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, threads, 0, "Compute threads (OpenMP) of the executor; 0: every core.");
ABSL_FLAG(double, executor_spin_us, 500,
          "Microseconds the idle executor polls for the next call before it sleeps (a thread "
          "wake-up costs tens of microseconds per call); 0: sleep at once, never poll.");
ABSL_FLAG(int64_t, checkpoint_every, 1000,
          "Snapshot a session every N applied steps; 0: only on the other triggers.");
ABSL_FLAG(double, checkpoint_interval, 30,
          "Snapshot every changed session every this many seconds; 0: never on a timer.");
ABSL_FLAG(double, drain_seconds, 10,
          "On SIGINT/SIGTERM, time given to in-flight work before Train calls are stopped.");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; serve TLS when set.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS).");
ABSL_FLAG(std::string, auth_token_file, "",
          "File whose first line is the bearer token every mlpd.v1 call must carry "
          "(authorization: Bearer <token>); the health service stays open.");

namespace {

// AcceptHyphenatedFlags rewrites "--data-dir=x" as "--data_dir=x": the documented spelling is
// hyphenated, while Abseil names flags with underscores. Values are left alone.
void AcceptHyphenatedFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* argument = argv[i];
    if (std::strncmp(argument, "--", 2) != 0) continue;
    if (argument[2] == '\0') break;  // "--" ends the flags.
    for (char* c = argument + 2; *c != '\0' && *c != '='; ++c) {
      if (*c == '-') *c = '_';
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  mlpd::UseServerOpenMpSettings(argv);
  mlpd::UseServerMallocSettings();
  absl::SetProgramUsageMessage(
      "mlpd: a gRPC service that trains multi-layer perceptrons (API: mlpd.v1.Mlpd).\n"
      "usage: mlpd [--listen=127.0.0.1:50051] [--data-dir=./data/mlpd] [flags]\n"
      "Flags may be spelled with hyphens or underscores (--max-queue or --max_queue).");
  // --help lists this file's flags (Abseil's default looks for a file named like the binary).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "server/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  AcceptHyphenatedFlags(argc, argv);
  absl::ParseCommandLine(argc, argv);

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  mlpd::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.max_message_mb = absl::GetFlag(FLAGS_max_message_mb);
  options.max_sessions = absl::GetFlag(FLAGS_max_sessions);
  options.max_session_params = absl::GetFlag(FLAGS_max_session_params);
  options.max_sessions_mb = absl::GetFlag(FLAGS_max_sessions_mb);
  options.max_datasets = absl::GetFlag(FLAGS_max_datasets);
  options.max_datasets_mb = absl::GetFlag(FLAGS_max_datasets_mb);
  options.max_queue = absl::GetFlag(FLAGS_max_queue);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.executor_spin_us = absl::GetFlag(FLAGS_executor_spin_us);
  options.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  options.checkpoint_interval_seconds = absl::GetFlag(FLAGS_checkpoint_interval);
  options.drain_seconds = absl::GetFlag(FLAGS_drain_seconds);
  options.security.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.security.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.security.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.security.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);

  mlpd::Server server;
  const absl::StatusOr<int> port = server.Start(options);
  if (!port.ok()) {
    mlpd::LogLine(absl::StrFormat("cannot start: %s", port.status().ToString()));
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  mlpd::LogLine(absl::StrFormat("received %s", signal_number == SIGINT ? "SIGINT" : "SIGTERM"));
  server.Shutdown();
  return 0;
}
