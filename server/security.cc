#include "server/security.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/credential_file.h"
#include "grpcpp/security/server_credentials.h"

namespace mlpd {
namespace {

constexpr absl::string_view kAuthorizationKey = "authorization";
constexpr absl::string_view kBearerPrefix = "Bearer ";

// ConstantTimeEquals looks at every byte of `received` whatever the contents, so the time a
// call takes tells nothing about how much of a guessed token was right.
bool ConstantTimeEquals(absl::string_view received, absl::string_view expected) {
  unsigned char difference = received.size() == expected.size() ? 0 : 1;
  const size_t expected_size = expected.size();
  for (size_t i = 0; i < received.size(); ++i) {
    // When the sizes differ the loop still runs over the received bytes; the expected byte
    // is then any byte, the outcome is already "different".
    const unsigned char wanted =
        expected_size == 0 ? 0 : static_cast<unsigned char>(expected[i % expected_size]);
    difference |= static_cast<unsigned char>(received[i]) ^ wanted;
  }
  return difference == 0;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerSecurityOptions& options) {
  if (options.tls_cert_file.empty()) {
    if (!options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-key is '", options.tls_key_file,
                       "' but --tls-cert is empty; set both or neither"));
    }
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-client-ca is '", options.tls_client_ca_file,
                       "' but --tls-cert is empty; mutual TLS needs --tls-cert and --tls-key"));
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-cert is '", options.tls_cert_file, "' but --tls-key is empty; set both or neither"));
  }

  // PEM files of the wrong kind are refused now, naming the flag: gRPC would only notice when
  // the listener is built, with a message that names nothing.
  absl::StatusOr<std::string> cert =
      ReadPemFile("--tls-cert", options.tls_cert_file, kPemCertificate);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPemFile("--tls-key", options.tls_key_file, kPemPrivateKey);
  if (!key.ok()) return key.status();

  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!options.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> client_ca =
        ReadPemFile("--tls-client-ca", options.tls_client_ca_file, kPemCertificate);
    if (!client_ca.ok()) return client_ca.status();
    ssl = grpc::SslServerCredentialsOptions(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = *std::move(client_ca);
  }
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::FromFile(
    const std::string& path) {
  absl::StatusOr<std::string> token = ReadTokenFile("--auth-token-file", path);
  if (!token.ok()) return token.status();
  return std::make_unique<TokenAuthenticator>(*std::move(token));
}

TokenAuthenticator::TokenAuthenticator(std::string token) : token_(std::move(token)) {}

absl::Status TokenAuthenticator::Check(const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  const auto [begin, end] =
      metadata.equal_range(grpc::string_ref(kAuthorizationKey.data(), kAuthorizationKey.size()));
  if (begin == end) {
    return absl::UnauthenticatedError(
        "metadata 'authorization' is missing; expected 'Bearer <token>'");
  }
  bool any_bearer = false;
  bool accepted = false;
  // Every value is compared (no early exit), so a second header cannot be used as a timer. The
  // scheme's name is case-insensitive (RFC 7235); the token is not.
  for (auto it = begin; it != end; ++it) {
    const absl::string_view value(it->second.data(), it->second.size());
    const bool bearer = absl::StartsWithIgnoreCase(value, kBearerPrefix);
    any_bearer |= bearer;
    accepted |= bearer && ConstantTimeEquals(value.substr(kBearerPrefix.size()), token_);
  }
  if (accepted) return absl::OkStatus();
  if (!any_bearer) {
    return absl::UnauthenticatedError(
        "metadata 'authorization' does not use the Bearer scheme; expected 'Bearer <token>'");
  }
  return absl::UnauthenticatedError("metadata 'authorization' carries a wrong bearer token");
}

}  // namespace mlpd
