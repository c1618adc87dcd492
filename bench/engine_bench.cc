// mlpd-bench engine: train-step and predict medians of the anchor MLPs
// (as the PyTorch reference torch_mlp_bench.py: same sizes, activations, losses, batch sizes, SGD
// with learning rate 0.01, no activation after the last layer), plus oneDNN's f32 matmul GFLOP/s on
// a 2048^3 product in the same run, the machine's ceiling for the wide MLP.
//
//   mlpd-bench engine [--json] [--min-seconds S] [--anchor PATH]
//
// --anchor runs the PyTorch anchor script (with /usr/bin/python3) at 1 and 2 threads right
// after the engine's rows and adds each MLP's ratio to the best of the two.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/anchor.h"
#include "bench/benchmarks.h"
#include "bench/flops.h"
#include "bench/timing.h"
#include "core/model.h"

namespace mlpd::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct EngineCase {
  const char* name;
  std::vector<int64_t> sizes;
  Activation hidden;
  LossKind loss;
  int64_t batch;
};

const std::vector<EngineCase>& Cases() {
  static const auto* cases = new std::vector<EngineCase>{
      {"seed-practical", {784, 50, 10}, Activation::kTanh, LossKind::kMse, 1000},
      {"mnist", {784, 256, 256, 10}, Activation::kRelu, LossKind::kCrossEntropy, 128},
      {"wide", {784, 1024, 1024, 10}, Activation::kRelu, LossKind::kCrossEntropy, 256},
      {"tiny", {16, 64, 64, 1}, Activation::kTanh, LossKind::kMse, 32},
  };
  return *cases;
}

// MedianSeconds is the median time of single calls of `fn` after a short warm-up.
template <typename Fn>
double MedianSeconds(Fn&& fn, double min_seconds, int min_runs = 10) {
  return Percentile(TimeCalls(fn, min_seconds, min_runs, /*warmup=*/3), 0.5);
}

struct EngineRow {
  std::string layers;
  std::string name;
  int64_t batch = 0;
  double train_seconds = 0.0;
  double predict_seconds = 0.0;
  double train_flops = 0.0;          // Real: no input gradient for the first layer.
  double torch_train_seconds = 0.0;  // Best of 1 and 2 threads; 0 when not measured.
};

bool RunCase(const EngineCase& c, double min_seconds, EngineRow* row) {
  ModelSpec spec;
  spec.input_size = c.sizes.front();
  for (size_t i = 1; i < c.sizes.size(); ++i) {
    spec.layers.push_back({c.sizes[i], i + 1 == c.sizes.size() ? Activation::kIdentity : c.hidden});
  }
  spec.loss = {c.loss, Reduction::kMean};
  spec.optimizer.kind = OptimizerKind::kSgd;
  spec.optimizer.learning_rate = 0.01f;
  spec.init = {InitKind::kXavier, 0.0f, /*seed=*/1};
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(spec);
  if (!model.ok()) {
    std::fprintf(stderr, "mlpd-bench engine: %s\n", model.status().ToString().c_str());
    return false;
  }

  std::srand(1);
  std::vector<float> x(c.batch * spec.input_size);
  for (float& v : x) v = static_cast<float>(std::rand()) / RAND_MAX * 2.0f - 1.0f;
  std::vector<float> targets(c.batch * spec.output_size());
  for (float& v : targets) v = static_cast<float>(std::rand()) / RAND_MAX * 2.0f - 1.0f;
  std::vector<int32_t> labels(c.batch);
  for (int32_t& label : labels) label = std::rand() % spec.output_size();
  const MatrixView input{x.data(), c.batch, spec.input_size};
  const TargetsView y =
      c.loss == LossKind::kCrossEntropy
          ? TargetsView::Labels(labels.data(), c.batch)
          : TargetsView::Values(MatrixView{targets.data(), c.batch, spec.output_size()});

  bool ok = true;
  row->train_seconds = MedianSeconds(
      [&] {
        if (!(*model)->TrainStep(input, y).ok()) ok = false;
      },
      min_seconds);
  Matrix outputs;
  row->predict_seconds = MedianSeconds(
      [&] {
        if (!(*model)->Predict(input, &outputs).ok()) ok = false;
      },
      min_seconds);
  if (!ok) {
    std::fprintf(stderr, "mlpd-bench engine: a step of %s failed\n", c.name);
    return false;
  }
  row->layers = LayerSizesString(spec);
  row->name = c.name;
  row->batch = c.batch;
  row->train_flops = TrainStepFlops(c.sizes, c.batch);
  return true;
}

// RunAnchor runs the PyTorch anchor with `threads` threads and returns its train-step seconds
// by MLP name ("seed-practical", "mnist", ...).
std::map<std::string, double> RunAnchor(const std::string& script, int threads) {
  std::map<std::string, double> seconds;
  for (const std::string& line : AnchorOutput(script, {absl::StrCat(threads)})) {
    char name[64];
    const double microseconds = NumberAfter({line}, "train_step ");
    if (microseconds > 0.0 && std::sscanf(line.c_str(), "%63s", name) == 1) {
      seconds[name] = microseconds * 1e-6;
    }
  }
  return seconds;
}

// OpenMpWaiting names how idle OpenMP workers wait, which decides small steps' times.
std::string OpenMpWaiting() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  return absl::StrFormat("OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s", policy ? policy : "unset",
                         spin ? spin : "unset");
}

void PrintTable(const std::vector<EngineRow>& rows, double matmul_gflops) {
  std::printf("%-15s %-17s %5s %13s %13s %8s %11s %13s %9s\n", "mlp", "layers", "batch",
              "train_step_us", "torch_best_us", "vs_torch", "predict_us", "train_GFLOP/s",
              "of_matmul");
  for (const EngineRow& row : rows) {
    const bool anchored = row.torch_train_seconds > 0.0;
    const std::string torch =
        anchored ? absl::StrFormat("%.1f", row.torch_train_seconds * 1e6) : "-";
    const std::string ratio =
        anchored ? absl::StrFormat("%.2fx", row.train_seconds / row.torch_train_seconds) : "-";
    const double gflops = row.train_flops / row.train_seconds / 1e9;
    std::printf("%-15s %-17s %5lld %13.1f %13s %8s %11.1f %13.1f %8.0f%%\n", row.name.c_str(),
                row.layers.c_str(), static_cast<long long>(row.batch), row.train_seconds * 1e6,
                torch.c_str(), ratio.c_str(), row.predict_seconds * 1e6, gflops,
                100.0 * gflops / matmul_gflops);
  }
  std::printf("oneDNN matmul 2048^3 f32: %.1f GFLOP/s (%d threads, %s); GFLOP/s count real work\n",
              matmul_gflops, omp_get_max_threads(), OpenMpWaiting().c_str());
}

void PrintJson(const std::vector<EngineRow>& rows, double matmul_gflops) {
  for (const EngineRow& row : rows) {
    std::string extra;
    if (row.torch_train_seconds > 0.0) {
      extra = absl::StrFormat(", \"torch_train_step_us\": %.1f, \"train_vs_torch\": %.3f",
                              row.torch_train_seconds * 1e6,
                              row.train_seconds / row.torch_train_seconds);
    }
    const double gflops = row.train_flops / row.train_seconds / 1e9;
    std::printf(
        "{\"benchmark\": \"engine\", \"mlp\": \"%s\", \"layers\": \"%s\", \"batch\": %lld, "
        "\"train_step_us\": %.1f, \"predict_us\": %.1f, \"gflops\": %.2f, "
        "\"fraction_of_matmul\": %.3f%s}\n",
        row.name.c_str(), row.layers.c_str(), static_cast<long long>(row.batch),
        row.train_seconds * 1e6, row.predict_seconds * 1e6, gflops, gflops / matmul_gflops,
        extra.c_str());
  }
  std::printf(
      "{\"benchmark\": \"engine\", \"layers\": \"matmul-2048x2048x2048\", \"matmul_gflops\": "
      "%.2f, \"threads\": %d, \"openmp_waiting\": \"%s\"}\n",
      matmul_gflops, omp_get_max_threads(), OpenMpWaiting().c_str());
}

}  // namespace

int RunEngine(const EngineBenchOptions& options) {
  const bool json = options.json;
  const double min_seconds = options.min_seconds;
  const std::string& anchor = options.anchor;
  std::vector<EngineRow> rows;
  for (const EngineCase& c : Cases()) {
    EngineRow row;
    if (!RunCase(c, min_seconds, &row)) return 1;
    rows.push_back(row);
  }
  const double matmul_gflops = MatmulGflops(2048, min_seconds);
  if (!anchor.empty()) {
    const std::map<std::string, double> one = RunAnchor(anchor, 1);
    const std::map<std::string, double> two = RunAnchor(anchor, 2);
    for (EngineRow& row : rows) {
      double best = 0.0;
      for (const auto* run : {&one, &two}) {
        auto found = run->find(row.name);
        if (found != run->end() && (best == 0.0 || found->second < best)) best = found->second;
      }
      row.torch_train_seconds = best;
    }
  }
  if (json) {
    PrintJson(rows, matmul_gflops);
  } else {
    PrintTable(rows, matmul_gflops);
  }
  return 0;
}

}  // namespace mlpd::bench
