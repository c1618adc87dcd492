// finite.h: the one check that input, parameters and checkpoints hold no NaN or infinity.
//
// Every float that enters the engine is checked, so the check sits on hot paths (a full MNIST
// batch is 784,000 values per step). FirstNonFinite tests the exponent bits with integer
// operations, which the compiler vectorises, and only searches for the index when it fails.
//
//   MLPD_RETURN_IF_ERROR(CheckAllFinite("batch.x", x.data, x.rows * x.cols, x.cols));
//   // INVALID_ARGUMENT "batch.x[2, 1] is nan; every value must be finite"
#ifndef MLPD_CORE_FINITE_H_
#define MLPD_CORE_FINITE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mlpd {

// FirstNonFinite returns the index of the first NaN or infinity among data[0, size), or -1.
int64_t FirstNonFinite(const float* data, int64_t size);

// CheckAllFinite is the one refusal of a non-finite value, wherever it came from: INVALID_ARGUMENT
// "field[row, col] is nan; every value must be finite" for a matrix of `cols` columns, or
// "field[i] ..." when cols is 0 (a flat block of values).
absl::Status CheckAllFinite(absl::string_view field, const float* data, int64_t size, int64_t cols);

}  // namespace mlpd

#endif  // MLPD_CORE_FINITE_H_
