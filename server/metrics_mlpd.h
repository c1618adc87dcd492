// metrics_mlpd.h: mlpd's own families, next to the gRPC and process ones:
//
//   mlpd_sessions, mlpd_sessions_bytes, mlpd_datasets, mlpd_datasets_bytes     (gauges, held)
//   mlpd_sessions_limit, ..._bytes_limit, mlpd_datasets_limit, ..._bytes_limit (the --max-*)
//   mlpd_executor_queue_depth, mlpd_executor_queue_limit                       (gauges)
//   mlpd_executor_busy_seconds_total                   (counter: time spent running work)
//   mlpd_executor_wait_seconds                         (histogram: queued -> started)
//   mlpd_train_steps_total{session}, mlpd_train_samples_total{session}         (counters)
//   mlpd_jobs{state}                                   (gauge: jobs held, by state)
//   mlpd_snapshots_written_total, mlpd_snapshots_failed_total                  (counters)
//   mlpd_snapshot_duration_seconds                     (histogram, written or failed)
//
// Held amounts, the queue depth and jobs are read at scrape time from the server's own counts;
// the rest is counted as it happens. A limit of 0 ("no limit") is not exposed, so a ratio
// panel shows nothing rather than a division by zero.
//
// Steps and samples are labelled by session, capped at kMaxSessionSeries series per family: the
// first sessions to train get their own series, later ones share the "_other" series (series
// of deleted sessions stay until restart, so the cap also bounds what deletions leave behind).
//
//   MlpdMetrics metrics(registry, limits, [&] { return HeldNow(); }, [&] { return queue; });
//   metrics.StepsApplied("mnist", 1, 128);
//   metrics.ExecutorItemRan(waited, ran);
#ifndef MLPD_SERVER_METRICS_MLPD_H_
#define MLPD_SERVER_METRICS_MLPD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/metrics_registry.h"

namespace mlpd {

// kMaxSessionSeries caps the session label of the training counters (the overflow included).
inline constexpr int kMaxSessionSeries = 100;

class MlpdMetrics {
 public:
  // Limits are the --max-* flags in the units exposed (bytes, not MiB); 0 means none.
  struct Limits {
    int64_t sessions = 0;
    int64_t sessions_bytes = 0;
    int64_t datasets = 0;
    int64_t datasets_bytes = 0;
    int64_t queue = 0;
  };
  struct Held {
    int64_t sessions = 0;
    int64_t sessions_bytes = 0;
    int64_t datasets = 0;
    int64_t datasets_bytes = 0;
  };
  // Jobs by state name ("queued", "running", ...), every state present even at 0.
  using JobCounts = std::vector<std::pair<std::string, int64_t>>;

  // Registers the families in `registry`, which must outlive this. `held` and `queue_depth` are
  // called at each scrape, on the scraping thread.
  MlpdMetrics(MetricsRegistry& registry, Limits limits, std::function<Held()> held,
              std::function<int64_t()> queue_depth);
  MlpdMetrics(const MlpdMetrics&) = delete;
  MlpdMetrics& operator=(const MlpdMetrics&) = delete;

  // AddJobs registers mlpd_jobs{state}, read at each scrape from `jobs`.
  void AddJobs(std::function<JobCounts()> jobs);

  // ExecutorItemRan records one item of the compute executor: its wait in the queue and the
  // time it ran.
  void ExecutorItemRan(absl::Duration waited, absl::Duration ran);
  // StepsApplied counts optimizer steps applied to `session` and the samples they consumed.
  void StepsApplied(absl::string_view session, int64_t steps, int64_t samples);
  // SnapshotDone counts a snapshot written (ok) or failed, and its duration.
  void SnapshotDone(bool ok, absl::Duration took);

 private:
  MetricsRegistry& registry_;
  Counter& busy_seconds_;
  Histogram& wait_seconds_;
  CounterFamily& steps_;
  CounterFamily& samples_;
  Counter& snapshots_written_;
  Counter& snapshots_failed_;
  Histogram& snapshot_seconds_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_METRICS_MLPD_H_
