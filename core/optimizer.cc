#include "core/optimizer.h"

#include <cmath>

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

bool Optimizer::Update(const float* parameters, const float* gradients, const float* state,
                       int64_t step, float* new_parameters, float* new_state, int threads) const {
  const int64_t n = parameter_count_;
  const float lr = spec_.learning_rate;
  const int team = n >= kParallelThreshold ? threads : 1;
  float probe = 0.0f;
  switch (spec_.kind) {
    case OptimizerKind::kSgd: {
#pragma omp parallel for simd num_threads(team) reduction(+ : probe) if (team > 1)
      for (int64_t i = 0; i < n; ++i) {
        const float w = parameters[i] - lr * gradients[i];
        new_parameters[i] = w;
        probe += NonFiniteProbe(w);
      }
      break;
    }
    case OptimizerKind::kMomentum: {
      const float mu = spec_.momentum;
#pragma omp parallel for simd num_threads(team) reduction(+ : probe) if (team > 1)
      for (int64_t i = 0; i < n; ++i) {
        // PyTorch starts the velocity at the first gradient; v0 = 0 gives the same value.
        const float v = mu * state[i] + gradients[i];
        const float w = parameters[i] - lr * v;
        new_state[i] = v;
        new_parameters[i] = w;
        probe += NonFiniteProbe(v) + NonFiniteProbe(w);
      }
      break;
    }
    case OptimizerKind::kAdam: {
      const float beta1 = spec_.beta1;
      const float beta2 = spec_.beta2;
      const float eps = spec_.epsilon;
      const double t = static_cast<double>(step);
      const float correction1 = static_cast<float>(1.0 - std::pow(double{beta1}, t));
      const float correction2 = static_cast<float>(1.0 - std::pow(double{beta2}, t));
      const float step_size = lr / correction1;
      const float inverse_sqrt_correction2 = 1.0f / std::sqrt(correction2);
      const float* m_old = state;
      const float* v_old = state + n;
      float* m_new = new_state;
      float* v_new = new_state + n;
#pragma omp parallel for simd num_threads(team) reduction(+ : probe) if (team > 1)
      for (int64_t i = 0; i < n; ++i) {
        const float g = gradients[i];
        const float m = beta1 * m_old[i] + (1.0f - beta1) * g;
        const float v = beta2 * v_old[i] + (1.0f - beta2) * g * g;
        const float denominator = std::sqrt(v) * inverse_sqrt_correction2 + eps;
        const float w = parameters[i] - step_size * m / denominator;
        m_new[i] = m;
        v_new[i] = v;
        new_parameters[i] = w;
        probe += NonFiniteProbe(m) + NonFiniteProbe(v) + NonFiniteProbe(w);
      }
      break;
    }
  }
  return probe == 0.0f;
}

}  // namespace mlpd
