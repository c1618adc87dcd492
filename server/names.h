// names.h: the rule for session and dataset names.
//
// Names become file names in the data dir, so the rule is strict: 1-128 characters of
// [A-Za-z0-9._-], and not "." or "..". Nothing that passes can escape a folder.
//
//   MLPD_RETURN_IF_ERROR(ValidateName("name", request.name()));
#ifndef MLPD_SERVER_NAMES_H_
#define MLPD_SERVER_NAMES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mlpd {

inline constexpr size_t kMaxNameLength = 128;

// ValidateName returns OK or INVALID_ARGUMENT naming `field` and what is wrong with `name`.
absl::Status ValidateName(absl::string_view field, absl::string_view name);

}  // namespace mlpd

#endif  // MLPD_SERVER_NAMES_H_
