// optimizer.h: the update rules (SGD, momentum, Adam) as PyTorch defines them.
//
// An update is computed out of place: the new parameters and optimizer state go to separate
// buffers and the caller commits them only when every value is finite, so a diverging step
// leaves the model exactly as it was.
//
//   Optimizer optimizer(spec.optimizer, parameter_count);
//   bool finite = optimizer.Update(params, grads, state, /*step=*/1, new_params, new_state);
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

  // Update writes the parameters and state after one step on `gradients` to `new_parameters`
  // and `new_state`; `step` counts from 1 (Adam's bias correction). Returns whether every new
  // parameter and state value is finite. `threads` > 1 splits the work with OpenMP.
  bool Update(const float* parameters, const float* gradients, const float* state, int64_t step,
              float* new_parameters, float* new_state, int threads) const;

 private:
  const OptimizerSpec spec_;
  const int64_t parameter_count_;
};

}  // namespace mlpd

#endif  // MLPD_CORE_OPTIMIZER_H_
