#include "core/epoch_order.h"

#include <limits>
#include <numeric>
#include <random>
#include <utility>

namespace mlpd {
namespace {

// SplitMix64 is Steele, Lea and Flood's mixing function: every input bit affects every output
// bit, so (seed, epoch) pairs that differ by one give unrelated generator seeds.
uint64_t SplitMix64(uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

// UniformBelow draws an integer in [0, bound) without the modulo bias, with arithmetic that
// is the same on every platform, so a seed names the same shuffle everywhere.
uint64_t UniformBelow(std::mt19937_64& generator, uint64_t bound) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
  uint64_t draw;
  do {
    draw = generator();
  } while (draw >= limit);
  return draw % bound;
}

}  // namespace

void FillEpochOrder(uint64_t seed, int64_t epoch, int64_t rows, std::vector<int64_t>* order) {
  order->clear();
  if (rows <= 0) return;
  order->resize(static_cast<size_t>(rows));
  std::iota(order->begin(), order->end(), int64_t{0});
  std::mt19937_64 generator(SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(epoch))));
  for (int64_t i = rows - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(UniformBelow(generator, static_cast<uint64_t>(i + 1)));
    std::swap((*order)[i], (*order)[j]);
  }
}

std::vector<int64_t> EpochOrder(uint64_t seed, int64_t epoch, int64_t rows) {
  std::vector<int64_t> order;
  FillEpochOrder(seed, epoch, rows, &order);
  return order;
}

}  // namespace mlpd
