// crc32c.h: the CRC-32C (Castagnoli) checksum that guards every file in the data dir.
//
// CRC-32C detects every burst error up to 32 bits and any odd number of flipped bits, which
// covers the torn writes and bit rot a snapshot may suffer. The value can be extended piece by
// piece, so a file made of several buffers never needs to be copied into one:
//
//   uint32_t crc = Crc32c(header);
//   crc = ExtendCrc32c(crc, payload);
#ifndef MLPD_SERVER_CRC32C_H_
#define MLPD_SERVER_CRC32C_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace mlpd {

// ExtendCrc32c returns the CRC-32C of the bytes that gave `crc` followed by `size` more bytes.
uint32_t ExtendCrc32c(uint32_t crc, const void* data, size_t size);

inline uint32_t ExtendCrc32c(uint32_t crc, absl::string_view bytes) {
  return ExtendCrc32c(crc, bytes.data(), bytes.size());
}

// Crc32c returns the CRC-32C of `bytes` (Crc32c("123456789") == 0xE3069283).
inline uint32_t Crc32c(absl::string_view bytes) { return ExtendCrc32c(0, bytes); }

}  // namespace mlpd

#endif  // MLPD_SERVER_CRC32C_H_
