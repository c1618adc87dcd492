// mlpd: the MLP training service. See `mlpd --help` for the flags.
#include <signal.h>

#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "server/log.h"
#include "server/malloc_settings.h"
#include "server/openmp_environment.h"
#include "server/options.h"
#include "server/server.h"

namespace {

// Names is the flag's documented (hyphenated) spelling and the underscored one, which earlier
// releases documented and deployments may still use: "--data-dir,--data_dir".
std::string Names(std::string hyphenated) {
  std::string underscored = hyphenated;
  for (size_t i = 2; i < underscored.size(); ++i) {
    if (underscored[i] == '-') underscored[i] = '_';
  }
  return underscored == hyphenated ? hyphenated : hyphenated + "," + underscored;
}

// BindFlags binds every flag to its field of `options`; a flag's default is the field's value.
// A flag given twice takes its last value, so a flag appended to an image's or a manifest's
// command line overrides the one before it.
void BindFlags(CLI::App& app, mlpd::ServerOptions& options) {
  const auto flag = [&app](const std::string& name, auto& field, const std::string& help) {
    app.add_option(Names(name), field, help)
        ->capture_default_str()
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  };
  flag("--listen", options.listen,
       "Address to serve on: host:port (port 0 picks a free one) or unix:/path/to/socket.");
  flag("--data-dir", options.data_dir,
       "Folder holding session snapshots and datasets; loaded at start. Empty: keep nothing on "
       "disk.");
  flag("--max-message-mb", options.max_message_mb, "Largest request or response message, in MiB.");
  flag("--max-sessions", options.max_sessions,
       "Most sessions the server holds at once; 0: no limit.");
  flag("--max-session-params", options.max_session_params,
       "Most parameters (weights plus biases) of one session.");
  flag("--max-sessions-mb", options.max_sessions_mb,
       "Most memory all sessions' parameters and optimizer state may take together, in MiB; 0: "
       "no limit.");
  flag("--max-datasets", options.max_datasets,
       "Most datasets the server holds at once; 0: no limit.");
  flag("--max-datasets-mb", options.max_datasets_mb,
       "Most memory all datasets together may hold, in MiB; 0: no limit.");
  flag("--max-queue", options.max_queue,
       "Most calls waiting for the compute executor; beyond it calls get RESOURCE_EXHAUSTED.");
  flag("--threads", options.threads, "Compute threads (OpenMP) of the executor; 0: every core.");
  flag("--executor-spin-us", options.executor_spin_us,
       "Microseconds the idle executor polls for the next call before it sleeps (a thread "
       "wake-up costs tens of microseconds per call); 0: sleep at once, never poll.");
  flag("--checkpoint-every", options.checkpoint_every,
       "Snapshot a session every N applied steps; 0: only on the other triggers.");
  flag("--checkpoint-interval", options.checkpoint_interval_seconds,
       "Snapshot every changed session every this many seconds; 0: never on a timer.");
  flag("--drain-seconds", options.drain_seconds,
       "On SIGINT/SIGTERM, time given to in-flight work before Train calls are stopped.");
  flag("--tls-cert", options.security.tls_cert_file, "PEM certificate chain; serve TLS when set.");
  flag("--tls-key", options.security.tls_key_file, "PEM private key of --tls-cert.");
  flag("--tls-client-ca", options.security.tls_client_ca_file,
       "PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS).");
  flag("--auth-token-file", options.security.auth_token_file,
       "File whose first line is the bearer token every mlpd.v1 call must carry "
       "(authorization: Bearer <token>); the health service stays open.");
}

}  // namespace

int main(int argc, char** argv) {
  mlpd::UseServerOpenMpSettings(argv);
  mlpd::UseServerMallocSettings();
  CLI::App app(
      "mlpd: a gRPC service that trains multi-layer perceptrons (API: mlpd.v1.Mlpd).\n"
      "usage: mlpd [--listen=127.0.0.1:50051] [--data-dir=./data/mlpd] [flags]\n"
      "Flags may be spelled with hyphens or underscores (--max-queue or --max_queue).",
      "mlpd");
  app.set_help_all_flag("--helpfull", "Print this help and exit");
  mlpd::ServerOptions options;
  options.data_dir = mlpd::kDefaultDataDir;
  BindFlags(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // Help exits 0; a flag that does not parse exits 1, as it always has.
    return app.exit(error) == 0 ? 0 : 1;
  }

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

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
