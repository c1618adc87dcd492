// metrics_process.h: the standard process_* families (as the Prometheus client libraries name
// them), read from /proc at each scrape.
//
//   MetricsRegistry registry;
//   AddProcessMetrics(registry);
//   // process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
//   // process_open_fds, process_max_fds, process_start_time_seconds
#ifndef MLPD_SERVER_METRICS_PROCESS_H_
#define MLPD_SERVER_METRICS_PROCESS_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "server/metrics_registry.h"

namespace mlpd {

// ProcessStat is what /proc/<pid>/stat says of a process, in plain units.
struct ProcessStat {
  double cpu_seconds = 0;  // User plus system time.
  double start_seconds_after_boot = 0;
  double virtual_memory_bytes = 0;
  double resident_memory_bytes = 0;
};

// ParseProcessStat reads the text of /proc/<pid>/stat; nullopt when it is not in that format.
// `ticks_per_second` is sysconf(_SC_CLK_TCK), `page_size` sysconf(_SC_PAGESIZE).
std::optional<ProcessStat> ParseProcessStat(absl::string_view text, double ticks_per_second,
                                            double page_size);

// ParseBootTime returns the btime line of /proc/stat (seconds since the epoch).
std::optional<double> ParseBootTime(absl::string_view proc_stat_text);

// AddProcessMetrics registers the process_* families of this process.
void AddProcessMetrics(MetricsRegistry& registry);

}  // namespace mlpd

#endif  // MLPD_SERVER_METRICS_PROCESS_H_
