#include "server/metrics_mlpd.h"

#include <string>
#include <utility>

namespace mlpd {
namespace {

// AddHeldGauge registers a label-less gauge read from one field of `held` at each scrape.
void AddHeldGauge(MetricsRegistry& registry, const char* name, const char* help,
                  const std::function<MlpdMetrics::Held()>& held,
                  int64_t MlpdMetrics::Held::*field) {
  registry.AddCallback(name, help, MetricType::kGauge, {}, [held, field] {
    return std::vector<MetricSample>{{{}, static_cast<double>(held().*field)}};
  });
}

// AddLimitGauge registers a constant gauge for a limit, unless it is 0 (no limit).
void AddLimitGauge(MetricsRegistry& registry, const char* name, const char* help, int64_t limit) {
  if (limit > 0) registry.AddGauge(name, help).WithLabels({}).Set(static_cast<double>(limit));
}

}  // namespace

MlpdMetrics::MlpdMetrics(MetricsRegistry& registry, Limits limits, std::function<Held()> held,
                         std::function<int64_t()> queue_depth)
    : registry_(registry),
      busy_seconds_(registry
                        .AddCounter("mlpd_executor_busy_seconds_total",
                                    "Time the compute executor spent running work; its rate is "
                                    "the executor's busy fraction.")
                        .WithLabels({})),
      wait_seconds_(
          registry
              .AddHistogram("mlpd_executor_wait_seconds",
                            "Time work waited in the compute executor's queue before it ran.", {},
                            {0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                             0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
              .WithLabels({})),
      steps_(registry.AddCounter("mlpd_train_steps_total",
                                 "Optimizer steps applied, by session (the first 99 sessions to "
                                 "train; later ones count as _other).",
                                 {"session"}, kMaxSessionSeries)),
      samples_(registry.AddCounter("mlpd_train_samples_total",
                                   "Training samples consumed by applied steps, by session (as "
                                   "mlpd_train_steps_total).",
                                   {"session"}, kMaxSessionSeries)),
      snapshots_written_(registry
                             .AddCounter("mlpd_snapshots_written_total",
                                         "Session snapshots written to the data dir.")
                             .WithLabels({})),
      snapshots_failed_(registry
                            .AddCounter("mlpd_snapshots_failed_total",
                                        "Session snapshots that failed to be written.")
                            .WithLabels({})),
      snapshot_seconds_(registry
                            .AddHistogram("mlpd_snapshot_duration_seconds",
                                          "Time to write a session snapshot, written or failed.",
                                          {}, ExponentialBuckets(0.0005, 2.5, 12))
                            .WithLabels({})) {
  AddHeldGauge(registry, "mlpd_sessions", "Sessions held.", held, &Held::sessions);
  AddHeldGauge(registry, "mlpd_sessions_bytes",
               "Memory of all sessions' parameters and optimizer state, in bytes.", held,
               &Held::sessions_bytes);
  AddHeldGauge(registry, "mlpd_datasets", "Datasets held.", held, &Held::datasets);
  AddHeldGauge(registry, "mlpd_datasets_bytes", "Memory held by all datasets, in bytes.", held,
               &Held::datasets_bytes);
  AddLimitGauge(registry, "mlpd_sessions_limit", "Most sessions held (--max-sessions).",
                limits.sessions);
  AddLimitGauge(registry, "mlpd_sessions_bytes_limit",
                "Most bytes all sessions may take (--max-sessions-mb).", limits.sessions_bytes);
  AddLimitGauge(registry, "mlpd_datasets_limit", "Most datasets held (--max-datasets).",
                limits.datasets);
  AddLimitGauge(registry, "mlpd_datasets_bytes_limit",
                "Most bytes all datasets may take (--max-datasets-mb).", limits.datasets_bytes);
  registry.AddCallback("mlpd_executor_queue_depth",
                       "Calls waiting for the compute executor (admitted work, not continuations).",
                       MetricType::kGauge, {}, [queue_depth = std::move(queue_depth)] {
                         return std::vector<MetricSample>{{{}, static_cast<double>(queue_depth())}};
                       });
  AddLimitGauge(registry, "mlpd_executor_queue_limit",
                "Most calls waiting for the compute executor (--max-queue).", limits.queue);
}

void MlpdMetrics::AddJobs(std::function<JobCounts()> jobs) {
  registry_.AddCallback("mlpd_jobs", "Training jobs by state.", MetricType::kGauge, {"state"},
                        [jobs = std::move(jobs)] {
                          std::vector<MetricSample> samples;
                          for (const auto& [state, count] : jobs()) {
                            samples.push_back({{state}, static_cast<double>(count)});
                          }
                          return samples;
                        });
}

void MlpdMetrics::ExecutorItemRan(absl::Duration waited, absl::Duration ran) {
  wait_seconds_.Observe(absl::ToDoubleSeconds(waited));
  busy_seconds_.Increment(absl::ToDoubleSeconds(ran));
}

void MlpdMetrics::StepsApplied(absl::string_view session, int64_t steps, int64_t samples) {
  const std::vector<std::string> labels = {std::string(session)};
  steps_.WithLabels(labels).Increment(static_cast<double>(steps));
  samples_.WithLabels(labels).Increment(static_cast<double>(samples));
}

void MlpdMetrics::SnapshotDone(bool ok, absl::Duration took) {
  (ok ? snapshots_written_ : snapshots_failed_).Increment();
  snapshot_seconds_.Observe(absl::ToDoubleSeconds(took));
}

}  // namespace mlpd
