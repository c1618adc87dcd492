// Tests of mlpd's own families: held amounts against limits, the executor, training counters
// with their session cap, jobs by state and snapshots.
#include "server/metrics_mlpd.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/exposition_test_util.h"

namespace mlpd {
namespace {

using testing::ExposedValue;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MlpdMetricsTest, HeldAmountsAreReadAtScrapeNextToTheirLimits) {
  MetricsRegistry registry;
  MlpdMetrics::Held held{2, 4096, 1, 1 << 20};
  int64_t queued = 3;
  MlpdMetrics metrics(
      registry, {10, 1 << 30, 0, int64_t{2} << 30, 1024}, [&held] { return held; },
      [&queued] { return queued; });
  std::string text = registry.TextExposition();
  EXPECT_EQ(ExposedValue(text, "mlpd_sessions"), 2);
  EXPECT_EQ(ExposedValue(text, "mlpd_sessions_limit"), 10);
  EXPECT_EQ(ExposedValue(text, "mlpd_sessions_bytes"), 4096);
  EXPECT_EQ(ExposedValue(text, "mlpd_sessions_bytes_limit"), 1 << 30);
  EXPECT_EQ(ExposedValue(text, "mlpd_datasets"), 1);
  EXPECT_EQ(ExposedValue(text, "mlpd_datasets_bytes"), 1 << 20);
  EXPECT_EQ(ExposedValue(text, "mlpd_datasets_bytes_limit"), 2.0 * (1 << 30));
  EXPECT_EQ(ExposedValue(text, "mlpd_executor_queue_depth"), 3);
  EXPECT_EQ(ExposedValue(text, "mlpd_executor_queue_limit"), 1024);
  // --max-datasets 0 means no limit: no gauge, rather than a limit of 0.
  EXPECT_THAT(text, Not(HasSubstr("mlpd_datasets_limit")));

  held.sessions = 5;
  queued = 0;
  text = registry.TextExposition();
  EXPECT_EQ(ExposedValue(text, "mlpd_sessions"), 5);
  EXPECT_EQ(ExposedValue(text, "mlpd_executor_queue_depth"), 0);
}

TEST(MlpdMetricsTest, ExecutorWaitAndBusyTimeAreRecorded) {
  MetricsRegistry registry;
  MlpdMetrics metrics(
      registry, {}, [] { return MlpdMetrics::Held(); }, [] { return 0; });
  metrics.ExecutorItemRan(absl::Microseconds(20), absl::Milliseconds(250));
  metrics.ExecutorItemRan(absl::Milliseconds(2), absl::Milliseconds(500));
  const std::string text = registry.TextExposition();
  EXPECT_DOUBLE_EQ(ExposedValue(text, "mlpd_executor_busy_seconds_total"), 0.75);
  EXPECT_EQ(ExposedValue(text, "mlpd_executor_wait_seconds_count"), 2);
  EXPECT_EQ(ExposedValue(text, "mlpd_executor_wait_seconds_bucket{le=\"5e-05\"}"), 1);
  EXPECT_EQ(ExposedValue(text, "mlpd_executor_wait_seconds_bucket{le=\"0.0025\"}"), 2);
}

TEST(MlpdMetricsTest, TrainingCountersAreBySessionWithACap) {
  MetricsRegistry registry;
  MlpdMetrics metrics(
      registry, {}, [] { return MlpdMetrics::Held(); }, [] { return 0; });
  metrics.StepsApplied("mnist", 1, 128);
  metrics.StepsApplied("mnist", 10, 1280);
  std::string text = registry.TextExposition();
  EXPECT_EQ(ExposedValue(text, "mlpd_train_steps_total{session=\"mnist\"}"), 11);
  EXPECT_EQ(ExposedValue(text, "mlpd_train_samples_total{session=\"mnist\"}"), 1408);

  for (int i = 0; i < 500; ++i) metrics.StepsApplied("s" + std::to_string(i), 1, 2);
  text = registry.TextExposition();
  // 98 of the new sessions have their own series; the other 402 share _other.
  EXPECT_EQ(ExposedValue(text, "mlpd_train_steps_total{session=\"s97\"}"), 1);
  EXPECT_THAT(text, Not(HasSubstr("session=\"s98\"")));
  EXPECT_EQ(ExposedValue(text, "mlpd_train_steps_total{session=\"_other\"}"), 402);
  EXPECT_EQ(ExposedValue(text, "mlpd_train_samples_total{session=\"_other\"}"), 804);
}

TEST(MlpdMetricsTest, JobsAndSnapshots) {
  MetricsRegistry registry;
  MlpdMetrics metrics(
      registry, {}, [] { return MlpdMetrics::Held(); }, [] { return 0; });
  EXPECT_THAT(registry.TextExposition(), Not(HasSubstr("mlpd_jobs")));
  metrics.AddJobs([] { return MlpdMetrics::JobCounts{{"queued", 1}, {"running", 2}}; });
  metrics.SnapshotDone(true, absl::Milliseconds(3));
  metrics.SnapshotDone(true, absl::Milliseconds(4));
  metrics.SnapshotDone(false, absl::Milliseconds(1));
  const std::string text = registry.TextExposition();
  EXPECT_EQ(ExposedValue(text, "mlpd_jobs{state=\"queued\"}"), 1);
  EXPECT_EQ(ExposedValue(text, "mlpd_jobs{state=\"running\"}"), 2);
  EXPECT_EQ(ExposedValue(text, "mlpd_snapshots_written_total"), 2);
  EXPECT_EQ(ExposedValue(text, "mlpd_snapshots_failed_total"), 1);
  EXPECT_EQ(ExposedValue(text, "mlpd_snapshot_duration_seconds_count"), 3);
}

}  // namespace
}  // namespace mlpd
