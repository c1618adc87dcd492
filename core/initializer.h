// initializer.h: the seeded initial parameters of an MLP.
//
// The draws must be the same on every platform and standard library, so the generator is
// std::mt19937_64 and the uniform and normal transforms are our own (std::normal_distribution is
// implementation-defined). Values are drawn layer by layer in the documented parameter order:
// w(l) [out, in] row-major, then b(l) [out].
//
//   std::vector<float> parameters = InitialParameters(spec);  // ParameterCount(spec) values
#ifndef MLPD_CORE_INITIALIZER_H_
#define MLPD_CORE_INITIALIZER_H_

#include <vector>

#include "core/model_spec.h"

namespace mlpd {

// InitialParameters draws the parameters of a validated `spec` from spec.init.
std::vector<float> InitialParameters(const ModelSpec& spec);

}  // namespace mlpd

#endif  // MLPD_CORE_INITIALIZER_H_
