// history_store.h: every session's learning curve, kept on disk beside its snapshot.
//
// A point is recorded per TrainStep and per report of a job or Train call. Points are appended
// to HISTORY_DIR/NAME.hist as fixed-size records, each with its own checksum, so a crash can at
// worst tear the last record, which the next read drops (an append is one write(2): a kill -9
// loses nothing already appended; power loss may lose the last points, which is acceptable for
// a curve and keeps fsync off the training path). Past `cap` points the older half is thinned
// (every second point kept, the first always) and the file rewritten atomically: recent points
// stay dense, old ones get sparser, and a session never holds more than `cap` points.
//
//   HistoryStore history(data_dir + "/history", /*cap=*/4096);
//   MLPD_RETURN_IF_ERROR(history.Open());
//   MLPD_RETURN_IF_ERROR(history.Append("mnist", point));
//   absl::StatusOr<std::vector<HistoryPoint>> curve = history.Read("mnist", 0, 200);
//
// File format (little-endian): a 16-byte header "MLPH", uint32 version (1), uint32 record size
// (56), uint32 CRC-32C of the first 12 bytes; then records of int64 step, int64 time (ms since
// the Unix epoch), float64 samples/s, float64 eval loss, float64 eval error rate, float32 train
// loss, uint32 flags (1: has eval, 2: eval has error rate), uint32 zero, uint32 CRC-32C of the
// record's first 52 bytes.
//
// Thread-safe. Holds no points in memory between calls: a session's curve costs only its file.
#ifndef MLPD_SERVER_HISTORY_STORE_H_
#define MLPD_SERVER_HISTORY_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace mlpd {

// HistoryPoint is one point of a learning curve (see mlpd.v1.HistoryPoint).
struct HistoryPoint {
  int64_t step = 0;
  int64_t time_unix_ms = 0;
  float train_loss = 0;
  double samples_per_second = 0;
  bool has_eval = false;
  double eval_loss = 0;
  bool eval_has_error_rate = false;
  double eval_error_rate = 0;

  bool operator==(const HistoryPoint& other) const;
};

// ThinHistory halves the density of the older half of `points`: of points[0, n/2) it keeps
// every second one (the first included); the newer half stays whole.
void ThinHistory(std::vector<HistoryPoint>* points);

// SamplePoints keeps at most `max_points` of `points`, evenly spread and always the last one;
// max_points <= 0 keeps all.
std::vector<HistoryPoint> SamplePoints(std::vector<HistoryPoint> points, int64_t max_points);

class HistoryStore {
 public:
  // kDefaultCap is the points a session keeps before thinning (about 230 KB on disk).
  static constexpr int64_t kDefaultCap = 4096;

  // `folder` holds one file per session; `cap` >= 4.
  explicit HistoryStore(std::string folder, int64_t cap = kDefaultCap);

  // Open creates the folder when missing and removes temporary files a crash left.
  absl::Status Open();
  // Append records a point for `session`, thinning its curve when it grows past the cap.
  absl::Status Append(absl::string_view session, const HistoryPoint& point);
  // Read returns the session's points with step >= from_step, in the order recorded, at most
  // max_points of them (SamplePoints); empty when the session has no curve.
  absl::StatusOr<std::vector<HistoryPoint>> Read(absl::string_view session, int64_t from_step,
                                                 int64_t max_points) const;
  // KeepUpTo drops the session's points past `step`: after a crash the session is back at its
  // snapshot's step, and the steps redone from there must not show twice.
  absl::Status KeepUpTo(absl::string_view session, int64_t step);
  // Delete removes the session's curve; OK when it has none.
  absl::Status Delete(absl::string_view session);
  // KeepOnly deletes the curves of sessions not in `sessions` (those deleted while the server
  // was down, or whose snapshot was quarantined); returns the names removed.
  std::vector<std::string> KeepOnly(const std::vector<std::string>& sessions);

  const std::string& folder() const { return folder_; }
  int64_t cap() const { return cap_; }
  std::string PathOf(absl::string_view session) const;

 private:
  absl::StatusOr<std::vector<HistoryPoint>> Load(const std::string& path) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  absl::Status Rewrite(const std::string& path, const std::vector<HistoryPoint>& points)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string folder_;
  const int64_t cap_;
  // Serialises appends, rewrites and reads; each is one file's worth of work.
  mutable absl::Mutex mutex_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_HISTORY_STORE_H_
