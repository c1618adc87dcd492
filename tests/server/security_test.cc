// Tests of server/security.h: TLS and mutual TLS over real sockets with certificates made for
// the run, and bearer-token checks on real gRPC metadata. The client side here uses gRPC's own
// credentials directly, so these tests do not depend on the client library.
#include "server/security.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "tests/server/ping_server.h"
#include "tests/server/service_test_util.h"
#include "tests/server/test_certificates.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& ca_file,
                                              const std::string& cert_file = "",
                                              const std::string& key_file = "") {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = testing::TestCertificates::ReadText(ca_file);
  if (!cert_file.empty()) {
    options.pem_cert_chain = testing::TestCertificates::ReadText(cert_file);
    options.pem_private_key = testing::TestCertificates::ReadText(key_file);
  }
  return grpc::SslCredentials(options);
}

class SecurityTest : public testing::PkiTest {
 protected:
  std::string WriteFile(const std::string& name, const std::string& contents) {
    const std::string path = pki_->dir + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  ServerSecurityOptions TlsOptions() const {
    ServerSecurityOptions options;
    options.tls_cert_file = pki_->server_cert;
    options.tls_key_file = pki_->server_key;
    return options;
  }
};

TEST_F(SecurityTest, NoCertificateServesPlaintext) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(ServerSecurityOptions{});
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  testing::PingServer server(*credentials);
  ASSERT_TRUE(server.started());
  EXPECT_TRUE(testing::Ping(server.port(), grpc::InsecureChannelCredentials()).ok());
  // A TLS client must not get through to a plaintext listener either.
  EXPECT_FALSE(testing::Ping(server.port(), Tls(pki_->ca_cert)).ok());
}

TEST_F(SecurityTest, TlsWorksWithTheRightCaOnly) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(TlsOptions());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  testing::PingServer server(*credentials);
  ASSERT_TRUE(server.started());

  grpc::Status right_ca = testing::Ping(server.port(), Tls(pki_->ca_cert));
  EXPECT_TRUE(right_ca.ok()) << right_ca.error_message();
  // Without --tls-client-ca a client certificate is optional: presenting one is harmless.
  EXPECT_TRUE(
      testing::Ping(server.port(), Tls(pki_->ca_cert, pki_->client_cert, pki_->client_key)).ok());

  grpc::Status plaintext = testing::Ping(server.port(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE) << plaintext.error_message();
  grpc::Status wrong_ca = testing::Ping(server.port(), Tls(pki_->other_ca_cert));
  EXPECT_EQ(wrong_ca.error_code(), grpc::StatusCode::UNAVAILABLE) << wrong_ca.error_message();
}

TEST_F(SecurityTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  ServerSecurityOptions options = TlsOptions();
  options.tls_client_ca_file = pki_->ca_cert;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  testing::PingServer server(*credentials);
  ASSERT_TRUE(server.started());

  grpc::Status with_cert =
      testing::Ping(server.port(), Tls(pki_->ca_cert, pki_->client_cert, pki_->client_key));
  EXPECT_TRUE(with_cert.ok()) << with_cert.error_message();

  EXPECT_FALSE(testing::Ping(server.port(), Tls(pki_->ca_cert)).ok());
  EXPECT_FALSE(testing::Ping(server.port(),
                             Tls(pki_->ca_cert, pki_->other_client_cert, pki_->other_client_key))
                   .ok());
  EXPECT_FALSE(testing::Ping(server.port(), grpc::InsecureChannelCredentials()).ok());
}

TEST_F(SecurityTest, InconsistentTlsOptionsNameTheFlag) {
  ServerSecurityOptions cert_only;
  cert_only.tls_cert_file = pki_->server_cert;
  absl::Status status = MakeServerCredentials(cert_only).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-key"));

  ServerSecurityOptions key_only;
  key_only.tls_key_file = pki_->server_key;
  status = MakeServerCredentials(key_only).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-cert"));

  ServerSecurityOptions client_ca_only;
  client_ca_only.tls_client_ca_file = pki_->ca_cert;
  status = MakeServerCredentials(client_ca_only).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-client-ca"));
}

TEST_F(SecurityTest, UnreadableOrNonPemFilesNameTheFlagAndPath) {
  ServerSecurityOptions missing_key = TlsOptions();
  missing_key.tls_key_file = pki_->dir + "/no-such.key";
  absl::Status status = MakeServerCredentials(missing_key).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-key"));
  EXPECT_THAT(status.message(), HasSubstr("no-such.key"));

  // A key where the certificate belongs is the classic swapped-flags mistake.
  ServerSecurityOptions swapped = TlsOptions();
  swapped.tls_cert_file = pki_->server_key;
  status = MakeServerCredentials(swapped).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-cert"));

  ServerSecurityOptions not_pem = TlsOptions();
  not_pem.tls_client_ca_file = WriteFile("not-pem.txt", "hello\n");
  status = MakeServerCredentials(not_pem).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-client-ca"));
}

TEST_F(SecurityTest, TokenFileUsesTheTrimmedFirstLine) {
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> auth =
      TokenAuthenticator::FromFile(WriteFile("token", "  s3cret-Token_1 \r\nsecond line\n"));
  ASSERT_TRUE(auth.ok()) << auth.status();
  testing::PingServer server(grpc::InsecureServerCredentials(), auth->get());
  ASSERT_TRUE(server.started());
  const auto plaintext = grpc::InsecureChannelCredentials();
  EXPECT_TRUE(testing::Ping(server.port(), plaintext, "Bearer s3cret-Token_1").ok());
  EXPECT_EQ(testing::Ping(server.port(), plaintext, "Bearer second line").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, BadTokenFilesAreRejectedAtStartUp) {
  absl::Status missing = TokenAuthenticator::FromFile(pki_->dir + "/no-such-token").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.message(), HasSubstr("--auth-token-file"));

  absl::Status empty = TokenAuthenticator::FromFile(WriteFile("empty", " \n token\n")).status();
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("empty"));

  absl::Status inner_space =
      TokenAuthenticator::FromFile(WriteFile("spaced", "two words\n")).status();
  EXPECT_EQ(inner_space.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(inner_space.message(), HasSubstr("printable ASCII"));
}

TEST_F(SecurityTest, TokenAuthenticatorAcceptsOnlyTheExactBearerValue) {
  TokenAuthenticator auth("s3cret");
  testing::PingServer server(grpc::InsecureServerCredentials(), &auth);
  ASSERT_TRUE(server.started());
  const auto plaintext = grpc::InsecureChannelCredentials();

  // The scheme's name is case-insensitive (RFC 7235); the token is not.
  for (const char* right : {"Bearer s3cret", "bearer s3cret", "BEARER s3cret"}) {
    grpc::Status status = testing::Ping(server.port(), plaintext, right);
    EXPECT_TRUE(status.ok()) << right << ": " << status.error_message();
  }

  grpc::Status missing = testing::Ping(server.port(), plaintext);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(missing.error_message(), HasSubstr("missing"));

  grpc::Status other_scheme = testing::Ping(server.port(), plaintext, "Basic s3cret");
  EXPECT_EQ(other_scheme.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(other_scheme.error_message(), HasSubstr("Bearer scheme"));

  for (const char* wrong : {"Bearer s3crex", "Bearer s3cre", "Bearer s3crett", "Bearer ",
                            "Bearer S3CRET", "bearer S3CRET", "Bearers3cret", "s3cret"}) {
    grpc::Status status = testing::Ping(server.port(), plaintext, wrong);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << wrong;
    // The reply never echoes the expected token.
    EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("s3cret"))) << wrong;
  }
}

TEST_F(SecurityTest, TlsAndTokenTogether) {
  TokenAuthenticator auth("tok");
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(TlsOptions());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  testing::PingServer server(*credentials, &auth);
  ASSERT_TRUE(server.started());
  EXPECT_TRUE(testing::Ping(server.port(), Tls(pki_->ca_cert), "Bearer tok").ok());
  EXPECT_EQ(testing::Ping(server.port(), Tls(pki_->ca_cert), "Bearer nope").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// An unauthenticated call is refused from its metadata, before gRPC reads its message: 64
// TrainSteps of 60 MB without a token once took the server to 1.2 GB. Seen from outside: a
// 2 MiB TrainStep to a server that takes 1 MiB messages gets UNAUTHENTICATED without a token,
// and RESOURCE_EXHAUSTED (its message was read) with one. Health checks need no token.
TEST_F(SecurityTest, UnauthenticatedCallsAreRefusedBeforeTheirMessageIsRead) {
  for (const bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "TLS" : "plaintext");
    ServerOptions options;
    if (tls) options.security = TlsOptions();
    options.security.auth_token_file = WriteFile("token", "tok\n");
    options.max_message_mb = 1;
    testing::TestServer server(options);
    grpc::ChannelArguments arguments;
    arguments.SetMaxSendMessageSize(-1);
    const std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        absl::StrCat("localhost:", server.port()),
        tls ? Tls(pki_->ca_cert) : grpc::InsecureChannelCredentials(), arguments);
    std::unique_ptr<v1::Mlpd::Stub> stub = v1::Mlpd::NewStub(channel);
    v1::TrainStepRequest request;
    request.set_name("s");
    *request.mutable_batch() = testing::RegressionBatch(256 * 1024, 2, 1);
    ASSERT_GT(request.ByteSizeLong(), size_t{2} << 20);

    for (const char* authorization : {"", "Bearer wrong"}) {
      grpc::ClientContext context;
      if (*authorization != '\0') context.AddMetadata("authorization", authorization);
      v1::TrainStepResponse response;
      const grpc::Status status = stub->TrainStep(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << authorization << ": " << status.error_message();
    }
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer tok");
    v1::TrainStepResponse response;
    const grpc::Status status = stub->TrainStep(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();

    grpc::ClientContext health_context;
    grpc::health::v1::HealthCheckRequest health_request;
    grpc::health::v1::HealthCheckResponse health_response;
    const grpc::Status health = grpc::health::v1::Health::NewStub(channel)->Check(
        &health_context, health_request, &health_response);
    EXPECT_TRUE(health.ok()) << health.error_message();
  }
}

}  // namespace
}  // namespace mlpd
