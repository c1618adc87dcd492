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
// Thread-safe: calls on different names may run concurrently; calls on one name are
// serialised by the caller (the server's per-session order).
#ifndef MLPD_SERVER_SESSION_STORE_H_
#define MLPD_SERVER_SESSION_STORE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

class SessionStore {
 public:
  // Contents is everything LoadAll found.
  struct Contents {
    std::vector<std::pair<std::string, v1::Checkpoint>> sessions;
    std::vector<std::pair<std::string, Dataset>> datasets;
    // Files moved to quarantine/, each with why (already logged).
    std::vector<std::string> quarantined;
  };

  explicit SessionStore(std::string data_dir);

  // Open creates the data dir and its folders when missing.
  absl::Status Open();
  // LoadAll reads every session and dataset, quarantining what does not load.
  absl::StatusOr<Contents> LoadAll();

  // SaveSession durably replaces the session's snapshot; returns once it is on disk.
  absl::Status SaveSession(absl::string_view name, const v1::Checkpoint& checkpoint);
  absl::Status DeleteSession(absl::string_view name);
  absl::Status SaveDataset(absl::string_view name, const Dataset& dataset);
  absl::Status DeleteDataset(absl::string_view name);

  const std::string& data_dir() const { return data_dir_; }

 private:
  const std::string data_dir_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SESSION_STORE_H_
