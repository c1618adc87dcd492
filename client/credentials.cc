#include "client/credentials.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/credential_file.h"

namespace mlpd {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientSecurityOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert is '", options.tls_cert_file, "' and --tls-key is '",
                     options.tls_key_file, "'; a client certificate needs both or neither"));
  }
  if (options.tls_ca_file.empty()) {
    // Sending a client certificate or checking a server name only means something over TLS;
    // silently falling back to plaintext would hide the mistake.
    if (!options.tls_cert_file.empty() || !options.tls_server_name.empty()) {
      return absl::InvalidArgumentError(
          "--tls-cert, --tls-key and --tls-server-name need --tls-ca (the CA that signed the "
          "server's certificate); --tls-ca is empty");
    }
    return grpc::InsecureChannelCredentials();
  }

  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadPemFile("--tls-ca", options.tls_ca_file, kPemCertificate);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *std::move(ca);
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPemFile("--tls-cert", options.tls_cert_file, kPemCertificate);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPemFile("--tls-key", options.tls_key_file, kPemPrivateKey);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace mlpd
