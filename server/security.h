// security.h: TLS credentials and bearer-token authentication for the server.
//
// Without a certificate the server listens in plaintext (loopback and unix sockets); with
// --tls-cert/--tls-key it serves TLS, and with --tls-client-ca it also requires client
// certificates signed by that CA (mutual TLS). With --auth-token-file every RPC except the
// health service needs the metadata `authorization: Bearer <token>`; the comparison takes
// constant time.
//
//   ServerSecurityOptions options{cert, key, client_ca, token_file};
//   absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
//       MakeServerCredentials(options);
//   absl::StatusOr<std::unique_ptr<TokenAuthenticator>> auth =
//       TokenAuthenticator::FromFile(token_file);
//   absl::Status allowed = (*auth)->Check(*context);  // in a handler
#ifndef MLPD_SERVER_SECURITY_H_
#define MLPD_SERVER_SECURITY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace mlpd {

struct ServerSecurityOptions {
  std::string tls_cert_file;       // PEM certificate chain; empty: plaintext.
  std::string tls_key_file;        // PEM private key; required with tls_cert_file.
  std::string tls_client_ca_file;  // PEM CA; when set, clients must present a certificate.
  std::string auth_token_file;     // File whose first line is the token; empty: no tokens.
};

// TokenAuthenticator checks the bearer token of a call.
class TokenAuthenticator {
 public:
  // FromFile reads the token (first line, surrounding whitespace trimmed; must not be empty).
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromFile(const std::string& path);
  explicit TokenAuthenticator(std::string token);

  // Check returns OK when the call carries `authorization: Bearer <token>`, UNAUTHENTICATED
  // otherwise (missing header, wrong scheme, wrong token), in time independent of the token.
  absl::Status Check(const grpc::ServerContextBase& context) const;
  // token is the expected token (the HTTP port asks for the same one).
  const std::string& token() const { return token_; }
  // CheckValues is Check over the values of the call's `authorization` metadata.
  absl::Status CheckValues(const std::vector<absl::string_view>& values) const;

 private:
  const std::string token_;
};

// MakeServerCredentials reads the PEM files; INVALID_ARGUMENT naming the flag when a file is
// missing, unreadable or inconsistent (cert without key, client CA without cert). With `auth`
// (may be null) the credentials refuse mlpd.v1.Mlpd calls without the token from their
// metadata, before gRPC reads their message, so a refused call costs no memory for its request.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerSecurityOptions& options, const TokenAuthenticator* auth = nullptr);

}  // namespace mlpd

#endif  // MLPD_SERVER_SECURITY_H_
