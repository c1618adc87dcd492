#include "server/security.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/credential_file.h"
#include "grpc/grpc.h"
#include "grpc/grpc_security.h"
#include "grpcpp/security/auth_metadata_processor.h"
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

// Only the mlpd.v1.Mlpd service needs the token; health checks and reflection do not.
constexpr absl::string_view kGuardedPrefix = "/mlpd.v1.Mlpd/";

// CheckMetadata applies `auth` to a call's metadata as gRPC's auth filter hands it over, before
// the call's message is read.
template <typename Metadata>
absl::Status CheckMetadata(const TokenAuthenticator& auth, const Metadata& metadata) {
  std::vector<absl::string_view> values;
  bool guarded = false;
  for (const auto& [key, value] : metadata) {
    const absl::string_view name(key.data(), key.size());
    if (name == ":path") {
      guarded = absl::StartsWith(absl::string_view(value.data(), value.size()), kGuardedPrefix);
    } else if (name == kAuthorizationKey) {
      values.emplace_back(value.data(), value.size());
    }
  }
  return guarded ? auth.CheckValues(values) : absl::OkStatus();
}

// TokenProcessor checks the token of TLS calls from their metadata.
class TokenProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenProcessor(const TokenAuthenticator& auth) : auth_(auth) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext*, OutputMetadata*,
                       OutputMetadata*) override {
    const absl::Status status = CheckMetadata(auth_, metadata);
    return status.ok()
               ? grpc::Status::OK
               : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(status.message()));
  }

 private:
  const TokenAuthenticator auth_;
};

// CheckedPlaintextCredentials serve plaintext with the token checked from the metadata: gRPC's
// InsecureServerCredentials take no metadata processor, its C core's insecure credentials do.
class CheckedPlaintextCredentials final : public grpc::ServerCredentials {
 public:
  explicit CheckedPlaintextCredentials(const TokenAuthenticator& auth)
      : credentials_(grpc_insecure_server_credentials_create()) {
    grpc_auth_metadata_processor processor;
    processor.process = &Process;
    processor.destroy = [](void* state) { delete static_cast<TokenAuthenticator*>(state); };
    processor.state = new TokenAuthenticator(auth);
    grpc_server_credentials_set_auth_metadata_processor(credentials_, processor);
  }
  ~CheckedPlaintextCredentials() override { grpc_server_credentials_release(credentials_); }

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  struct Entry {
    absl::string_view first;
    absl::string_view second;
  };

  int AddPortToServer(const std::string& address, grpc_server* server) override {
    return grpc_server_add_http2_port(server, address.c_str(), credentials_);
  }

  static void Process(void* state, grpc_auth_context*, const grpc_metadata* metadata, size_t count,
                      grpc_process_auth_metadata_done_cb done, void* user_data) {
    std::vector<Entry> entries;
    entries.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      entries.push_back(Entry{
          absl::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(metadata[i].key)),
                            GRPC_SLICE_LENGTH(metadata[i].key)),
          absl::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(metadata[i].value)),
                            GRPC_SLICE_LENGTH(metadata[i].value))});
    }
    const absl::Status status =
        CheckMetadata(*static_cast<const TokenAuthenticator*>(state), entries);
    const std::string message(status.message());
    done(user_data, nullptr, 0, nullptr, 0,
         status.ok() ? GRPC_STATUS_OK : GRPC_STATUS_UNAUTHENTICATED,
         status.ok() ? nullptr : message.c_str());
  }

  grpc_server_credentials* const credentials_;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerSecurityOptions& options);

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerSecurityOptions& options, const TokenAuthenticator* auth) {
  if (auth != nullptr && options.tls_cert_file.empty() && options.tls_key_file.empty() &&
      options.tls_client_ca_file.empty()) {
    return std::make_shared<CheckedPlaintextCredentials>(*auth);
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(options);
  if (credentials.ok() && auth != nullptr) {
    (*credentials)->SetAuthMetadataProcessor(std::make_shared<TokenProcessor>(*auth));
  }
  return credentials;
}

namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
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

}  // namespace

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
  std::vector<absl::string_view> values;
  for (auto it = begin; it != end; ++it) values.emplace_back(it->second.data(), it->second.size());
  return CheckValues(values);
}

absl::Status TokenAuthenticator::CheckValues(const std::vector<absl::string_view>& values) const {
  if (values.empty()) {
    return absl::UnauthenticatedError(
        "metadata 'authorization' is missing; expected 'Bearer <token>'");
  }
  bool any_bearer = false;
  bool accepted = false;
  // Every value is compared (no early exit), so a second header cannot be used as a timer. The
  // scheme's name is case-insensitive (RFC 7235); the token is not.
  for (const absl::string_view value : values) {
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
