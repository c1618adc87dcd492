// mlpd-bench: the project's benchmarks, one subcommand each. Every benchmark prints a table,
// or with --json one JSON object per row, and reports medians of repeated runs after warm-up.
//
//   mlpd-bench engine [--json] [--anchor torch_mlp_bench.py]
//   mlpd-bench practical [--json] [--anchor torch_practical3.py]
//   mlpd-bench service [--json] [--only epoch]
//
// Every subcommand runs under the OpenMP and malloc settings of `mlpd` itself
// (server/openmp_environment.h, server/malloc_settings.h), so the engine rows measure what the
// service runs.
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/benchmarks.h"
#include "server/malloc_settings.h"
#include "server/openmp_environment.h"

int main(int argc, char** argv) {
  // May re-execute the process with the server's OpenMP environment; then its malloc settings.
  mlpd::UseServerOpenMpSettings(argv);
  mlpd::UseServerMallocSettings();

  CLI::App app{"mlpd-bench: the project's benchmarks, each against its PyTorch anchor"};
  app.require_subcommand(1);

  mlpd::bench::EngineBenchOptions engine;
  CLI::App* engine_command = app.add_subcommand(
      "engine",
      "train-step and predict medians of the four anchor MLPs, and oneDNN matmul GFLOP/s");
  engine_command->add_flag("--json", engine.json, "one JSON object per row");
  engine_command->add_option("--min-seconds", engine.min_seconds, "time of each measurement")
      ->check(CLI::PositiveNumber);
  engine_command->add_option("--anchor", engine.anchor,
                             "torch_mlp_bench.py: also time PyTorch at 1 and 2 threads");

  mlpd::bench::PracticalBenchOptions practical;
  CLI::App* practical_command = app.add_subcommand(
      "practical", "the lecture's practical on real MNIST: 1000 full-batch steps");
  practical_command->add_flag("--json", practical.json, "one JSON object");
  practical_command->add_option("--mnist", practical.mnist_dir, "folder with the MNIST IDX files")
      ->capture_default_str();
  practical_command->add_option("--repeats", practical.repeats, "timed runs; the median is kept")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  practical_command->add_option("--seed", practical.seed, "init seed")->capture_default_str();
  practical_command->add_option("--anchor", practical.anchor,
                                "torch_practical3.py: also time PyTorch at 1 and 2 threads");

  mlpd::bench::ServiceBenchOptions service;
  CLI::App* service_command =
      app.add_subcommand("service",
                         "the gRPC service: TrainStep, Train, an epoch against PyTorch, Predict, "
                         "concurrency, snapshots, memory");
  service_command->add_flag("--json", service.json, "one JSON object per row");
  service_command->add_option("--seconds", service.seconds, "time of each measurement")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  service_command->add_option("--sessions", service.sessions, "sessions of the memory row")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  service_command->add_option("--only", service.only, "run one row")
      ->check(CLI::IsMember(
          {"trainstep", "train", "epoch", "predict", "job", "concurrent", "snapshot", "memory"}));
  service_command
      ->add_option("--epoch-anchor", service.epoch_anchor,
                   "torch_train_epoch.py for the epoch row (empty: no PyTorch)")
      ->capture_default_str();
  service_command
      ->add_option("--epoch-repeats", service.epoch_repeats,
                   "epochs timed on each side; the median is kept")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  service_command
      ->add_option("--scrape-ms", service.scrape_ms,
                   "scrape the server's /metrics every MS meanwhile (0: no HTTP port)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (engine_command->parsed()) return mlpd::bench::RunEngine(engine);
  if (practical_command->parsed()) return mlpd::bench::RunPractical(practical);
  return mlpd::bench::RunService(service);
}
