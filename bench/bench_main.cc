// mlpd-bench: the project's benchmarks, one subcommand each. Every benchmark prints a table,
// or with --json one JSON object per row, and reports medians of repeated runs after warm-up.
//
//   mlpd-bench engine [--json]      train-step and predict medians of the anchor MLPs
//   mlpd-bench practical [--json]   the lecture's practical: 1000 full-batch steps on MNIST
//   mlpd-bench service [--json]     the gRPC service against its floors
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/benchmarks.h"

int main(int argc, char** argv) {
  const std::string usage =
      "usage: mlpd-bench engine|practical|service [--json] [options]\n"
      "  engine     train-step and predict medians of the four anchor MLPs, and oneDNN matmul "
      "GFLOP/s\n"
      "  practical  the lecture's practical on real MNIST (data/mnist, or --mnist DIR)\n"
      "  service    the gRPC service: TrainStep, Train, Predict latency, concurrency, memory\n";
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(usage.c_str(), argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "engine") return mlpd::bench::RunEngine(argc - 1, argv + 1);
  if (command == "practical") return mlpd::bench::RunPractical(argc - 1, argv + 1);
  if (command == "service") return mlpd::bench::RunService(argc - 1, argv + 1);
  std::fprintf(stderr, "mlpd-bench: unknown benchmark '%s'\n%s", command.c_str(), usage.c_str());
  return 2;
}
