#include "core/finite.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"

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

absl::Status CheckAllFinite(absl::string_view field, const float* data, int64_t size,
                            int64_t cols) {
  const int64_t bad = FirstNonFinite(data, size);
  if (bad < 0) return absl::OkStatus();
  const std::string where =
      cols > 0 ? absl::StrFormat("%d, %d", bad / cols, bad % cols) : absl::StrFormat("%d", bad);
  return absl::InvalidArgumentError(
      absl::StrFormat("%s[%s] is %g; every value must be finite", field, where, data[bad]));
}

}  // namespace mlpd
