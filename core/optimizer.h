// optimizer.h: the update rules (SGD, momentum, Adam) as PyTorch defines them.
//
// A step is all or nothing: a first pass computes every new parameter and state value without
// storing it and checks that all are finite; only then a second pass writes them. A diverging
// step therefore leaves the model exactly as it was, with no second copy of the parameters
// (which would double the memory of every idle model).
//
//   Optimizer optimizer(spec.optimizer, parameter_count);
//   bool applied = optimizer.Step(parameters, gradients, state, /*step=*/1, /*threads=*/1);
#ifndef MLPD_CORE_OPTIMIZER_H_
#define MLPD_CORE_OPTIMIZER_H_

#include <cstdint>

#include "core/model_spec.h"

namespace mlpd {

class Optimizer {
 public:
  Optimizer(const OptimizerSpec& spec, int64_t parameter_count)
      : spec_(spec), parameter_count_(parameter_count) {}

  // slots is the number of parameter-sized state blocks: 0 (sgd), 1 (momentum: velocity),
  // 2 (adam: first moment, then second moment).
  int slots() const;
  int64_t state_size() const { return slots() * parameter_count_; }

  // Step applies one update with `gradients` to `parameters` and `state` in place and returns
  // true, or returns false and changes nothing when a new value would not be finite. `step`
  // counts from 1 (Adam's bias correction); `threads` > 1 splits large updates with OpenMP.
  bool Step(float* parameters, const float* gradients, float* state, int64_t step,
            int threads) const;

 private:
  template <typename Kernel>
  bool Run(const Kernel& kernel, int threads) const;

  const OptimizerSpec spec_;
  const int64_t parameter_count_;
};

}  // namespace mlpd

#endif  // MLPD_CORE_OPTIMIZER_H_
