// Tests of client/credentials.h against a server built with server/security.h: the two halves
// must agree on plaintext, TLS and mutual TLS, and bad options must name the option.
#include "client/credentials.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/security.h"
#include "tests/server/ping_server.h"
#include "tests/server/test_certificates.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

class CredentialsTest : public testing::PkiTest {
 protected:
  // TlsServer starts a ping server with TLS, and mutual TLS when `client_ca` is set.
  static std::unique_ptr<testing::PingServer> TlsServer(const std::string& client_ca = "") {
    ServerSecurityOptions options;
    options.tls_cert_file = pki_->server_cert;
    options.tls_key_file = pki_->server_key;
    options.tls_client_ca_file = client_ca;
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeServerCredentials(options);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    if (!credentials.ok()) return nullptr;
    return std::make_unique<testing::PingServer>(*credentials);
  }

  static std::shared_ptr<grpc::ChannelCredentials> Client(const ClientSecurityOptions& options) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MakeChannelCredentials(options);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return credentials.ok() ? *credentials : grpc::InsecureChannelCredentials();
  }
};

TEST_F(CredentialsTest, DefaultIsPlaintext) {
  testing::PingServer server(grpc::InsecureServerCredentials());
  ASSERT_TRUE(server.started());
  EXPECT_TRUE(testing::Ping(server.port(), Client(ClientSecurityOptions{})).ok());
}

TEST_F(CredentialsTest, TlsClientTrustsOnlyTheGivenCa) {
  std::unique_ptr<testing::PingServer> server = TlsServer();
  ASSERT_TRUE(server != nullptr && server->started());

  ClientSecurityOptions right;
  right.tls_ca_file = pki_->ca_cert;
  grpc::Status status = testing::Ping(server->port(), Client(right));
  EXPECT_TRUE(status.ok()) << status.error_message();
  // The server certificate names 127.0.0.1 too, so dialling the address works as well.
  status = testing::Ping(server->port(), Client(right), "", "127.0.0.1");
  EXPECT_TRUE(status.ok()) << status.error_message();

  ClientSecurityOptions wrong;
  wrong.tls_ca_file = pki_->other_ca_cert;
  EXPECT_EQ(testing::Ping(server->port(), Client(wrong)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(testing::Ping(server->port(), Client(ClientSecurityOptions{})).ok());
}

TEST_F(CredentialsTest, MutualTlsSendsTheClientCertificate) {
  std::unique_ptr<testing::PingServer> server = TlsServer(pki_->ca_cert);
  ASSERT_TRUE(server != nullptr && server->started());

  ClientSecurityOptions with_cert;
  with_cert.tls_ca_file = pki_->ca_cert;
  with_cert.tls_cert_file = pki_->client_cert;
  with_cert.tls_key_file = pki_->client_key;
  grpc::Status status = testing::Ping(server->port(), Client(with_cert));
  EXPECT_TRUE(status.ok()) << status.error_message();

  ClientSecurityOptions without_cert;
  without_cert.tls_ca_file = pki_->ca_cert;
  EXPECT_FALSE(testing::Ping(server->port(), Client(without_cert)).ok());

  ClientSecurityOptions foreign_cert = with_cert;
  foreign_cert.tls_cert_file = pki_->other_client_cert;
  foreign_cert.tls_key_file = pki_->other_client_key;
  EXPECT_FALSE(testing::Ping(server->port(), Client(foreign_cert)).ok());
}

TEST_F(CredentialsTest, InconsistentOptionsNameTheOption) {
  ClientSecurityOptions cert_without_key;
  cert_without_key.tls_ca_file = pki_->ca_cert;
  cert_without_key.tls_cert_file = pki_->client_cert;
  absl::Status status = MakeChannelCredentials(cert_without_key).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-key"));

  ClientSecurityOptions cert_without_ca;
  cert_without_ca.tls_cert_file = pki_->client_cert;
  cert_without_ca.tls_key_file = pki_->client_key;
  status = MakeChannelCredentials(cert_without_ca).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-ca"));

  ClientSecurityOptions name_without_ca;
  name_without_ca.tls_server_name = "localhost";
  EXPECT_EQ(MakeChannelCredentials(name_without_ca).status().code(),
            absl::StatusCode::kInvalidArgument);

  ClientSecurityOptions missing_ca;
  missing_ca.tls_ca_file = pki_->dir + "/absent.pem";
  status = MakeChannelCredentials(missing_ca).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("absent.pem"));

  ClientSecurityOptions key_as_ca;
  key_as_ca.tls_ca_file = pki_->client_key;
  status = MakeChannelCredentials(key_as_ca).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--tls-ca"));
}

}  // namespace
}  // namespace mlpd
