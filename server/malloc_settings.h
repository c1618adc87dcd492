// malloc_settings.h: the glibc malloc settings a server process wants.
//
// A TrainStep of a 784-input batch of 128 rows is a 392 KB request. By default glibc serves
// blocks from 128 KB up with mmap (or, once it adapts, trims the heap top after each free), so
// every request's buffers were mapped, faulted in page by page and handed back again. Measured
// here that made a no-work RPC of that size take 0.2 ms at best and 2.5-3 ms at p90, and a
// TrainStep 1.5-4.3 ms (p5-p95) around a 0.9 ms step. Keeping blocks up to 32 MiB on the heap
// and trimming it only past 64 MiB of free top makes both steady (0.2-0.3 ms and 1.3-1.6 ms).
// Larger blocks (datasets, big batches) are still mapped and returned to the system when freed.
//
//   int main(int argc, char** argv) {
//     mlpd::UseServerMallocSettings();  // first thing, before threads start
//     ...
#ifndef MLPD_SERVER_MALLOC_SETTINGS_H_
#define MLPD_SERVER_MALLOC_SETTINGS_H_

#include <cstddef>

namespace mlpd {

// Blocks below kServerMmapThreshold come from the heap; the heap keeps up to kServerTrimThreshold
// of free memory at its top.
inline constexpr size_t kServerMmapThreshold = size_t{32} << 20;
inline constexpr size_t kServerTrimThreshold = size_t{64} << 20;

// UseServerMallocSettings applies those thresholds unless the operator set malloc tunables
// (GLIBC_TUNABLES naming glibc.malloc, or MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_):
// their choice wins. Returns true when applied.
bool UseServerMallocSettings();

}  // namespace mlpd

#endif  // MLPD_SERVER_MALLOC_SETTINGS_H_
