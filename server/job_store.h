// job_store.h: training jobs' records on disk, so jobs outlive a restart of the server.
//
// Layout: JOBS_DIR/ID.job holds a job's record (a serialized mlpd.v1.Job) and, for a job with
// keep_best, JOBS_DIR/ID.best holds the parameters of its best evaluation so far (a
// mlpd.v1.Checkpoint carrying only `parameters` and `step_count`). Each file is in the data
// dir's format (data_file.h: checked header, checksummed payload) and written whole and
// atomically: after a crash, kill -9 or power loss, a record is the last one saved before it,
// never a mix. A file that does not parse is renamed to FILE.damaged
// and reported; it never stops the others from loading.
//
//   JobStore store(data_dir + "/jobs");
//   MLPD_RETURN_IF_ERROR(store.Open());
//   MLPD_ASSIGN_OR_RETURN(JobStore::Contents contents, store.LoadAll());
//   MLPD_RETURN_IF_ERROR(store.Save(job));
//
// Thread-safe for different ids; calls on one id are serialised by the caller.
#ifndef MLPD_SERVER_JOB_STORE_H_
#define MLPD_SERVER_JOB_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "mlpd/v1/mlpd.pb.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

// NewJobId makes a job id from the creation time and a per-process counter: "job-" then 13
// digits of milliseconds since the Unix epoch, "-", and 4 digits. Ids sort in creation order
// and stay unique across restarts as long as the clock does not go back.
std::string NewJobId(int64_t now_unix_ms);

class JobStore {
 public:
  // Contents is what LoadAll found.
  struct Contents {
    std::vector<v1::Job> jobs;         // In id order (creation order).
    std::vector<std::string> damaged;  // "FILE: why", already logged.
  };

  explicit JobStore(std::string folder);

  // Open creates the folder when missing and removes temporary files a crash left.
  absl::Status Open();
  // LoadAll reads every record.
  absl::StatusOr<Contents> LoadAll();
  // Save durably replaces the job's record; returns once it is on disk.
  absl::Status Save(const v1::Job& job);
  // Delete removes the job's record and its best parameters; OK when there are none.
  absl::Status Delete(absl::string_view id);

  // SaveBest durably replaces the job's best parameters (those at session step `step`).
  absl::Status SaveBest(absl::string_view id, int64_t step, absl::Span<const float> parameters);
  // LoadBest reads them back as a Checkpoint with parameters and step_count; NOT_FOUND when the
  // job has none.
  absl::StatusOr<v1::Checkpoint> LoadBest(absl::string_view id) const;

  const std::string& folder() const { return folder_; }
  std::string RecordPath(absl::string_view id) const;
  std::string BestPath(absl::string_view id) const;

 private:
  const std::string folder_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_JOB_STORE_H_
