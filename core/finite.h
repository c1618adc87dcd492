// finite.h: the one check that input, parameters and checkpoints hold no NaN or infinity.
//
// Every float that enters the engine is checked, so the check sits on hot paths (a full MNIST
// batch is 784,000 values per step). FirstNonFinite tests the exponent bits with integer
// operations, which the compiler vectorises, and only searches for the index when it fails.
//
//   const int64_t bad = FirstNonFinite(x.data, x.rows * x.cols);
//   if (bad >= 0) return absl::InvalidArgumentError(...);
#ifndef MLPD_CORE_FINITE_H_
#define MLPD_CORE_FINITE_H_

#include <cstdint>

namespace mlpd {

// FirstNonFinite returns the index of the first NaN or infinity among data[0, size), or -1.
int64_t FirstNonFinite(const float* data, int64_t size);

}  // namespace mlpd

#endif  // MLPD_CORE_FINITE_H_
