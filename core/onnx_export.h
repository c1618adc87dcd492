// onnx_export.h: a model as a serialized ONNX ModelProto (IR version 8, opset 13).
//
// Per layer a Gemm (transB = 1, weights and biases as initializers) then the layer's
// activation; a Softmax after the last layer for cross-entropy models, so the ONNX output
// equals Model::Predict. Input "x" is [N, in] with a symbolic batch dimension; output "y".
//
//   absl::StatusOr<std::string> bytes = ExportOnnx(*model);
#ifndef MLPD_CORE_ONNX_EXPORT_H_
#define MLPD_CORE_ONNX_EXPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/model.h"

namespace mlpd {

// ExportOnnx serializes the model to ONNX bytes.
absl::StatusOr<std::string> ExportOnnx(const Model& model);

}  // namespace mlpd

#endif  // MLPD_CORE_ONNX_EXPORT_H_
