// connection.h: mlpctl's global flags and the client they build.
//
// The flags every command shares (server address, output format, deadline, message limit,
// token and TLS files) are bound here once; MakeClient turns them into a Client, refusing
// unusable values (a non-positive deadline, an unreadable or unsendable token) before any call.
//
//   GlobalFlags global;
//   CLI::Option* timeout = AddGlobalFlags(app, &global);
//   app.parse(argc, argv);
//   global.timeout_given = timeout->count() > 0;
//   absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
#ifndef MLPD_CLIENT_MLPCTL_CONNECTION_H_
#define MLPD_CLIENT_MLPCTL_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "client/client.h"
#include "client/credentials.h"

namespace mlpd::mlpctl {

struct GlobalFlags {
  std::string server;           // --server, else $MLPD_SERVER, else 127.0.0.1:50051.
  bool json = false;            // --json
  double timeout_seconds = 60;  // --timeout
  bool timeout_given = false;   // --timeout was on the command line (train uses only that).
  int64_t max_message_mb = kDefaultMaxMessageBytes >> 20;  // --max-message-mb
  std::string token_file;                                  // --token-file, else $MLPD_TOKEN.
  ClientSecurityOptions security;                          // --tls-*
};

// AddGlobalFlags binds the global flags of `app` to `flags` (the server defaulting to
// $MLPD_SERVER) and returns the --timeout option, whose count() says whether it was given.
CLI::Option* AddGlobalFlags(CLI::App& app, GlobalFlags* flags);

// ClientOptionsFromFlags reads the token (--token-file, else $MLPD_TOKEN) and checks it as the
// server will, so a token gRPC cannot send is refused here rather than at call time.
// INVALID_ARGUMENT naming the flag.
absl::StatusOr<ClientOptions> ClientOptionsFromFlags(const GlobalFlags& flags);

// MakeClient builds the client of ClientOptionsFromFlags (no connection is made yet).
absl::StatusOr<std::unique_ptr<Client>> MakeClient(const GlobalFlags& flags);

// TrainCallOptions: a train's deadline is only the one given explicitly, as training may
// legitimately run for hours.
CallOptions TrainCallOptions(const GlobalFlags& flags);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_CONNECTION_H_
