#include "core/finite.h"

#include <cmath>
#include <cstring>

namespace mlpd {

int64_t FirstNonFinite(const float* data, int64_t size) {
  // NaN and infinity are the floats whose exponent bits are all ones. A float compare chain
  // does not vectorise without fast-math; this integer test does.
  constexpr uint32_t kExponent = 0x7f800000u;
  uint32_t any = 0;
  for (int64_t i = 0; i < size; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + i, sizeof(bits));
    any |= static_cast<uint32_t>((bits & kExponent) == kExponent);
  }
  if (any == 0) return -1;
  for (int64_t i = 0; i < size; ++i) {
    if (!std::isfinite(data[i])) return i;
  }
  return -1;
}

}  // namespace mlpd
