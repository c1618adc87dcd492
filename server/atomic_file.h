// atomic_file.h: replacing a small file so that a crash leaves the old or the new one whole.
//
// Job records and thinned history curves are rewritten whole. The new bytes go to a temporary
// file beside the old one, which is fsynced and renamed over it; the folder is then fsynced so
// the rename survives power loss. A kill -9 at any point leaves the previous complete file or the
// new complete one (and perhaps a PATH.tmp-* file, which RemoveTemporaryFiles clears).
//
//   MLPD_RETURN_IF_ERROR(ReplaceFileAtomically(folder + "/job-1.job", record.SerializeAsString()));
#ifndef MLPD_SERVER_ATOMIC_FILE_H_
#define MLPD_SERVER_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mlpd {

// ReplaceFileAtomically durably replaces `path` with `contents`; on error the old file (or no
// file) remains and no temporary file is left behind.
absl::Status ReplaceFileAtomically(const std::string& path, absl::string_view contents);

// RemoveFileDurably unlinks `path` and fsyncs its folder; OK when there is no such file.
absl::Status RemoveFileDurably(const std::string& path);

// OpenFolder creates `folder` (and its parents) when missing and deletes the PATH.tmp-* files a
// crash left in it. `what` names the folder in the error ("the jobs folder").
absl::Status OpenFolder(const std::string& folder, absl::string_view what);

}  // namespace mlpd

#endif  // MLPD_SERVER_ATOMIC_FILE_H_
