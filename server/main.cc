// mlpd: the MLP training service. See `mlpd --help` for the flags.
#include <signal.h>

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "server/log.h"
#include "server/malloc_settings.h"
#include "server/openmp_environment.h"
#include "server/options.h"
#include "server/server.h"

namespace {

// Arguments returns the command line for CLI::App::parse (which takes it last argument first),
// with "--name=" split into "--name" and "": CLI11 2.1 reads an empty "=" value as no value and
// takes the next argument instead, so "--http-listen= --threads=1" would listen on "--threads=1".
std::vector<std::string> Arguments(int argc, char** argv) {
  std::vector<std::string> arguments;
  for (int i = argc - 1; i > 0; --i) {
    const std::string argument = argv[i];
    if (argument.size() > 3 && argument.rfind("--", 0) == 0 && argument.back() == '=' &&
        argument.find('=') == argument.size() - 1) {
      arguments.push_back("");
      arguments.push_back(argument.substr(0, argument.size() - 1));
    } else {
      arguments.push_back(argument);
    }
  }
  return arguments;
}

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
    // A bool flag alone means true; --name=false turns it off again.
    CLI::Option* option = nullptr;
    if constexpr (std::is_same_v<std::decay_t<decltype(field)>, bool>) {
      option = app.add_flag(Names(name), field, help);
    } else {
      option = app.add_option(Names(name), field, help);
    }
    option->capture_default_str()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
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
       "Most memory all sessions' parameters and optimizer state may take together, in MiB; the "
       "activations of calls (the compute plans) must fit in what they leave. 0: no limit.");
  flag("--max-datasets", options.max_datasets,
       "Most datasets the server holds at once; 0: no limit.");
  flag("--max-datasets-mb", options.max_datasets_mb,
       "Most memory all datasets together may hold, in MiB; 0: no limit.");
  flag("--max-call-activation-mb", options.max_call_activation_mb,
       "Most memory the activations of one call may take, in MiB: Predict and Evaluate run in "
       "chunks of rows that fit, a training step over it gets RESOURCE_EXHAUSTED; 0: no bound.");
  flag("--max-queue", options.max_queue,
       "Most calls waiting for the compute executor; beyond it calls get RESOURCE_EXHAUSTED.");
  flag("--max-trains", options.max_trains,
       "Most training runs open at once (Train calls and jobs, queued or running); beyond it "
       "Train and StartTraining get RESOURCE_EXHAUSTED. Each run's shuffle order and mini-batch "
       "count in --max-sessions-mb while it is open. 0: no limit.");
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
       "(authorization: Bearer <token>); the health service stays open. The HTTP port asks "
       "for the same token (Bearer, or as the Basic password a browser prompts for).");
  flag("--http-listen", options.http_listen,
       "host:port of the HTTP port: Prometheus metrics on /metrics and the read-only dashboard "
       "on / (port 0 picks a free one). Empty (--http-listen=): no HTTP port.");
  flag("--http-metrics-open", options.http_metrics_open,
       "With --auth-token-file, leave /metrics open for scrapers that carry no token (the "
       "dashboard and its JSON still ask for it).");
  flag("--log-format", options.log_format,
       "Log lines as text (for people) or json (one JSON object a line, for log pipelines).");
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
  options.http_listen = mlpd::kDefaultHttpListen;
  BindFlags(app, options);
  try {
    std::vector<std::string> arguments = Arguments(argc, argv);
    app.parse(arguments);
  } catch (const CLI::ParseError& error) {
    // Help exits 0; a flag that does not parse exits 1, as it always has.
    return app.exit(error) == 0 ? 0 : 1;
  }
  // Before the first line is written; Server::Start refuses any other value.
  if (const std::optional<mlpd::LogFormat> format = mlpd::ParseLogFormat(options.log_format)) {
    mlpd::SetLogFormat(*format);
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
