// data_dir.h: the data dir: sessions and datasets kept on disk so a restart loses nothing.
//
// Layout under the data dir: sessions/NAME.ckpt (session_file.h), datasets/NAME.data
// (dataset_file.h), quarantine/, and the lock file. Every file is written atomically in the
// format of data_file.h. A file that does not load (truncated, corrupt, wrong version, garbage,
// a snapshot that does not restore) is moved to quarantine/ and reported; it never stops the
// others from loading. Names are validated so no path escapes the data dir.
//
//   DataDir dir(path);
//   MLPD_RETURN_IF_ERROR(dir.Open());
//   MLPD_ASSIGN_OR_RETURN(DataDir::Contents contents, dir.LoadAll());
//   MLPD_RETURN_IF_ERROR(dir.SaveSession("mnist", checkpoint));
//
// What a crash may lose: a save that has not returned. Replacing a file is a rename, so after a
// crash each file is either the previous complete version or the new complete one, never a mix;
// a SaveSession/SaveDataset that returned OK survives power loss (the data and the directory
// entry are fsynced first). A crash may leave NAME.*.tmp-* files; LoadAll removes them.
//
// Thread-safe: calls on different names may run concurrently; calls on one name are
// serialised by the caller (the server's per-session order). LoadAll runs before any save.
#ifndef MLPD_SERVER_DATA_DIR_H_
#define MLPD_SERVER_DATA_DIR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"
#include "mlpd/v1/model.pb.h"
#include "server/data_file.h"
#include "server/session_file.h"

namespace mlpd {

class DataDir {
 public:
  // Contents is everything LoadAll found.
  struct Contents {
    // Each session restored once from its file (see session_file.h).
    std::vector<std::pair<std::string, LoadedSession>> sessions;
    std::vector<std::pair<std::string, Dataset>> datasets;
    // Files moved to quarantine/, each "FOLDER/FILE: why" (already logged to stderr).
    std::vector<std::string> quarantined;
  };

  explicit DataDir(std::string path);
  // The destructor releases the data dir's lock.
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  // Open creates the data dir and its folders when missing and locks the dir (an flock on
  // DATA_DIR/lock, which holds the owner's pid): while one DataDir has it open, Open of another
  // on the same dir, in this process or another, fails with FAILED_PRECONDITION. Two servers on
  // one dir would overwrite each other's snapshots.
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

  const std::string& data_dir() const { return path_; }
  // DatasetCreatedUnixMs is the dataset's creation time as SaveDataset kept it (the file's
  // modification time), in ms since the Unix epoch; 0 when there is no file.
  int64_t DatasetCreatedUnixMs(absl::string_view name) const;
  // Paths of the files that hold `name` (the name is not validated here).
  std::string SessionPath(absl::string_view name) const;
  std::string DatasetPath(absl::string_view name) const;

 private:
  // LoadFile reads one NAME+suffix file; an error quarantines it.
  using LoadFile = std::function<absl::Status(std::string name, const std::string& path)>;

  absl::Status Lock();
  std::string Folder(absl::string_view folder_name) const;
  // LoadFolder calls `load` for each NAME+suffix file in the folder, sorted by name, removing
  // temporary files and quarantining what does not load.
  absl::Status LoadFolder(absl::string_view folder_name, absl::string_view suffix,
                          const LoadFile& load, Contents* contents);
  // Quarantine moves a file that does not load out of the way, logs and records why.
  absl::Status Quarantine(absl::string_view folder_name, const std::string& file_name,
                          absl::string_view reason, Contents* contents);

  const std::string path_;
  int lock_fd_ = -1;  // Open file holding the dir's flock; -1 before Open.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_DATA_DIR_H_
