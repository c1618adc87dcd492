#include "client/credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mlpd {
namespace {

// LoadPem names the option in its errors: a TLS handshake failure caused by a wrong path is
// otherwise reported only as "failed to connect".
absl::StatusOr<std::string> LoadPem(absl::string_view option, const std::string& path,
                                    absl::string_view expected_marker) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, " is '", path, "', a readable PEM file was expected: ", std::strerror(errno)));
  }
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!absl::StrContains(pem, expected_marker)) {
    return absl::InvalidArgumentError(absl::StrCat(option, " is '", path, "', a PEM file with '",
                                                   expected_marker, "' was expected"));
  }
  return pem;
}

}  // namespace

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
  absl::StatusOr<std::string> ca = LoadPem("--tls-ca", options.tls_ca_file, "CERTIFICATE-----");
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *std::move(ca);
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        LoadPem("--tls-cert", options.tls_cert_file, "CERTIFICATE-----");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        LoadPem("--tls-key", options.tls_key_file, "PRIVATE KEY-----");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace mlpd
