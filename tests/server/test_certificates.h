// test_certificates.h: a throw-away PKI made with the `openssl` CLI, for TLS tests.
//
// It holds a CA, a server certificate for localhost and 127.0.0.1, a client certificate from
// the same CA, and a second, unrelated CA with its own client certificate, so tests can check
// both the accepted and the rejected paths. Nothing is committed: keys are made per run.
//
//   absl::StatusOr<mlpd::testing::TestCertificates> pki =
//       mlpd::testing::TestCertificates::Generate();
//   ASSERT_TRUE(pki.ok()) << pki.status();
//   options.tls_cert_file = pki->server_cert;
//
// or derive a test fixture from mlpd::testing::PkiTest and use pki_.
#ifndef MLPD_TESTS_SERVER_TEST_CERTIFICATES_H_
#define MLPD_TESTS_SERVER_TEST_CERTIFICATES_H_

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace testing {

struct TestCertificates {
  std::string dir;
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_ca_cert;      // A CA that signed neither the server nor the client.
  std::string other_client_cert;  // Signed by other_ca_cert.
  std::string other_client_key;

  // Generate writes everything under a fresh temporary directory. EC P-256 keys keep it fast
  // (well under a second for the whole set).
  static absl::StatusOr<TestCertificates> Generate() {
    char pattern[] = "/tmp/mlpd-pki-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
    TestCertificates pki;
    pki.dir = pattern;
    const std::string& d = pki.dir;
    pki.ca_cert = d + "/ca.pem";
    pki.server_cert = d + "/server.pem";
    pki.server_key = d + "/server.key";
    pki.client_cert = d + "/client.pem";
    pki.client_key = d + "/client.key";
    pki.other_ca_cert = d + "/other-ca.pem";
    pki.other_client_cert = d + "/other-client.pem";
    pki.other_client_key = d + "/other-client.key";

    const std::string newkey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string quiet = " >>" + d + "/openssl.log 2>&1";
    {
      std::ofstream(d + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                       << "extendedKeyUsage=serverAuth\n";
      std::ofstream(d + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    }
    const std::string commands[] = {
        absl::StrCat("openssl req -x509 ", newkey, " -days 2 -subj /CN=mlpd-test-ca -keyout ", d,
                     "/ca.key -out ", pki.ca_cert),
        absl::StrCat("openssl req -x509 ", newkey, " -days 2 -subj /CN=mlpd-unrelated-ca -keyout ",
                     d, "/other-ca.key -out ", pki.other_ca_cert),
        Leaf(d, newkey, "localhost", "server", "ca", "server.ext"),
        Leaf(d, newkey, "mlpd-test-client", "client", "ca", "client.ext"),
        Leaf(d, newkey, "mlpd-unrelated-client", "other-client", "other-ca", "client.ext"),
    };
    for (const std::string& command : commands) {
      if (std::system((command + quiet).c_str()) != 0) {
        return absl::InternalError(
            absl::StrCat("openssl failed: ", command, "\n", ReadText(d + "/openssl.log")));
      }
    }
    return pki;
  }

  // ReadText returns the file's contents, or "" when it cannot be read.
  static std::string ReadText(const std::string& path) {
    std::ifstream in(path);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
  }

  void Remove() const {
    if (!dir.empty()) std::system(("rm -rf '" + dir + "'").c_str());
  }

 private:
  // Leaf makes a key and a certificate named `name`, signed by the CA named `ca`.
  static std::string Leaf(const std::string& d, const std::string& newkey,
                          const std::string& common_name, const std::string& name,
                          const std::string& ca, const std::string& extensions) {
    return absl::StrCat("openssl req -new ", newkey, " -subj /CN=", common_name, " -keyout ", d,
                        "/", name, ".key -out ", d, "/", name, ".csr && openssl x509 -req -in ", d,
                        "/", name, ".csr -CA ", d, "/", ca, ".pem -CAkey ", d, "/", ca,
                        ".key -CAcreateserial -days 2 -extfile ", d, "/", extensions, " -out ", d,
                        "/", name, ".pem");
  }
};

// PkiTest is a fixture whose suite shares one generated PKI, removed after the suite.
class PkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestCertificates> generated = TestCertificates::Generate();
    ASSERT_TRUE(generated.ok()) << generated.status();
    pki_ = new TestCertificates(*std::move(generated));
  }
  static void TearDownTestSuite() {
    if (pki_ != nullptr) pki_->Remove();
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(pki_, nullptr) << "certificate generation failed"; }

  static inline TestCertificates* pki_ = nullptr;
};

}  // namespace testing
}  // namespace mlpd

#endif  // MLPD_TESTS_SERVER_TEST_CERTIFICATES_H_
