// benchmarks.h: the subcommands of mlpd-bench and their options (bound to flags by CLI11 in
// bench_main.cc). Each Run function returns the process exit code.
#ifndef MLPD_BENCH_BENCHMARKS_H_
#define MLPD_BENCH_BENCHMARKS_H_

#include <cstdint>
#include <string>

namespace mlpd::bench {

struct EngineBenchOptions {
  bool json = false;
  double min_seconds = 1.0;  // Per timing.
  std::string anchor;        // torch_mlp_bench.py; empty: no PyTorch column.
};

struct PracticalBenchOptions {
  bool json = false;
  std::string mnist_dir = MLPD_MNIST_DIR;
  int repeats = 3;
  uint64_t seed = 1;
  std::string anchor;  // torch_practical3.py; empty: no PyTorch column.
};

struct ServiceBenchOptions {
  bool json = false;
  double seconds = 2.0;  // Per measurement.
  int sessions = 10000;  // Memory row.
  std::string only;      // One row's name; empty: every row.
  std::string epoch_anchor = MLPD_BENCH_SOURCE_DIR "/torch_train_epoch.py";  // Empty: none.
  int epoch_repeats = 3;
  int scrape_ms = 0;  // > 0: a client GETs the server's /metrics this often meanwhile.
};

int RunEngine(const EngineBenchOptions& options);
int RunPractical(const PracticalBenchOptions& options);
int RunService(const ServiceBenchOptions& options);

}  // namespace mlpd::bench

#endif  // MLPD_BENCH_BENCHMARKS_H_
