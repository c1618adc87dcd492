#include "server/names.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace mlpd {

absl::Status ValidateName(absl::string_view field, absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s is empty; give 1-%d characters of "
                        "[A-Za-z0-9._-]",
                        field, kMaxNameLength));
  }
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is %d characters long; at most %d are allowed", field, name.size(), kMaxNameLength));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrFormat("%s may not be \"%s\"", field, name));
  }
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s \"%s\" has the character '%s'; only [A-Za-z0-9._-] are allowed", field,
          absl::CHexEscape(name), absl::CHexEscape(absl::string_view(&c, 1))));
    }
  }
  return absl::OkStatus();
}

}  // namespace mlpd
