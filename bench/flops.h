// flops.h: the floating-point work the benchmarks report against the machine's matmul peak.
//
//   const double flops = TrainStepFlops({784, 50, 10}, 1000);  // per step
//   const double peak = MatmulGflops(2048, 1.0);               // GFLOP/s, this thread's team
//   std::printf("%.0f%% of peak", 100 * flops / seconds / 1e9 / peak);
#ifndef MLPD_BENCH_FLOPS_H_
#define MLPD_BENCH_FLOPS_H_

#include <cstdint>
#include <vector>

namespace mlpd::bench {

// TrainStepFlops is the multiply-add work of a training step of an MLP with layer sizes `sizes`
// (input first) on `batch` rows, as 2 FLOPs per multiply-add: every layer's forward product
// and weight gradient, and the data gradient of every layer but the first (never computed).
// Elementwise passes are not counted.
double TrainStepFlops(const std::vector<int64_t>& sizes, int64_t batch);

// MatmulGflops times oneDNN's f32 matmul of two n x n matrices with the calling thread's
// OpenMP threads: the machine's practical peak for the rows' fractions.
double MatmulGflops(int64_t n, double min_seconds);

}  // namespace mlpd::bench

#endif  // MLPD_BENCH_FLOPS_H_
