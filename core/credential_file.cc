#include "core/credential_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/input_file.h"

namespace mlpd {

absl::StatusOr<std::string> ReadPemFile(absl::string_view what, const std::string& path,
                                        absl::string_view marker) {
  absl::StatusOr<std::string> pem = ReadWholeFile(what, path);
  if (!pem.ok()) return pem.status();
  if (!absl::StrContains(*pem, "-----BEGIN ") || !absl::StrContains(*pem, marker)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", path, "\" is not a PEM file with '", marker, "', expected one"));
  }
  return pem;
}

absl::Status CheckBearerToken(absl::string_view what, absl::string_view token) {
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": the token is empty"));
  }
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the token must be printable ASCII without spaces; found byte ",
                       static_cast<int>(static_cast<unsigned char>(c))));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(absl::string_view what, const std::string& path) {
  absl::StatusOr<std::string> contents = ReadWholeFile(what, path);
  if (!contents.ok()) return contents.status();
  absl::string_view first_line = *contents;
  first_line = absl::StripAsciiWhitespace(first_line.substr(0, first_line.find('\n')));
  if (first_line.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", path, "\" has an empty first line, expected the token there"));
  }
  absl::Status sendable = CheckBearerToken(absl::StrCat(what, ": \"", path, "\""), first_line);
  if (!sendable.ok()) return sendable;
  return std::string(first_line);
}

}  // namespace mlpd
