#include "core/optimizer.h"

#include <cmath>
#include <type_traits>

namespace mlpd {
namespace {

// Below this many parameters a parallel region costs more than the update itself.
constexpr int64_t kParallelThreshold = 1 << 16;

// A sum of (v - v) terms is 0 when every v is finite and NaN otherwise; unlike std::isfinite
// it vectorises inside an OpenMP simd reduction.
inline float NonFiniteProbe(float v) { return v - v; }

}  // namespace

int Optimizer::slots() const {
  switch (spec_.kind) {
    case OptimizerKind::kSgd:
      return 0;
    case OptimizerKind::kMomentum:
      return 1;
    case OptimizerKind::kAdam:
      return 2;
  }
  return 0;
}

// Run calls kernel(i, write) for every parameter: first with write = false, summing the
// returned probes, then, if all were finite, with write = true.
template <typename Kernel>
bool Optimizer::Run(const Kernel& kernel, int threads) const {
  const int64_t n = parameter_count_;
  float probe = 0.0f;
  // Two loop versions: even with if(false) an OpenMP parallel region costs about a
  // microsecond, a fifth of a small network's whole step.
  if (n >= kParallelThreshold && threads > 1) {
#pragma omp parallel for simd num_threads(threads) reduction(+ : probe)
    for (int64_t i = 0; i < n; ++i) probe += kernel(i, std::false_type());
    if (probe != 0.0f) return false;
#pragma omp parallel for simd num_threads(threads)
    for (int64_t i = 0; i < n; ++i) kernel(i, std::true_type());
    return true;
  }
#pragma omp simd reduction(+ : probe)
  for (int64_t i = 0; i < n; ++i) probe += kernel(i, std::false_type());
  if (probe != 0.0f) return false;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) kernel(i, std::true_type());
  return true;
}

bool Optimizer::Step(float* parameters, const float* gradients, float* state, int64_t step,
                     int threads) const {
  const int64_t n = parameter_count_;
  const float lr = spec_.learning_rate;
  switch (spec_.kind) {
    case OptimizerKind::kSgd:
      return Run(
          [=](int64_t i, auto write) {
            const float w = parameters[i] - lr * gradients[i];
            if constexpr (decltype(write)::value) parameters[i] = w;
            return NonFiniteProbe(w);
          },
          threads);
    case OptimizerKind::kMomentum: {
      const float mu = *spec_.momentum;
      return Run(
          [=](int64_t i, auto write) {
            // PyTorch starts the velocity at the first gradient; v0 = 0 gives the same value.
            const float v = mu * state[i] + gradients[i];
            const float w = parameters[i] - lr * v;
            if constexpr (decltype(write)::value) {
              state[i] = v;
              parameters[i] = w;
            }
            return NonFiniteProbe(v) + NonFiniteProbe(w);
          },
          threads);
    }
    case OptimizerKind::kAdam: {
      const float beta1 = *spec_.beta1;
      const float beta2 = *spec_.beta2;
      const float eps = *spec_.epsilon;
      const double t = static_cast<double>(step);
      const float correction1 = static_cast<float>(1.0 - std::pow(double{beta1}, t));
      const float correction2 = static_cast<float>(1.0 - std::pow(double{beta2}, t));
      const float step_size = lr / correction1;
      const float inverse_sqrt_correction2 = 1.0f / std::sqrt(correction2);
      float* first_moment = state;
      float* second_moment = state + n;
      return Run(
          [=](int64_t i, auto write) {
            const float g = gradients[i];
            const float m = beta1 * first_moment[i] + (1.0f - beta1) * g;
            const float v = beta2 * second_moment[i] + (1.0f - beta2) * g * g;
            const float denominator = std::sqrt(v) * inverse_sqrt_correction2 + eps;
            const float w = parameters[i] - step_size * m / denominator;
            if constexpr (decltype(write)::value) {
              first_moment[i] = m;
              second_moment[i] = v;
              parameters[i] = w;
            }
            return NonFiniteProbe(m) + NonFiniteProbe(v) + NonFiniteProbe(w);
          },
          threads);
    }
  }
  return false;
}

}  // namespace mlpd
