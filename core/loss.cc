#include "core/loss.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace mlpd {
namespace {

int64_t ArgMax(const float* row, int64_t cols) { return std::max_element(row, row + cols) - row; }

// TargetClass is the class of row `row` of the targets: the label, or the argmax of the row.
int64_t TargetClass(TargetsView y, int64_t row) {
  if (y.has_labels()) return y.labels[row];
  return ArgMax(y.values.data + row * y.values.cols, y.values.cols);
}

// LogisticSign is the target y in {-1, +1} of row `row`.
double LogisticSign(TargetsView y, int64_t row) {
  if (y.has_labels()) return y.labels[row] == 1 ? 1.0 : -1.0;
  return y.values.data[row] > 0.0f ? 1.0 : -1.0;
}

// Softplus(v) = log(1 + exp(v)) without overflow for large v or cancellation for small v.
double Softplus(double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); }

// Sigmoid(v) = 1 / (1 + exp(-v)) with the exponential's argument kept non-positive.
double Sigmoid(double v) {
  if (v >= 0.0) return 1.0 / (1.0 + std::exp(-v));
  const double e = std::exp(v);
  return e / (1.0 + e);
}

double MseSum(MatrixView outputs, TargetsView y, int64_t first_row, float* gradient, double scale) {
  double sum = 0.0;
  const int64_t cols = outputs.cols;
  for (int64_t r = 0; r < outputs.rows; ++r) {
    const float* out = outputs.data + r * cols;
    const float* target = y.has_labels() ? nullptr : y.values.data + (first_row + r) * cols;
    const int64_t label = y.has_labels() ? y.labels[first_row + r] : -1;
    for (int64_t c = 0; c < cols; ++c) {
      const double t = target != nullptr ? target[c] : (c == label ? 1.0 : 0.0);
      const double difference = static_cast<double>(out[c]) - t;
      sum += difference * difference;
      if (gradient != nullptr)
        gradient[r * cols + c] = static_cast<float>(2.0 * scale * difference);
    }
  }
  return sum;
}

double CrossEntropySum(MatrixView outputs, TargetsView y, int64_t first_row, float* gradient,
                       double scale) {
  double sum = 0.0;
  const int64_t cols = outputs.cols;
  for (int64_t r = 0; r < outputs.rows; ++r) {
    const float* logits = outputs.data + r * cols;
    const int64_t label = TargetClass(y, first_row + r);
    const double max_logit = logits[ArgMax(logits, cols)];
    double exp_sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) exp_sum += std::exp(logits[c] - max_logit);
    const double log_normalizer = max_logit + std::log(exp_sum);
    sum += log_normalizer - logits[label];
    if (gradient != nullptr) {
      for (int64_t c = 0; c < cols; ++c) {
        const double probability = std::exp(logits[c] - log_normalizer);
        gradient[r * cols + c] =
            static_cast<float>(scale * (probability - (c == label ? 1.0 : 0.0)));
      }
    }
  }
  return sum;
}

double LogisticSum(MatrixView outputs, TargetsView y, int64_t first_row, float* gradient,
                   double scale) {
  double sum = 0.0;
  for (int64_t r = 0; r < outputs.rows; ++r) {
    const double sign = LogisticSign(y, first_row + r);
    const double margin = sign * outputs.data[r];
    sum += Softplus(-margin);
    if (gradient != nullptr) gradient[r] = static_cast<float>(-scale * sign * Sigmoid(-margin));
  }
  return sum;
}

absl::Status ValidateLabels(const ModelSpec& spec, TargetsView y) {
  const int64_t classes = spec.loss.kind == LossKind::kLogistic ? 2 : spec.output_size();
  for (int64_t r = 0; r < y.label_count; ++r) {
    if (y.labels[r] < 0 || y.labels[r] >= classes) {
      return absl::InvalidArgumentError(
          absl::StrFormat("labels[%d] is %d, expected a class in [0, %d) for the %s loss", r,
                          y.labels[r], classes, LossKindName(spec.loss.kind)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateValues(const ModelSpec& spec, int64_t rows, MatrixView values, TargetUse use) {
  if (spec.loss.kind == LossKind::kCrossEntropy && use == TargetUse::kTraining) {
    return absl::InvalidArgumentError(
        "targets are float values, the cross_entropy loss trains on int class labels");
  }
  if (values.cols != spec.output_size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "targets.shape[1] is %d, the model's output size is %d", values.cols, spec.output_size()));
  }
  if (values.data == nullptr) return absl::InvalidArgumentError("targets have no data");
  const int64_t count = rows * values.cols;
  for (int64_t i = 0; i < count; ++i) {
    const float v = values.data[i];
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "targets[%d][%d] is %g, expected a finite value", i / values.cols, i % values.cols, v));
    }
    if (spec.loss.kind == LossKind::kLogistic && v != 1.0f && v != -1.0f) {
      return absl::InvalidArgumentError(
          absl::StrFormat("targets[%d][0] is %g, the logistic loss expects -1 or +1", i, v));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTargets(const ModelSpec& spec, int64_t rows, TargetsView y, TargetUse use) {
  if (y.rows() != rows) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s has %d rows, x has %d rows", y.has_labels() ? "labels" : "targets", y.rows(), rows));
  }
  if (y.has_labels()) return ValidateLabels(spec, y);
  return ValidateValues(spec, rows, y.values, use);
}

double LossNormalizer(const LossSpec& loss, int64_t rows, int64_t outputs) {
  switch (loss.kind) {
    case LossKind::kMse:
      return loss.reduction == Reduction::kMean ? static_cast<double>(rows * outputs) : 1.0;
    case LossKind::kCrossEntropy:
      return static_cast<double>(rows);
    case LossKind::kLogistic:
      return loss.reduction == Reduction::kMean ? static_cast<double>(rows) : 1.0;
  }
  return 1.0;
}

double LossSum(LossKind kind, MatrixView outputs, TargetsView y, int64_t first_row, float* gradient,
               double gradient_scale) {
  switch (kind) {
    case LossKind::kMse:
      return MseSum(outputs, y, first_row, gradient, gradient_scale);
    case LossKind::kCrossEntropy:
      return CrossEntropySum(outputs, y, first_row, gradient, gradient_scale);
    case LossKind::kLogistic:
      return LogisticSum(outputs, y, first_row, gradient, gradient_scale);
  }
  return 0.0;
}

bool HasErrorRate(LossKind kind, TargetsView y) {
  return y.has_labels() || kind != LossKind::kMse || y.values.cols >= 2;
}

int64_t CountErrors(LossKind kind, MatrixView outputs, TargetsView y, int64_t first_row) {
  int64_t errors = 0;
  for (int64_t r = 0; r < outputs.rows; ++r) {
    if (kind == LossKind::kLogistic) {
      const double predicted = outputs.data[r] > 0.0f ? 1.0 : -1.0;
      errors += predicted != LogisticSign(y, first_row + r);
    } else {
      errors +=
          ArgMax(outputs.data + r * outputs.cols, outputs.cols) != TargetClass(y, first_row + r);
    }
  }
  return errors;
}

void SoftmaxRows(float* data, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = data + r * cols;
    const float max_value = row[ArgMax(row, cols)];
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      row[c] = std::exp(row[c] - max_value);
      sum += row[c];
    }
    const float inverse = static_cast<float>(1.0 / sum);
    for (int64_t c = 0; c < cols; ++c) row[c] *= inverse;
  }
}

}  // namespace mlpd
