// Tests of the whole-file reader of settings' files (input_file.h) and of the PEM and token
// rules shared by the server and the client (credential_file.h).
#include "core/credential_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/input_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

class CredentialFileTest : public ::testing::Test {
 protected:
  // WriteFile writes `contents` to a file of this test and returns its path.
  std::string WriteFile(const std::string& name, const std::string& contents) {
    const std::string path = ::testing::TempDir() + "/mlpd_credential_file_test_" +
                             std::to_string(getpid()) + "_" + name;
    std::ofstream(path, std::ios::binary) << contents;
    written_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& path : written_) std::remove(path.c_str());
  }

  std::vector<std::string> written_;
};

TEST_F(CredentialFileTest, ReadWholeFileReadsEveryByte) {
  const std::string contents("one\0two\nthree", 13);
  absl::StatusOr<std::string> read = ReadWholeFile("--input", WriteFile("bytes", contents));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);
}

TEST_F(CredentialFileTest, ReadWholeFileRefusesMissingDirectoryAndEmptyNamingSettingAndPath) {
  const std::string missing = ::testing::TempDir() + "/mlpd_no_such_credential";
  absl::Status status = ReadWholeFile("--input", missing).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--input: cannot read \"" + missing + "\""));

  status = ReadWholeFile("--input", ::testing::TempDir()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "--input: \"" + ::testing::TempDir() + "\" is a directory, expected a file");

  const std::string empty = WriteFile("empty", "");
  status = ReadWholeFile("--input", empty).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "--input: \"" + empty + "\" is empty (0 bytes), expected a non-empty file");
}

TEST_F(CredentialFileTest, PemFilesMustHoldABlockOfTheExpectedKind) {
  const std::string certificate =
      WriteFile("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  const std::string key =
      WriteFile("key.pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
  EXPECT_TRUE(ReadPemFile("--tls-ca", certificate, kPemCertificate).ok());
  EXPECT_TRUE(ReadPemFile("--tls-key", key, kPemPrivateKey).ok());

  // A key where the certificate belongs is the classic swapped-flags mistake.
  absl::Status swapped = ReadPemFile("--tls-ca", key, kPemCertificate).status();
  EXPECT_EQ(swapped.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(swapped.message(), HasSubstr("--tls-ca: \"" + key + "\" is not a PEM file"));

  // The marker alone, without a BEGIN line, is not PEM.
  const std::string bare = WriteFile("bare.txt", "CERTIFICATE-----\n");
  EXPECT_FALSE(ReadPemFile("--tls-ca", bare, kPemCertificate).ok());
}

TEST_F(CredentialFileTest, TheTokenRuleAllowsOnlyPrintableAsciiWithoutSpaces) {
  EXPECT_TRUE(CheckBearerToken("$MLPD_TOKEN", "s3cret-Token_1~!").ok());
  for (const std::string& bad :
       {std::string("two words"), std::string("tab\there"), std::string("bell\x07"),
        std::string("caf\xc3\xa9"), std::string("del\x7f"), std::string()}) {
    absl::Status status = CheckBearerToken("$MLPD_TOKEN", bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("$MLPD_TOKEN: ")) << bad;
  }
  EXPECT_THAT(CheckBearerToken("--token-file", "two words").message(),
              HasSubstr("printable ASCII without spaces; found byte 32"));
}

TEST_F(CredentialFileTest, TheTokenIsTheTrimmedFirstLine) {
  absl::StatusOr<std::string> token =
      ReadTokenFile("--token-file", WriteFile("token", "  s3cret-Token_1 \r\nsecond line\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "s3cret-Token_1");

  const std::string blank = WriteFile("blank", " \n token\n");
  absl::Status status = ReadTokenFile("--auth-token-file", blank).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "--auth-token-file: \"" + blank +
                                  "\" has an empty first line, expected the token there");

  const std::string spaced = WriteFile("spaced", "two words\n");
  status = ReadTokenFile("--auth-token-file", spaced).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--auth-token-file: \"" + spaced + "\""));
  EXPECT_THAT(status.message(), HasSubstr("printable ASCII"));
}

}  // namespace
}  // namespace mlpd
