// UseServerMallocSettings: large request-sized blocks come from the heap, not from mmap, and
// the operator's own malloc tunables win.
#include "server/malloc_settings.h"

#include <malloc.h>
#include <stdlib.h>

#include <cstring>

#include "gtest/gtest.h"

namespace mlpd {
namespace {

// MappedBlocks is the number of blocks malloc currently serves with mmap.
size_t MappedBlocks() { return mallinfo2().hblks; }

TEST(MallocSettingsTest, OperatorTunablesWin) {
  ASSERT_EQ(setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000000", 1), 0);
  EXPECT_FALSE(UseServerMallocSettings());
  ASSERT_EQ(unsetenv("GLIBC_TUNABLES"), 0);
  ASSERT_EQ(setenv("MALLOC_MMAP_THRESHOLD_", "1000000", 1), 0);
  EXPECT_FALSE(UseServerMallocSettings());
  ASSERT_EQ(unsetenv("MALLOC_MMAP_THRESHOLD_"), 0);
}

TEST(MallocSettingsTest, RequestSizedBlocksStayOnTheHeap) {
  ASSERT_EQ(unsetenv("GLIBC_TUNABLES"), 0);
  ASSERT_TRUE(UseServerMallocSettings());
  // A 392 KB TrainStep batch and a 16 MiB one: neither is mapped any more.
  for (size_t bytes : {size_t{392} << 10, size_t{16} << 20}) {
    const size_t mapped_before = MappedBlocks();
    void* block = malloc(bytes);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, bytes);
    EXPECT_EQ(MappedBlocks(), mapped_before) << bytes << " bytes";
    free(block);
  }
  // Above the threshold blocks are still mapped, so they go back to the system when freed.
  const size_t mapped_before = MappedBlocks();
  void* large = malloc(kServerMmapThreshold + (size_t{1} << 20));
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(MappedBlocks(), mapped_before + 1);
  free(large);
  EXPECT_EQ(MappedBlocks(), mapped_before);
}

}  // namespace
}  // namespace mlpd
