// Tests of the metrics registry and its Prometheus text exposition.
#include "server/metrics_registry.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics_text_format.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTextFormatTest, NamesFollowThePrometheusGrammar) {
  EXPECT_TRUE(IsValidMetricName("grpc_server_handled_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_FALSE(IsValidMetricName("2xx"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_TRUE(IsValidLabelName("grpc_code"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("9"));
}

TEST(MetricsTextFormatTest, ValuesAreSpeltAsPrometheusReadsThem) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(12345678901), "12345678901");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(0.00005), "5e-05");
  EXPECT_EQ(FormatMetricValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatMetricValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatMetricValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTextFormatTest, LabelValuesAndHelpAreEscaped) {
  std::string out;
  AppendSampleLine("x", {"session"}, {"a\"b\\c\nd"}, 1, out);
  EXPECT_EQ(out, "x{session=\"a\\\"b\\\\c\\nd\"} 1\n");
  out.clear();
  AppendFamilyHeader("x", "two\nlines \\ here", "counter", out);
  EXPECT_EQ(out, "# HELP x two\\nlines \\\\ here\n# TYPE x counter\n");
  out.clear();
  AppendSampleLine("h_bucket", {}, {}, 4, out, "le", "+Inf");
  EXPECT_EQ(out, "h_bucket{le=\"+Inf\"} 4\n");
}

TEST(MetricsRegistryTest, CountersAndGaugesAppearWithHelpTypeAndLabels) {
  MetricsRegistry registry;
  CounterFamily& steps = registry.AddCounter("mlpd_steps_total", "Steps applied.", {"session"});
  GaugeFamily& queue = registry.AddGauge("mlpd_queue_depth", "Calls waiting.");
  steps.WithLabels({"a"}).Increment();
  steps.WithLabels({"a"}).Increment(2);
  steps.WithLabels({"b"}).Increment(-5);  // Ignored: counters only go up.
  queue.WithLabels({}).Set(7);
  queue.WithLabels({}).Add(-2);

  EXPECT_EQ(registry.TextExposition(),
            "# HELP mlpd_steps_total Steps applied.\n"
            "# TYPE mlpd_steps_total counter\n"
            "mlpd_steps_total{session=\"a\"} 3\n"
            "mlpd_steps_total{session=\"b\"} 0\n"
            "# HELP mlpd_queue_depth Calls waiting.\n"
            "# TYPE mlpd_queue_depth gauge\n"
            "mlpd_queue_depth 5\n");
}

TEST(MetricsRegistryTest, FamilyWithoutLabelsIsExposedBeforeItsFirstUpdate) {
  MetricsRegistry registry;
  registry.AddCounter("mlpd_snapshots_failed_total", "Snapshots that failed.");
  EXPECT_THAT(registry.TextExposition(), HasSubstr("\nmlpd_snapshots_failed_total 0\n"));
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  MetricsRegistry registry;
  HistogramFamily& wait =
      registry.AddHistogram("mlpd_wait_seconds", "Wait.", {"queue"}, {0.5, 1, 10});
  Histogram& series = wait.WithLabels({"compute"});
  series.Observe(0.25);
  series.Observe(0.5);  // le is inclusive: 0.5 falls in the 0.5 bucket.
  series.Observe(5);
  series.Observe(50);

  EXPECT_THAT(registry.TextExposition(),
              HasSubstr("# TYPE mlpd_wait_seconds histogram\n"
                        "mlpd_wait_seconds_bucket{queue=\"compute\",le=\"0.5\"} 2\n"
                        "mlpd_wait_seconds_bucket{queue=\"compute\",le=\"1\"} 2\n"
                        "mlpd_wait_seconds_bucket{queue=\"compute\",le=\"10\"} 3\n"
                        "mlpd_wait_seconds_bucket{queue=\"compute\",le=\"+Inf\"} 4\n"
                        "mlpd_wait_seconds_sum{queue=\"compute\"} 55.75\n"
                        "mlpd_wait_seconds_count{queue=\"compute\"} 4\n"));
  EXPECT_EQ(series.Count(), 4u);
}

TEST(MetricsRegistryTest, LabelCardinalityIsCappedByAnOverflowSeries) {
  MetricsRegistry registry;
  CounterFamily& steps =
      registry.AddCounter("mlpd_steps_total", "Steps.", {"session"}, /*max_series=*/3);
  for (int i = 0; i < 10; ++i) steps.WithLabels({"s" + std::to_string(i)}).Increment();
  steps.WithLabels({"s0"}).Increment();  // An existing series stays itself.

  EXPECT_EQ(steps.SeriesCount(), 3);
  const std::string text = registry.TextExposition();
  EXPECT_THAT(text, HasSubstr("mlpd_steps_total{session=\"s0\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("mlpd_steps_total{session=\"s1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("mlpd_steps_total{session=\"_other\"} 8\n"));
  EXPECT_THAT(text, Not(HasSubstr("s2")));
}

TEST(MetricsRegistryTest, WrongNumberOfLabelValuesCountsAsOverflowNotACrash) {
  MetricsRegistry registry;
  CounterFamily& calls = registry.AddCounter("calls_total", "Calls.", {"a", "b"});
  calls.WithLabels({"only one"}).Increment();
  EXPECT_THAT(registry.TextExposition(), HasSubstr("calls_total{a=\"_other\",b=\"_other\"} 1\n"));
}

TEST(MetricsRegistryTest, CallbackFamiliesAreReadAtEachScrape) {
  MetricsRegistry registry;
  double held = 1;
  registry.AddCallback("mlpd_sessions", "Sessions held.", MetricType::kGauge, {"kind"}, [&held] {
    return std::vector<MetricSample>{{{"held"}, held}, {{"limit"}, 10}};
  });
  EXPECT_THAT(registry.TextExposition(), HasSubstr("mlpd_sessions{kind=\"held\"} 1\n"));
  held = 4;
  const std::string text = registry.TextExposition();
  EXPECT_THAT(text, HasSubstr("mlpd_sessions{kind=\"held\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("mlpd_sessions{kind=\"limit\"} 10\n"));
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry registry;
  CounterFamily& counter = registry.AddCounter("c_total", "C.", {"t"});
  HistogramFamily& histogram = registry.AddHistogram("h_seconds", "H.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        counter.WithLabels({t % 2 == 0 ? "even" : "odd"}).Increment();
        histogram.WithLabels({}).Observe(0.5);
        if (i % 1000 == 0) registry.TextExposition();  // Scrapes race with updates.
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.WithLabels({"even"}).Value(), 20000);
  EXPECT_EQ(counter.WithLabels({"odd"}).Value(), 20000);
  EXPECT_EQ(histogram.WithLabels({}).Count(), 40000u);
  EXPECT_EQ(histogram.WithLabels({}).Sum(), 20000);
}

TEST(MetricsRegistryDeathTest, BadOrRepeatedNamesAreBugsCaughtAtRegistration) {
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddCounter("bad-name", "x");
      },
      "invalid metric name: bad-name");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddGauge("g", "x", {"__reserved"});
      },
      "invalid label name");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddGauge("g", "x");
        registry.AddCounter("g", "y");
      },
      "registered twice: g");
}

TEST(MetricsRegistryTest, ExponentialBucketsGrowByTheFactor) {
  EXPECT_THAT(ExponentialBuckets(0.001, 10, 4), ::testing::ElementsAre(0.001, 0.01, 0.1, 1));
}

}  // namespace
}  // namespace mlpd
