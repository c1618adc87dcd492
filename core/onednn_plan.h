// onednn_plan.h: the oneDNN primitives and activation buffers of an MLP for one batch size.
//
// Creating a primitive costs far more than running it, so a plan is built once per batch size
// and reused for every batch of that size (a partial last batch gets its own plan); PlanCache
// keeps them per thread and shares them between models of the same shape. Forward
// primitives are built at construction; the backward ones on the first Backward() call, so a
// plan used only for prediction stays small. Parameters are not owned: the caller passes the
// current parameter and gradient buffers on every call, laid out in the documented order.
//
//   absl::StatusOr<std::unique_ptr<OnednnPlan>> plan = OnednnPlan::Create(spec, rows, engine);
//   (*plan)->Forward(stream, x, parameters);          // outputs in (*plan)->outputs()
//   ... write dLoss/dOutputs to (*plan)->output_gradient() ...
//   (*plan)->Backward(stream, x, parameters, gradients);
//
// Not thread-safe: a oneDNN primitive must not run on two threads at once.
#ifndef MLPD_CORE_ONEDNN_PLAN_H_
#define MLPD_CORE_ONEDNN_PLAN_H_

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model_spec.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace mlpd {

class OnednnPlan {
 public:
  // Create builds the forward primitives for batches of `rows` rows. Throws nothing; oneDNN
  // failures become INTERNAL or RESOURCE_EXHAUSTED.
  static absl::StatusOr<std::unique_ptr<OnednnPlan>> Create(const ModelSpec& spec, int64_t rows,
                                                            const dnnl::engine& engine);

  int64_t rows() const { return rows_; }

  // Forward runs x [rows, input_size] through the network; the last layer's activations are
  // then in outputs() [rows, output_size].
  void Forward(dnnl::stream& stream, const float* x, float* parameters);

  // Backward turns output_gradient() (dLoss/dOutputs, written by the caller after Forward on
  // the same x and parameters) into dLoss/dParameters in `gradients`. The gradient with respect
  // to x is never computed. Builds the backward primitives on first use (may throw
  // dnnl::error, like Forward).
  void Backward(dnnl::stream& stream, const float* x, float* parameters, float* gradients);

  float* outputs();
  float* output_gradient();

  // ApproximateBytes counts the activation and gradient buffers.
  int64_t ApproximateBytes() const { return bytes_; }

 private:
  using Args = std::unordered_map<int, dnnl::memory>;

  struct Layer {
    int64_t inputs = 0;
    int64_t units = 0;
    Activation activation = Activation::kIdentity;
    int64_t weight_offset = 0;  // Into the parameter (and gradient) buffer.
    int64_t bias_offset = 0;

    dnnl::memory src;                 // x for the first layer, else the previous layer's dst.
    dnnl::memory weights;             // [out, in], as stored.
    dnnl::memory weights_transposed;  // The same buffer seen as [in, out].
    dnnl::memory bias;
    dnnl::memory dst;           // Activations after the fused activation function.
    dnnl::memory dst_gradient;  // dLoss/d(dst), then in place dLoss/d(pre-activation).
    dnnl::memory weights_gradient;

    // Every product is a matmul primitive (brgemm kernels on AVX-512), reading the [out, in]
    // row-major weights transposed through strides rather than copying them.
    dnnl::matmul forward;
    Args forward_args;
    bool has_backward = false;
    dnnl::eltwise_backward activation_backward;  // Unset for identity.
    Args activation_backward_args;
    dnnl::matmul backward_weights;  // dW = dY^T X; the bias gradient is summed separately.
    Args backward_weights_args;
    dnnl::matmul backward_data;  // Unset for the first layer.
    Args backward_data_args;
  };

  OnednnPlan(int64_t rows, const dnnl::engine& engine) : rows_(rows), engine_(engine) {}
  void BuildForward(const ModelSpec& spec);
  void BuildBackward();
  void BindParameters(const float* x, float* parameters);

  const int64_t rows_;
  const dnnl::engine engine_;
  std::vector<Layer> layers_;
  int64_t bytes_ = 0;
};

}  // namespace mlpd

#endif  // MLPD_CORE_ONEDNN_PLAN_H_
