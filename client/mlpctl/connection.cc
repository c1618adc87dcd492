#include "client/mlpctl/connection.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/mlpctl/flag_checks.h"
#include "core/credential_file.h"

namespace mlpd::mlpctl {
CLI::Option* AddGlobalFlags(CLI::App& app, GlobalFlags* flags) {
  const char* env_server = std::getenv("MLPD_SERVER");
  flags->server = env_server != nullptr && *env_server != '\0' ? env_server : "127.0.0.1:50051";
  app.add_option("--server", flags->server,
                 "host:port or unix:/path of the server (default $MLPD_SERVER, else "
                 "127.0.0.1:50051)");
  app.add_flag("--json", flags->json, "Machine-readable JSON output");
  CLI::Option* timeout =
      app.add_option("--timeout", flags->timeout_seconds,
                     "Deadline of each call in seconds (default 60; train has none unless given)");
  app.add_option("--max-message-mb", flags->max_message_mb,
                 "Largest message sent or received; match the server's --max-message-mb")
      ->transform(IntegerFlag(1, 2047))
      ->capture_default_str();
  app.add_option("--token-file", flags->token_file,
                 "File whose first line is the bearer token (default: $MLPD_TOKEN)");
  app.add_option("--tls-ca", flags->security.tls_ca_file, "PEM CA of the server: enables TLS");
  app.add_option("--tls-cert", flags->security.tls_cert_file, "PEM client certificate (mTLS)");
  app.add_option("--tls-key", flags->security.tls_key_file, "PEM client key (mTLS)");
  app.add_option("--tls-server-name", flags->security.tls_server_name,
                 "Name to check in the server certificate instead of the host");
  return timeout;
}

absl::StatusOr<ClientOptions> ClientOptionsFromFlags(const GlobalFlags& flags) {
  ClientOptions options;
  options.target = flags.server;
  if (!(flags.timeout_seconds > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout is ", flags.timeout_seconds, ", expected seconds > 0"));
  }
  options.timeout = absl::Seconds(flags.timeout_seconds);
  options.max_message_bytes = static_cast<int>(flags.max_message_mb << 20);
  // Chunks stay well under the limit whatever it is.
  options.upload_chunk_bytes = std::min(kDefaultUploadChunkBytes, (flags.max_message_mb << 20) / 2);
  options.security = flags.security;
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile("--token-file", flags.token_file);
    if (!token.ok()) return token.status();
    options.token = *std::move(token);
  } else if (const char* token = std::getenv("MLPD_TOKEN"); token != nullptr) {
    // An empty $MLPD_TOKEN sends no token, as an unset one.
    options.token = std::string(absl::StripAsciiWhitespace(token));
    if (!options.token.empty()) {
      absl::Status sendable = CheckBearerToken("$MLPD_TOKEN", options.token);
      if (!sendable.ok()) return sendable;
    }
  }
  return options;
}

absl::StatusOr<std::unique_ptr<Client>> MakeClient(const GlobalFlags& flags) {
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags(flags);
  if (!options.ok()) return options.status();
  return Client::Create(*options);
}

CallOptions TrainCallOptions(const GlobalFlags& flags) {
  CallOptions call;
  if (flags.timeout_given) call.timeout = absl::Seconds(flags.timeout_seconds);
  return call;
}

}  // namespace mlpd::mlpctl
