// credential_file.h: the PEM files and the bearer-token file of TLS and authentication, read
// and checked by one set of rules on the server and in the client.
//
// A token the server would refuse to load, or that gRPC cannot send as metadata, is refused
// by the client too, before any call, with the same words; a PEM file of the wrong kind (a key
// given as a certificate) is refused when it is read, naming the setting, instead of failing
// later inside a TLS handshake that names nothing.
//
//   absl::StatusOr<std::string> ca = ReadPemFile("--tls-ca", path, kPemCertificate);
//   absl::StatusOr<std::string> token = ReadTokenFile("--auth-token-file", path);
//   absl::Status sendable = CheckBearerToken("$MLPD_TOKEN", token_from_environment);
#ifndef MLPD_CORE_CREDENTIAL_FILE_H_
#define MLPD_CORE_CREDENTIAL_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mlpd {

// The ends of the PEM "BEGIN" lines of certificates and of private keys (of any algorithm).
inline constexpr absl::string_view kPemCertificate = "CERTIFICATE-----";
inline constexpr absl::string_view kPemPrivateKey = "PRIVATE KEY-----";

// ReadPemFile reads the PEM file `path` given by the setting `what` (ReadWholeFile's errors),
// then INVALID_ARGUMENT naming both unless it holds a PEM block whose label ends in `marker`.
[[nodiscard]] absl::StatusOr<std::string> ReadPemFile(absl::string_view what,
                                                      const std::string& path,
                                                      absl::string_view marker);

// CheckBearerToken is the one rule for tokens: INVALID_ARGUMENT naming `what` unless `token` is
// non-empty printable ASCII without spaces (bytes 0x21 to 0x7e). gRPC sends no other metadata
// value, so any other token could never be presented.
[[nodiscard]] absl::Status CheckBearerToken(absl::string_view what, absl::string_view token);

// ReadTokenFile reads the token of the file `path` given by the setting `what`: its first line
// with surrounding whitespace trimmed, checked by CheckBearerToken.
[[nodiscard]] absl::StatusOr<std::string> ReadTokenFile(absl::string_view what,
                                                        const std::string& path);

}  // namespace mlpd

#endif  // MLPD_CORE_CREDENTIAL_FILE_H_
