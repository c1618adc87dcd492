#include "core/initializer.h"

#include <cmath>
#include <cstdint>
#include <random>

namespace mlpd {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// RandomSource turns the 64-bit generator into uniforms and normals by fixed formulas, so the
// same seed gives the same parameters everywhere.
class RandomSource {
 public:
  explicit RandomSource(uint64_t seed) : generator_(seed) {}

  // Uniform01 is in [0, 1) with 53 random bits.
  double Uniform01() { return static_cast<double>(generator_() >> 11) * 0x1.0p-53; }

  // Normal is N(0, 1) by Box-Muller; both values of a pair are used.
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - Uniform01();  // In (0, 1], so the log is finite.
    const double u2 = Uniform01();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    spare_ = radius * std::sin(kTwoPi * u2);
    has_spare_ = true;
    return radius * std::cos(kTwoPi * u2);
  }

 private:
  std::mt19937_64 generator_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace

std::vector<float> InitialParameters(const ModelSpec& spec) {
  std::vector<float> parameters(ParameterCount(spec), 0.0f);
  RandomSource random(spec.init.seed);
  float* out = parameters.data();
  int64_t in = spec.input_size;
  for (const LayerSpec& layer : spec.layers) {
    const int64_t weights = layer.units * in;
    const int64_t biases = layer.units;
    switch (spec.init.kind) {
      case InitKind::kNormal:
        for (int64_t i = 0; i < weights + biases; ++i) {
          out[i] = static_cast<float>(spec.init.scale * random.Normal());
        }
        break;
      case InitKind::kUniform:
        for (int64_t i = 0; i < weights + biases; ++i) {
          out[i] = static_cast<float>(spec.init.scale * (2.0 * random.Uniform01() - 1.0));
        }
        break;
      case InitKind::kXavier: {
        const double bound = std::sqrt(6.0 / static_cast<double>(in + layer.units));
        for (int64_t i = 0; i < weights; ++i) {
          out[i] = static_cast<float>(bound * (2.0 * random.Uniform01() - 1.0));
        }
        break;
      }
      case InitKind::kKaiming: {
        const double deviation = std::sqrt(2.0 / static_cast<double>(in));
        for (int64_t i = 0; i < weights; ++i) {
          out[i] = static_cast<float>(deviation * random.Normal());
        }
        break;
      }
    }
    out += weights + biases;
    in = layer.units;
  }
  return parameters;
}

}  // namespace mlpd
