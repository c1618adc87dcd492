#include "server/metrics_process.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mlpd {
namespace {

std::string ReadProcFile(const char* path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

double OpenFileDescriptors() {
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) return 0;
  double count = 0;
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(directory);
  return count - 1;  // The descriptor opendir itself holds.
}

double MaxFileDescriptors() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<double>(limit.rlim_cur);
}

std::optional<ProcessStat> ReadOwnStat() {
  return ParseProcessStat(ReadProcFile("/proc/self/stat"),
                          static_cast<double>(sysconf(_SC_CLK_TCK)),
                          static_cast<double>(sysconf(_SC_PAGESIZE)));
}

std::vector<MetricSample> One(double value) { return {MetricSample{{}, value}}; }

}  // namespace

std::optional<ProcessStat> ParseProcessStat(absl::string_view text, double ticks_per_second,
                                            double page_size) {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself:
  // the fields after it start after the last ')'.
  const size_t close = text.rfind(')');
  if (close == absl::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  const std::vector<absl::string_view> fields =
      absl::StrSplit(text.substr(close + 1), ' ', absl::SkipWhitespace());
  // fields[0] is field 3 (state); field N of proc(5) is fields[N - 3].
  constexpr int kUtime = 14, kStime = 15, kStartTime = 22, kVsize = 23, kRss = 24;
  if (fields.size() < static_cast<size_t>(kRss - 2)) return std::nullopt;
  double utime, stime, start, vsize, rss;
  if (!absl::SimpleAtod(fields[kUtime - 3], &utime) ||
      !absl::SimpleAtod(fields[kStime - 3], &stime) ||
      !absl::SimpleAtod(fields[kStartTime - 3], &start) ||
      !absl::SimpleAtod(fields[kVsize - 3], &vsize) || !absl::SimpleAtod(fields[kRss - 3], &rss)) {
    return std::nullopt;
  }
  ProcessStat stat;
  stat.cpu_seconds = (utime + stime) / ticks_per_second;
  stat.start_seconds_after_boot = start / ticks_per_second;
  stat.virtual_memory_bytes = vsize;
  stat.resident_memory_bytes = rss * page_size;
  return stat;
}

std::optional<double> ParseBootTime(absl::string_view proc_stat_text) {
  for (absl::string_view line : absl::StrSplit(proc_stat_text, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double seconds;
      if (absl::SimpleAtod(line, &seconds)) return seconds;
    }
  }
  return std::nullopt;
}

void AddProcessMetrics(MetricsRegistry& registry) {
  // The start time never changes: read it once.
  const std::optional<ProcessStat> stat = ReadOwnStat();
  const std::optional<double> boot = ParseBootTime(ReadProcFile("/proc/stat"));
  const double start_time =
      stat.has_value() && boot.has_value() ? *boot + stat->start_seconds_after_boot : 0;

  registry.AddCallback("process_cpu_seconds_total",
                       "Total user and system CPU time spent in seconds.", MetricType::kCounter, {},
                       [] {
                         const std::optional<ProcessStat> now = ReadOwnStat();
                         return One(now ? now->cpu_seconds : 0);
                       });
  registry.AddCallback("process_resident_memory_bytes", "Resident memory size in bytes.",
                       MetricType::kGauge, {}, [] {
                         const std::optional<ProcessStat> now = ReadOwnStat();
                         return One(now ? now->resident_memory_bytes : 0);
                       });
  registry.AddCallback("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                       MetricType::kGauge, {}, [] {
                         const std::optional<ProcessStat> now = ReadOwnStat();
                         return One(now ? now->virtual_memory_bytes : 0);
                       });
  registry.AddCallback("process_open_fds", "Number of open file descriptors.", MetricType::kGauge,
                       {}, [] { return One(OpenFileDescriptors()); });
  registry.AddCallback("process_max_fds", "Maximum number of open file descriptors.",
                       MetricType::kGauge, {}, [] { return One(MaxFileDescriptors()); });
  registry.AddCallback("process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.", MetricType::kGauge,
                       {}, [start_time] { return One(start_time); });
}

}  // namespace mlpd
