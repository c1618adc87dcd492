// Tests of the process_* families and the /proc parsing under them.
#include "server/metrics_process.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/exposition_test_util.h"

namespace mlpd {
namespace {

// A real line of /proc/<pid>/stat whose command name holds a space and a parenthesis.
constexpr char kStat[] =
    "4242 (my (odd) mlpd) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 150 0 0 20 0 9 0 "
    "123400 1073741824 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

TEST(ProcessMetricsTest, ParsesTheStatLineAfterTheCommandName) {
  std::optional<ProcessStat> stat = ParseProcessStat(kStat, 100, 4096);
  ASSERT_TRUE(stat.has_value());
  EXPECT_DOUBLE_EQ(stat->cpu_seconds, 4.0);  // (250 + 150) ticks / 100.
  EXPECT_DOUBLE_EQ(stat->start_seconds_after_boot, 1234.0);
  EXPECT_DOUBLE_EQ(stat->virtual_memory_bytes, 1073741824.0);
  EXPECT_DOUBLE_EQ(stat->resident_memory_bytes, 5000.0 * 4096);
}

TEST(ProcessMetricsTest, RefusesTextThatIsNotAStatLine) {
  EXPECT_FALSE(ParseProcessStat("", 100, 4096).has_value());
  EXPECT_FALSE(ParseProcessStat("1 (x) S 1 2 3", 100, 4096).has_value());
  EXPECT_FALSE(ParseProcessStat(kStat, 0, 4096).has_value());
}

TEST(ProcessMetricsTest, ParsesBootTime) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"), 1700000000.0);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").has_value());
}

using testing::ExposedValue;

TEST(ProcessMetricsTest, ExposesThisProcessFromProc) {
  MetricsRegistry registry;
  AddProcessMetrics(registry);
  const std::string before = registry.TextExposition();
  EXPECT_GT(ExposedValue(before, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(ExposedValue(before, "process_virtual_memory_bytes"),
            ExposedValue(before, "process_resident_memory_bytes"));
  EXPECT_GT(ExposedValue(before, "process_max_fds"), 0);
  const double start = ExposedValue(before, "process_start_time_seconds");
  EXPECT_LE(start, static_cast<double>(std::time(nullptr)) + 1);
  EXPECT_GT(start, static_cast<double>(std::time(nullptr)) - 3600);

  // Opening descriptors shows in the next scrape.
  const double fds = ExposedValue(before, "process_open_fds");
  const int a = open("/dev/null", O_RDONLY);
  const int b = open("/dev/null", O_RDONLY);
  EXPECT_EQ(ExposedValue(registry.TextExposition(), "process_open_fds"), fds + 2);
  close(a);
  close(b);

  // Burning CPU shows in process_cpu_seconds_total.
  const double cpu = ExposedValue(before, "process_cpu_seconds_total");
  volatile double sink = 0;
  const clock_t begin = clock();
  while (clock() - begin < CLOCKS_PER_SEC / 5) sink = sink + 1;
  EXPECT_GT(ExposedValue(registry.TextExposition(), "process_cpu_seconds_total"), cpu + 0.1);
}

}  // namespace
}  // namespace mlpd
