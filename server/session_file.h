// session_file.h: a session's file in the data dir (sessions/NAME.ckpt): the data file format
// (data_file.h) around a serialized mlpd.v1.Checkpoint.
//
// Reading a file restores it once: a snapshot that parses but does not restore (a newer format,
// parameters that do not fit the spec) is refused like a damaged file, and the restored model is
// what the server registers, with no second restore.
//
//   MLPD_RETURN_IF_ERROR(WriteSessionFile(folder, "a", checkpoint));  // folder/a.ckpt
//   MLPD_ASSIGN_OR_RETURN(LoadedSession session, ReadSessionFile(folder + "/a.ckpt"));
#ifndef MLPD_SERVER_SESSION_FILE_H_
#define MLPD_SERVER_SESSION_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

// kSessionSuffix ends every session file's name.
inline constexpr absl::string_view kSessionSuffix = ".ckpt";

// LoadedSession is a session read back from its file.
struct LoadedSession {
  std::unique_ptr<Model> model;
  int64_t create_time_unix_ms = 0;  // 0: the snapshot predates the field.
  int64_t update_time_unix_ms = 0;  // 0: the snapshot predates the field.
};

// WriteSessionFile durably replaces folder/NAME.ckpt with the checkpoint (`name` is not
// validated here).
absl::Status WriteSessionFile(const std::string& folder, absl::string_view name,
                              const v1::Checkpoint& checkpoint);

// ReadSessionFile reads, checks and restores a session file; DATA_LOSS says why it is unusable.
absl::StatusOr<LoadedSession> ReadSessionFile(const std::string& path);

}  // namespace mlpd

#endif  // MLPD_SERVER_SESSION_FILE_H_
