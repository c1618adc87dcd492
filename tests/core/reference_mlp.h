// reference_mlp.h: a plain-loop, double-precision MLP that the engine's tests compare against.
//
// It follows the lecture's formulas literally (x(l) = sigma(w(l) x(l-1) + b(l)), the chain rule
// backwards, the optimizers' textbook updates) with no oneDNN and no tricks, so a disagreement
// points at the engine.
//
//   ReferenceMlp reference(spec, parameters);
//   double loss = reference.LossAndGradient(x, rows, targets, labels, &gradient);
#ifndef MLPD_TESTS_CORE_REFERENCE_MLP_H_
#define MLPD_TESTS_CORE_REFERENCE_MLP_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/model_spec.h"

namespace mlpd::testing {

inline double ReferenceActivation(Activation activation, double s) {
  switch (activation) {
    case Activation::kIdentity:
      return s;
    case Activation::kRelu:
      return s > 0.0 ? s : 0.0;
    case Activation::kTanh:
      return std::tanh(s);
    case Activation::kSigmoid:
      return 1.0 / (1.0 + std::exp(-s));
  }
  return s;
}

// ReferenceDerivative is sigma'(s).
inline double ReferenceDerivative(Activation activation, double s) {
  switch (activation) {
    case Activation::kIdentity:
      return 1.0;
    case Activation::kRelu:
      return s > 0.0 ? 1.0 : 0.0;
    case Activation::kTanh: {
      const double t = std::tanh(s);
      return 1.0 - t * t;
    }
    case Activation::kSigmoid: {
      const double g = 1.0 / (1.0 + std::exp(-s));
      return g * (1.0 - g);
    }
  }
  return 1.0;
}

class ReferenceMlp {
 public:
  ReferenceMlp(const ModelSpec& spec, const std::vector<float>& parameters)
      : spec_(spec), parameters_(parameters.begin(), parameters.end()) {}

  const std::vector<double>& parameters() const { return parameters_; }
  std::vector<double>& mutable_parameters() { return parameters_; }

  // Forward returns the last layer's activations [rows, out] (logits for cross-entropy).
  std::vector<double> Forward(const std::vector<float>& x, int64_t rows) {
    RunForward(x, rows);
    return activations_.back();
  }

  // LossAndGradient returns the reduced loss; `gradient` (if not null) gets dLoss/dParameters.
  // `targets` [rows, out] serve MSE and LOGISTIC, `labels` cross-entropy.
  double LossAndGradient(const std::vector<float>& x, int64_t rows,
                         const std::vector<float>& targets, const std::vector<int32_t>& labels,
                         std::vector<double>* gradient) {
    RunForward(x, rows);
    const int64_t out = spec_.output_size();
    const std::vector<double>& outputs = activations_.back();
    std::vector<double> delta(rows * out, 0.0);  // dLoss/d(outputs) before reduction.
    double loss = 0.0;
    double normalizer = 1.0;
    switch (spec_.loss.kind) {
      case LossKind::kMse:
        for (int64_t i = 0; i < rows * out; ++i) {
          const double d = outputs[i] - targets[i];
          loss += d * d;
          delta[i] = 2.0 * d;
        }
        if (spec_.loss.reduction == Reduction::kMean) normalizer = static_cast<double>(rows * out);
        break;
      case LossKind::kCrossEntropy:
        for (int64_t r = 0; r < rows; ++r) {
          double total = 0.0;
          for (int64_t c = 0; c < out; ++c) total += std::exp(outputs[r * out + c]);
          loss += std::log(total) - outputs[r * out + labels[r]];
          for (int64_t c = 0; c < out; ++c) {
            delta[r * out + c] = std::exp(outputs[r * out + c]) / total - (c == labels[r]);
          }
        }
        normalizer = static_cast<double>(rows);
        break;
      case LossKind::kLogistic:
        for (int64_t r = 0; r < rows; ++r) {
          const double y = targets[r];
          const double margin = y * outputs[r];
          loss += std::log(1.0 + std::exp(-margin));
          delta[r] = -y / (1.0 + std::exp(margin));
        }
        if (spec_.loss.reduction == Reduction::kMean) normalizer = static_cast<double>(rows);
        break;
    }
    if (gradient != nullptr) {
      for (double& d : delta) d /= normalizer;
      Backward(x, rows, std::move(delta), gradient);
    }
    return loss / normalizer;
  }

  // Step applies one optimizer update with `gradient`; `step` counts from 1.
  void Step(const std::vector<double>& gradient, int64_t step) {
    const OptimizerSpec& o = spec_.optimizer;
    const size_t n = parameters_.size();
    if (first_moment_.empty()) {
      first_moment_.assign(n, 0.0);
      second_moment_.assign(n, 0.0);
    }
    for (size_t i = 0; i < n; ++i) {
      switch (o.kind) {
        case OptimizerKind::kSgd:
          parameters_[i] -= o.learning_rate * gradient[i];
          break;
        case OptimizerKind::kMomentum:
          first_moment_[i] = *o.momentum * first_moment_[i] + gradient[i];
          parameters_[i] -= o.learning_rate * first_moment_[i];
          break;
        case OptimizerKind::kAdam: {
          first_moment_[i] = *o.beta1 * first_moment_[i] + (1.0 - *o.beta1) * gradient[i];
          second_moment_[i] =
              *o.beta2 * second_moment_[i] + (1.0 - *o.beta2) * gradient[i] * gradient[i];
          const double m_hat = first_moment_[i] / (1.0 - std::pow(double{*o.beta1}, step));
          const double v_hat = second_moment_[i] / (1.0 - std::pow(double{*o.beta2}, step));
          parameters_[i] -= o.learning_rate * m_hat / (std::sqrt(v_hat) + *o.epsilon);
          break;
        }
      }
    }
  }

 private:
  void RunForward(const std::vector<float>& x, int64_t rows) {
    pre_activations_.clear();
    activations_.clear();
    std::vector<double> input(x.begin(), x.end());
    int64_t in = spec_.input_size;
    size_t offset = 0;
    for (const LayerSpec& layer : spec_.layers) {
      const int64_t out = layer.units;
      const double* w = parameters_.data() + offset;
      const double* b = w + out * in;
      std::vector<double> s(rows * out), a(rows * out);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < out; ++j) {
          double sum = b[j];
          for (int64_t k = 0; k < in; ++k) sum += w[j * in + k] * input[r * in + k];
          s[r * out + j] = sum;
          a[r * out + j] = ReferenceActivation(layer.activation, sum);
        }
      }
      pre_activations_.push_back(s);
      activations_.push_back(a);
      input = a;
      offset += out * in + out;
      in = out;
    }
  }

  void Backward(const std::vector<float>& x, int64_t rows, std::vector<double> delta,
                std::vector<double>* gradient) {
    gradient->assign(parameters_.size(), 0.0);
    std::vector<size_t> offsets;
    std::vector<int64_t> inputs;
    size_t offset = 0;
    int64_t in = spec_.input_size;
    for (const LayerSpec& layer : spec_.layers) {
      offsets.push_back(offset);
      inputs.push_back(in);
      offset += layer.units * in + layer.units;
      in = layer.units;
    }
    for (size_t l = spec_.layers.size(); l-- > 0;) {
      const int64_t out = spec_.layers[l].units;
      const int64_t fan_in = inputs[l];
      for (int64_t i = 0; i < rows * out; ++i) {
        delta[i] *= ReferenceDerivative(spec_.layers[l].activation, pre_activations_[l][i]);
      }
      double* gw = gradient->data() + offsets[l];
      double* gb = gw + out * fan_in;
      const double* w = parameters_.data() + offsets[l];
      std::vector<double> previous(rows * fan_in, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < out; ++j) {
          const double d = delta[r * out + j];
          gb[j] += d;
          for (int64_t k = 0; k < fan_in; ++k) {
            const double input = l == 0 ? x[r * fan_in + k] : activations_[l - 1][r * fan_in + k];
            gw[j * fan_in + k] += d * input;
            previous[r * fan_in + k] += d * w[j * fan_in + k];
          }
        }
      }
      delta = std::move(previous);
    }
  }

  ModelSpec spec_;
  std::vector<double> parameters_;
  std::vector<double> first_moment_;
  std::vector<double> second_moment_;
  std::vector<std::vector<double>> pre_activations_;
  std::vector<std::vector<double>> activations_;
};

}  // namespace mlpd::testing

#endif  // MLPD_TESTS_CORE_REFERENCE_MLP_H_
