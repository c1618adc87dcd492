// credentials.h: the channel credentials of the client library and mlpctl.
//
// Plaintext by default; TLS when a CA file is given (the server's CA), with a client
// certificate and key for mutual TLS.
//
//   ClientSecurityOptions options;
//   options.tls_ca_file = "ca.pem";
//   absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
//       MakeChannelCredentials(options);
#ifndef MLPD_CLIENT_CREDENTIALS_H_
#define MLPD_CLIENT_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace mlpd {

struct ClientSecurityOptions {
  std::string tls_ca_file;      // PEM CA that signed the server's certificate; empty: plaintext.
  std::string tls_cert_file;    // PEM client certificate (mutual TLS); needs tls_key_file.
  std::string tls_key_file;     // PEM client private key.
  std::string tls_server_name;  // Overrides the name checked against the server certificate.
};

// MakeChannelCredentials reads the PEM files; INVALID_ARGUMENT naming the option when a file
// is missing or the combination is inconsistent.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientSecurityOptions& options);

}  // namespace mlpd

#endif  // MLPD_CLIENT_CREDENTIALS_H_
