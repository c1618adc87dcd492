#include "core/onednn_plan.h"

#include <algorithm>
#include <new>

#include "absl/strings/str_format.h"

namespace mlpd {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using algorithm = dnnl::algorithm;

// ForwardAlgorithm is the eltwise post-op fused into the layer's forward matmul.
algorithm ForwardAlgorithm(Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return algorithm::eltwise_relu;
    case Activation::kTanh:
      return algorithm::eltwise_tanh;
    case Activation::kSigmoid:
      return algorithm::eltwise_logistic;
    case Activation::kIdentity:
      break;
  }
  return algorithm::undef;
}

// BackwardAlgorithm differentiates through the stored activations (dst), so the
// pre-activation values need not be kept.
algorithm BackwardAlgorithm(Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return algorithm::eltwise_relu_use_dst_for_bwd;
    case Activation::kTanh:
      return algorithm::eltwise_tanh_use_dst_for_bwd;
    case Activation::kSigmoid:
      return algorithm::eltwise_logistic_use_dst_for_bwd;
    case Activation::kIdentity:
      break;
  }
  return algorithm::undef;
}

dnnl::memory::desc Matrix(int64_t rows, int64_t cols) {
  return dnnl::memory::desc({rows, cols}, dt::f32, tag::ab);
}

// Transposed is a [rows, cols] view of a row-major [cols, rows] matrix.
dnnl::memory::desc Transposed(int64_t rows, int64_t cols) {
  return dnnl::memory::desc({rows, cols}, dt::f32, tag::ba);
}

// SumRows writes the column sums of the row-major [rows, cols] `m` to `sums`, row by row so
// the result does not depend on the thread count.
void SumRows(const float* m, int64_t rows, int64_t cols, float* sums) {
  std::copy_n(m, cols, sums);
  for (int64_t r = 1; r < rows; ++r) {
    const float* row = m + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) sums[c] += row[c];
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<OnednnPlan>> OnednnPlan::Create(const ModelSpec& spec, int64_t rows,
                                                               const dnnl::engine& engine) {
  std::unique_ptr<OnednnPlan> plan(new OnednnPlan(rows, engine));
  try {
    plan->BuildForward(spec);
  } catch (const dnnl::error& error) {
    if (error.status == dnnl_out_of_memory) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "out of memory building the network for batches of %d rows: %s", rows, error.what()));
    }
    return absl::InternalError(absl::StrFormat(
        "oneDNN failed to build the network for batches of %d rows: %s", rows, error.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("out of memory building the network for batches of %d rows", rows));
  }
  return plan;
}

void OnednnPlan::BuildForward(const ModelSpec& spec) {
  layers_.resize(spec.layers.size());
  int64_t inputs = spec.input_size;
  int64_t offset = 0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    Layer& layer = layers_[l];
    layer.inputs = inputs;
    layer.units = spec.layers[l].units;
    layer.activation = spec.layers[l].activation;
    layer.weight_offset = offset;
    layer.bias_offset = offset + layer.units * inputs;
    offset = layer.bias_offset + layer.units;

    const dnnl::memory::desc src_md = Matrix(rows_, inputs);
    // W^T [in, out] over the [out, in] row-major weights.
    const dnnl::memory::desc weights_md = Transposed(inputs, layer.units);
    const dnnl::memory::desc bias_md = Matrix(1, layer.units);
    const dnnl::memory::desc dst_md = Matrix(rows_, layer.units);

    dnnl::primitive_attr attr;
    if (layer.activation != Activation::kIdentity) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, ForwardAlgorithm(layer.activation), 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    layer.forward = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md), attr, engine_));

    layer.src = l == 0 ? dnnl::memory(src_md, engine_, DNNL_MEMORY_NONE) : layers_[l - 1].dst;
    // Backward data reads the same buffer untransposed, through its own descriptor.
    layer.weights = dnnl::memory(Matrix(layer.units, inputs), engine_, DNNL_MEMORY_NONE);
    layer.weights_transposed = dnnl::memory(weights_md, engine_, DNNL_MEMORY_NONE);
    layer.bias = dnnl::memory(bias_md, engine_, DNNL_MEMORY_NONE);
    layer.dst = dnnl::memory(dst_md, engine_);
    bytes_ += static_cast<int64_t>(dst_md.get_size());
    layer.forward_args = {{DNNL_ARG_SRC, layer.src},
                          {DNNL_ARG_WEIGHTS, layer.weights_transposed},
                          {DNNL_ARG_BIAS, layer.bias},
                          {DNNL_ARG_DST, layer.dst}};
    inputs = layer.units;
  }
  // The loss writes its gradient here before Backward builds the rest.
  Layer& last = layers_.back();
  last.dst_gradient = dnnl::memory(Matrix(rows_, last.units), engine_);
  bytes_ += static_cast<int64_t>(last.dst_gradient.get_desc().get_size());
}

void OnednnPlan::BuildBackward() {
  for (size_t l = 0; l < layers_.size(); ++l) {
    Layer& layer = layers_[l];
    const dnnl::memory::desc src_md = Matrix(rows_, layer.inputs);
    const dnnl::memory::desc weights_md = Matrix(layer.units, layer.inputs);
    const dnnl::memory::desc dst_md = Matrix(rows_, layer.units);
    if (!layer.dst_gradient) {
      layer.dst_gradient = dnnl::memory(dst_md, engine_);
      bytes_ += static_cast<int64_t>(dst_md.get_size());
    }
    if (layer.activation != Activation::kIdentity) {
      const algorithm backward_algorithm = BackwardAlgorithm(layer.activation);
      const dnnl::eltwise_forward::primitive_desc hint(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, backward_algorithm, dst_md,
                                      0.0f, 0.0f),
          engine_);
      const dnnl::eltwise_backward::primitive_desc pd(
          dnnl::eltwise_backward::desc(backward_algorithm, dst_md, dst_md, 0.0f, 0.0f), engine_,
          hint);
      layer.activation_backward = dnnl::eltwise_backward(pd);
      // In place: the gradient with respect to the activations becomes the gradient with
      // respect to the pre-activations.
      layer.activation_backward_args = {{DNNL_ARG_DST, layer.dst},
                                        {DNNL_ARG_DIFF_DST, layer.dst_gradient},
                                        {DNNL_ARG_DIFF_SRC, layer.dst_gradient}};
    }
    layer.weights_gradient = dnnl::memory(weights_md, engine_, DNNL_MEMORY_NONE);
    // dW [out, in] = dY^T [out, rows] X [rows, in].
    layer.backward_weights = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(Transposed(layer.units, rows_), src_md, weights_md), engine_));
    layer.backward_weights_args = {{DNNL_ARG_SRC, layer.dst_gradient},
                                   {DNNL_ARG_WEIGHTS, layer.src},
                                   {DNNL_ARG_DST, layer.weights_gradient}};
  }
  // Only after every layer has its dst_gradient can the data gradients be wired.
  for (size_t l = 1; l < layers_.size(); ++l) {
    Layer& layer = layers_[l];
    // dX [rows, in] = dY [rows, out] W [out, in].
    layer.backward_data = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(Matrix(rows_, layer.units), Matrix(layer.units, layer.inputs),
                           Matrix(rows_, layer.inputs)),
        engine_));
    layer.backward_data_args = {{DNNL_ARG_SRC, layer.dst_gradient},
                                {DNNL_ARG_WEIGHTS, layer.weights},
                                {DNNL_ARG_DST, layers_[l - 1].dst_gradient}};
  }
  for (Layer& layer : layers_) layer.has_backward = true;
}

void OnednnPlan::BindParameters(const float* x, float* parameters) {
  // oneDNN only reads x, but its handles are non-const.
  layers_.front().src.set_data_handle(const_cast<float*>(x));
  for (Layer& layer : layers_) {
    layer.weights.set_data_handle(parameters + layer.weight_offset);
    layer.weights_transposed.set_data_handle(parameters + layer.weight_offset);
    layer.bias.set_data_handle(parameters + layer.bias_offset);
  }
}

void OnednnPlan::Forward(dnnl::stream& stream, const float* x, float* parameters) {
  BindParameters(x, parameters);
  for (Layer& layer : layers_) layer.forward.execute(stream, layer.forward_args);
  stream.wait();
}

void OnednnPlan::Backward(dnnl::stream& stream, const float* x, float* parameters,
                          float* gradients) {
  if (!layers_.front().has_backward) BuildBackward();
  BindParameters(x, parameters);
  for (size_t i = layers_.size(); i-- > 0;) {
    Layer& layer = layers_[i];
    layer.weights_gradient.set_data_handle(gradients + layer.weight_offset);
    if (layer.activation != Activation::kIdentity) {
      layer.activation_backward.execute(stream, layer.activation_backward_args);
    }
    // The CPU stream runs primitives synchronously, so the activation gradient is ready here.
    SumRows(static_cast<const float*>(layer.dst_gradient.get_data_handle()), rows_, layer.units,
            gradients + layer.bias_offset);
    layer.backward_weights.execute(stream, layer.backward_weights_args);
    if (i > 0) layer.backward_data.execute(stream, layer.backward_data_args);
  }
  stream.wait();
}

float* OnednnPlan::outputs() { return static_cast<float*>(layers_.back().dst.get_data_handle()); }

float* OnednnPlan::output_gradient() {
  return static_cast<float*>(layers_.back().dst_gradient.get_data_handle());
}

}  // namespace mlpd
