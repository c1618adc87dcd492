// mlpd-bench practical: the lecture's practical (bench/practical.h) on real MNIST, timed.
//
//   mlpd-bench practical [--json] [--mnist DIR] [--repeats N] [--seed S] [--anchor PATH]
//
// Loading and preprocessing are not timed: a run is the 1000 full-batch training steps of a
// freshly created model, and the reported seconds are the median over --repeats runs, after a
// few untimed warm-up steps. --anchor runs a PyTorch script of the same recipe
// (torch_practical3.py, with /usr/bin/python3) at 1 and 2 threads in the same run and reports
// our time as a ratio to its best.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/anchor.h"
#include "bench/benchmarks.h"
#include "bench/flops.h"
#include "bench/practical.h"
#include "core/model.h"

namespace mlpd::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWarmUpSteps = 5;

struct PracticalResult {
  double seconds = 0.0;  // Median of the timed runs.
  std::vector<double> run_seconds;
  float final_loss = 0.0f;  // The last step's loss (before its update), as the anchor prints.
  double train_error_rate = 0.0;
  double test_error_rate = 0.0;
  double torch_seconds = 0.0;  // Best of 1 and 2 threads; 0 when not measured.
  int torch_threads = 0;
  double matmul_gflops = 0.0;  // oneDNN's 2048^3 matmul in this run: the peak.
};

// StepGflops is the real work rate of the practical's steps (no input gradient for layer 1).
double StepGflops(const PracticalResult& result) {
  return TrainStepFlops({784, 50, kPracticalClasses}, kPracticalRows) * kPracticalSteps /
         result.seconds / 1e9;
}

// TrainOnce trains a fresh model for the practical's steps and returns the model, filling the
// step time and the last loss.
absl::StatusOr<std::unique_ptr<Model>> TrainOnce(const PracticalData& data, uint64_t seed,
                                                 double* seconds, float* final_loss) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(PracticalSpec(seed));
  if (!model.ok()) return model.status();
  const MatrixView x = data.train.x.view();
  const TargetsView targets = data.train.targets_view();
  const Clock::time_point start = Clock::now();
  for (int64_t step = 0; step < kPracticalSteps; ++step) {
    absl::StatusOr<float> loss = (*model)->TrainStep(x, targets);
    if (!loss.ok()) return loss.status();
    *final_loss = *loss;
  }
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return model;
}

absl::Status WarmUp(const PracticalData& data, uint64_t seed) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(PracticalSpec(seed));
  if (!model.ok()) return model.status();
  for (int step = 0; step < kWarmUpSteps; ++step) {
    absl::StatusOr<float> loss =
        (*model)->TrainStep(data.train.x.view(), data.train.targets_view());
    if (!loss.ok()) return loss.status();
  }
  return absl::OkStatus();
}

absl::Status Measure(const PracticalData& data, uint64_t seed, int repeats,
                     PracticalResult* result) {
  absl::Status status = WarmUp(data, seed);
  if (!status.ok()) return status;
  std::unique_ptr<Model> model;
  for (int run = 0; run < repeats; ++run) {
    double seconds = 0.0;
    absl::StatusOr<std::unique_ptr<Model>> trained =
        TrainOnce(data, seed, &seconds, &result->final_loss);
    if (!trained.ok()) return trained.status();
    model = std::move(*trained);
    result->run_seconds.push_back(seconds);
  }
  std::vector<double> sorted = result->run_seconds;
  std::sort(sorted.begin(), sorted.end());
  result->seconds = sorted[sorted.size() / 2];
  absl::StatusOr<Evaluation> train =
      model->Evaluate(data.train.x.view(), data.train.targets_view());
  if (!train.ok()) return train.status();
  absl::StatusOr<Evaluation> test = model->Evaluate(data.test.x.view(), data.test.targets_view());
  if (!test.ok()) return test.status();
  result->train_error_rate = train->error_rate;
  result->test_error_rate = test->error_rate;
  return absl::OkStatus();
}

// AnchorSeconds runs the PyTorch practical with `threads` threads and returns the time of its
// 1000 steps, or 0 when it fails.
double AnchorSeconds(const std::string& script, const std::string& mnist_dir, int threads) {
  return NumberAfter(AnchorOutput(script, {mnist_dir, absl::StrCat(threads)}), "time_1000_steps ");
}

void PrintTable(const PracticalResult& result, int repeats) {
  std::printf(
      "practical: 784-50-10 tanh/tanh, mse sum, sgd 0.1/1000, %lld full-batch steps of %lld "
      "MNIST images\n",
      static_cast<long long>(kPracticalSteps), static_cast<long long>(kPracticalRows));
  std::printf("%12s %12s %12s %10s %14s %10s %8s %10s\n", "final_loss", "train_error", "test_error",
              "seconds", "torch_seconds", "vs_torch", "GFLOP/s", "of_matmul");
  const std::string torch =
      result.torch_seconds > 0.0 ? absl::StrFormat("%.2f", result.torch_seconds) : "-";
  const std::string ratio = result.torch_seconds > 0.0
                                ? absl::StrFormat("%.2fx", result.seconds / result.torch_seconds)
                                : "-";
  std::printf("%12.2f %11.2f%% %11.2f%% %10.3f %14s %10s %8.1f %9.0f%%\n", result.final_loss,
              100 * result.train_error_rate, 100 * result.test_error_rate, result.seconds,
              torch.c_str(), ratio.c_str(), StepGflops(result),
              100 * StepGflops(result) / result.matmul_gflops);
  std::string runs;
  for (double seconds : result.run_seconds) absl::StrAppendFormat(&runs, " %.3f", seconds);
  std::printf("seconds: median of %d runs:%s; oneDNN matmul 2048^3: %.1f GFLOP/s\n", repeats,
              runs.c_str(), result.matmul_gflops);
}

void PrintJson(const PracticalResult& result, int repeats) {
  std::string extra;
  if (result.torch_seconds > 0.0) {
    extra = absl::StrFormat(
        ", \"torch_seconds\": %.3f, \"torch_threads\": %d, \"seconds_vs_torch\": %.3f",
        result.torch_seconds, result.torch_threads, result.seconds / result.torch_seconds);
  }
  std::printf(
      "{\"benchmark\": \"practical\", \"steps\": %lld, \"repeats\": %d, \"final_loss\": %.4f, "
      "\"train_error_rate\": %.4f, \"test_error_rate\": %.4f, \"seconds\": %.4f, \"gflops\": %.2f, "
      "\"fraction_of_matmul\": %.3f%s}\n",
      static_cast<long long>(kPracticalSteps), repeats, result.final_loss, result.train_error_rate,
      result.test_error_rate, result.seconds, StepGflops(result),
      StepGflops(result) / result.matmul_gflops, extra.c_str());
}

}  // namespace

int RunPractical(const PracticalBenchOptions& options) {
  const std::string& mnist_dir = options.mnist_dir;
  const std::string& anchor = options.anchor;
  const int repeats = options.repeats;
  absl::StatusOr<PracticalData> data = LoadPracticalData(mnist_dir, PracticalVariant::k2019);
  if (!data.ok()) {
    std::fprintf(stderr, "mlpd-bench practical: %s\n(run scripts/fetch-mnist, or pass --mnist)\n",
                 data.status().ToString().c_str());
    return 1;
  }
  PracticalResult result;
  absl::Status status = Measure(*data, options.seed, repeats, &result);
  if (!status.ok()) {
    std::fprintf(stderr, "mlpd-bench practical: %s\n", status.ToString().c_str());
    return 1;
  }
  result.matmul_gflops = MatmulGflops(2048, 1.0);
  if (!anchor.empty()) {
    for (int threads : {1, 2}) {
      const double seconds = AnchorSeconds(anchor, mnist_dir, threads);
      if (seconds > 0.0 && (result.torch_seconds == 0.0 || seconds < result.torch_seconds)) {
        result.torch_seconds = seconds;
        result.torch_threads = threads;
      }
    }
    if (result.torch_seconds == 0.0) {
      std::fprintf(stderr, "mlpd-bench practical: the anchor %s gave no time\n", anchor.c_str());
    }
  }
  if (options.json) {
    PrintJson(result, repeats);
  } else {
    PrintTable(result, repeats);
  }
  return 0;
}

}  // namespace mlpd::bench
