// epoch_order.h: the order in which an epoch visits a dataset's rows when shuffling.
//
// The order of epoch e is a pure function of (seed, e, rows): it does not depend on the epochs
// before it. A run stopped anywhere (a crash, a restart) therefore resumes with exactly the
// batches an uninterrupted run would have seen, by asking for its current epoch's order and
// skipping the batches already applied.
//
//   std::vector<int64_t> order = EpochOrder(/*seed=*/7, /*epoch=*/2, dataset.rows());
//   // order is a permutation of 0..rows-1; the same arguments give it on every platform.
#ifndef MLPD_CORE_EPOCH_ORDER_H_
#define MLPD_CORE_EPOCH_ORDER_H_

#include <cstdint>
#include <vector>

namespace mlpd {

// EpochOrder is the permutation of 0..rows-1 that epoch `epoch` (0-based) visits with shuffle
// seed `seed`. Epochs' generators are seeded from (seed, epoch) by the SplitMix64 finaliser, so
// neighbouring seeds and epochs give unrelated orders; the permutation is Fisher-Yates with
// bias-free draws written out (not std::uniform_int_distribution, whose draws differ between
// standard libraries). Empty when rows <= 0.
std::vector<int64_t> EpochOrder(uint64_t seed, int64_t epoch, int64_t rows);

// FillEpochOrder is EpochOrder into a caller's vector, reusing its memory.
void FillEpochOrder(uint64_t seed, int64_t epoch, int64_t rows, std::vector<int64_t>* order);

}  // namespace mlpd

#endif  // MLPD_CORE_EPOCH_ORDER_H_
