// session_store.h: the data dir: sessions and datasets kept on disk so a restart loses nothing.
//
// Layout under the data dir: sessions/NAME.ckpt, datasets/NAME.data, quarantine/. Every file
// is written atomically (temporary file, fsync, rename, fsync of the directory) with a header
// holding a magic, a format version, the payload length and a checksum. A file that does not
// load (truncated, corrupt, wrong version, garbage) is moved to quarantine/ and reported; it
// never stops the others from loading. Names are validated so no path escapes the data dir.
//
//   SessionStore store(data_dir);
//   MLPD_RETURN_IF_ERROR(store.Open());
//   MLPD_ASSIGN_OR_RETURN(SessionStore::Contents contents, store.LoadAll());
//   MLPD_RETURN_IF_ERROR(store.SaveSession("mnist", checkpoint));
//
// File format (all integers little-endian), 32-byte header then the payload:
//   0  "MLPD"                 magic
//   4  uint32 format version  kStoreFormatVersion; any other value is quarantined
//   8  uint32 payload kind    1 = session (a serialized mlpd.v1.Checkpoint), 2 = dataset
//  12  uint32 reserved        0
//  16  uint64 payload length  the file is exactly 32 + this many bytes
//  24  uint32 payload CRC-32C
//  28  uint32 header CRC-32C  over bytes 0..27
// Dataset payload: int64 x rows, x columns, target rows, target columns, label count; uint32
// has_labels (0 or 1); uint32 reserved; then the float32 features, the float32 targets and the
// int32 labels, each row-major and as many as the counts say.
//
// What a crash may lose: a save that has not returned. Replacing a file is a rename, so after a
// crash each file is either the previous complete version or the new complete one, never a mix;
// a SaveSession/SaveDataset that returned OK survives power loss (the data and the directory
// entry are fsynced first). A crash may leave NAME.*.tmp-* files; LoadAll removes them.
//
// Thread-safe: calls on different names may run concurrently; calls on one name are
// serialised by the caller (the server's per-session order). LoadAll runs before any save.
#ifndef MLPD_SERVER_SESSION_STORE_H_
#define MLPD_SERVER_SESSION_STORE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

// kStoreFormatVersion is the file header version this build writes and the only one it reads.
inline constexpr uint32_t kStoreFormatVersion = 1;

class SessionStore {
 public:
  // Contents is everything LoadAll found.
  struct Contents {
    // Each checkpoint is known to restore (RestoreCheckpoint succeeded on it).
    std::vector<std::pair<std::string, v1::Checkpoint>> sessions;
    std::vector<std::pair<std::string, Dataset>> datasets;
    // Files moved to quarantine/, each "FOLDER/FILE: why" (already logged to stderr).
    std::vector<std::string> quarantined;
  };

  explicit SessionStore(std::string data_dir);
  // The destructor releases the data dir's lock.
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // Open creates the data dir and its folders when missing and locks the dir (an flock on
  // DATA_DIR/lock, which holds the owner's pid): while one store has it open, Open of another
  // store on the same dir, in this process or another, fails with FAILED_PRECONDITION. Two
  // servers on one dir would overwrite each other's snapshots.
  absl::Status Open();
  // LoadAll reads every session and dataset, quarantining what does not load and removing
  // temporary files left by a crash. Fails only when a folder cannot be read.
  absl::StatusOr<Contents> LoadAll();

  // SaveSession durably replaces the session's snapshot; returns once it is on disk.
  absl::Status SaveSession(absl::string_view name, const v1::Checkpoint& checkpoint);
  // DeleteSession removes the session's snapshot; OK when there is none.
  absl::Status DeleteSession(absl::string_view name);
  // SaveDataset durably replaces the dataset's file; returns once it is on disk. A positive
  // `create_time_unix_ms` is kept as the file's modification time (see DatasetCreatedUnixMs).
  absl::Status SaveDataset(absl::string_view name, const Dataset& dataset,
                           int64_t create_time_unix_ms = 0);
  // DeleteDataset removes the dataset's file; OK when there is none.
  absl::Status DeleteDataset(absl::string_view name);

  const std::string& data_dir() const { return data_dir_; }
  // DatasetCreatedUnixMs is the dataset's creation time as SaveDataset kept it (the file's
  // modification time), in ms since the Unix epoch; 0 when there is no file.
  int64_t DatasetCreatedUnixMs(absl::string_view name) const;
  // Paths of the files that hold `name` (the name is not validated here).
  std::string SessionPath(absl::string_view name) const;
  std::string DatasetPath(absl::string_view name) const;

 private:
  absl::Status Lock();

  const std::string data_dir_;
  int lock_fd_ = -1;  // Open file holding the dir's flock; -1 before Open.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SESSION_STORE_H_
