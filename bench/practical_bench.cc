// mlpd-bench practical: the lecture's practical (core/practical.h) on real MNIST, timed.
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

#include "absl/strings/str_format.h"
#include "bench/benchmarks.h"
#include "core/model.h"
#include "core/practical.h"

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
};

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
  const std::string command =
      absl::StrFormat("/usr/bin/python3 '%s' '%s' %d", script, mnist_dir, threads);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return 0.0;
  double seconds = 0.0;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    const char* field = std::strstr(line, "time_1000_steps ");
    if (field != nullptr) std::sscanf(field, "time_1000_steps %lfs", &seconds);
  }
  if (pclose(pipe) != 0) return 0.0;
  return seconds;
}

void PrintTable(const PracticalResult& result, int repeats) {
  std::printf(
      "practical: 784-50-10 tanh/tanh, mse sum, sgd 0.1/1000, %lld full-batch steps of %lld "
      "MNIST images\n",
      static_cast<long long>(kPracticalSteps), static_cast<long long>(kPracticalRows));
  std::printf("%12s %12s %12s %12s %14s %10s\n", "final_loss", "train_error", "test_error",
              "seconds", "torch_seconds", "vs_torch");
  const std::string torch =
      result.torch_seconds > 0.0 ? absl::StrFormat("%.2f", result.torch_seconds) : "-";
  const std::string ratio = result.torch_seconds > 0.0
                                ? absl::StrFormat("%.2fx", result.seconds / result.torch_seconds)
                                : "-";
  std::printf("%12.2f %11.2f%% %11.2f%% %12.3f %14s %10s\n", result.final_loss,
              100 * result.train_error_rate, 100 * result.test_error_rate, result.seconds,
              torch.c_str(), ratio.c_str());
  std::string runs;
  for (double seconds : result.run_seconds) absl::StrAppendFormat(&runs, " %.3f", seconds);
  std::printf("seconds: median of %d runs:%s\n", repeats, runs.c_str());
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
      "\"train_error_rate\": %.4f, \"test_error_rate\": %.4f, \"seconds\": %.4f%s}\n",
      static_cast<long long>(kPracticalSteps), repeats, result.final_loss, result.train_error_rate,
      result.test_error_rate, result.seconds, extra.c_str());
}

int Usage() {
  std::fprintf(stderr,
               "usage: mlpd-bench practical [--json] [--mnist DIR] [--repeats N] [--seed S] "
               "[--anchor torch_practical3.py]\n"
               "  --mnist DIR    folder with the four MNIST IDX files (default %s)\n"
               "  --repeats N    timed runs of the 1000 steps; the median is reported (default 3)\n"
               "  --seed S       init seed (default 1)\n"
               "  --anchor PATH  also time the PyTorch anchor at 1 and 2 threads\n",
               MLPD_MNIST_DIR);
  return 2;
}

}  // namespace

int RunPractical(int argc, char** argv) {
  bool json = false;
  std::string mnist_dir = MLPD_MNIST_DIR;
  int repeats = 3;
  uint64_t seed = 1;
  std::string anchor;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--json") {
      json = true;
    } else if (arg == "--mnist" && has_value) {
      mnist_dir = argv[++i];
    } else if (arg == "--repeats" && has_value) {
      repeats = std::atoi(argv[++i]);
      if (repeats < 1) {
        std::fprintf(stderr, "mlpd-bench practical: --repeats is %s, expected >= 1\n", argv[i]);
        return 2;
      }
    } else if (arg == "--seed" && has_value) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--anchor" && has_value) {
      anchor = argv[++i];
    } else {
      return Usage();
    }
  }

  absl::StatusOr<PracticalData> data = LoadPracticalData(mnist_dir, PracticalVariant::k2019);
  if (!data.ok()) {
    std::fprintf(stderr, "mlpd-bench practical: %s\n(run scripts/fetch-mnist, or pass --mnist)\n",
                 data.status().ToString().c_str());
    return 1;
  }
  PracticalResult result;
  absl::Status status = Measure(*data, seed, repeats, &result);
  if (!status.ok()) {
    std::fprintf(stderr, "mlpd-bench practical: %s\n", status.ToString().c_str());
    return 1;
  }
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
  if (json) {
    PrintJson(result, repeats);
  } else {
    PrintTable(result, repeats);
  }
  return 0;
}

}  // namespace mlpd::bench
