// Tests of CRC-32C against published check values and of piecewise extension.
#include "server/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace mlpd {
namespace {

TEST(Crc32cTest, MatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xFF, and ascending bytes.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32cTest, ExtendingPieceByPieceEqualsTheWhole) {
  std::string bytes(1031, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + 7);
  const uint32_t whole = Crc32c(bytes);
  for (size_t split : {0, 1, 7, 8, 9, 500, 1030, 1031}) {
    SCOPED_TRACE(split);
    const absl::string_view view(bytes);
    EXPECT_EQ(ExtendCrc32c(Crc32c(view.substr(0, split)), view.substr(split)), whole);
  }
}

TEST(Crc32cTest, DetectsAnySingleFlippedBit) {
  std::string bytes(64, 'a');
  const uint32_t original = Crc32c(bytes);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string flipped = bytes;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_NE(Crc32c(flipped), original) << bit;
  }
}

}  // namespace
}  // namespace mlpd
