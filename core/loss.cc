#include "core/loss.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/finite.h"
#include "core/status_macros.h"

namespace mlpd {
namespace {

int64_t ArgMax(const float* row, int64_t cols) { return std::max_element(row, row + cols) - row; }

// TargetClass is the class of row `row` of the targets: the label, or the argmax of the row.
int64_t TargetClass(TargetsView y, int64_t row) {
  if (y.has_labels()) return y.labels[row];
  return ArgMax(y.values.data + row * y.values.cols, y.values.cols);
}

// LogisticSign is the target y in {-1, +1} of row `row` (logistic targets are values only).
double LogisticSign(TargetsView y, int64_t row) { return y.values.data[row] > 0.0f ? 1.0 : -1.0; }

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

// Named is `field`.`name`, or `name` alone when there is no field.
std::string Named(absl::string_view field, absl::string_view name) {
  return field.empty() ? std::string(name) : absl::StrCat(field, ".", name);
}

absl::Status ValidateLabels(absl::string_view field, const ModelSpec& spec, TargetsView y,
                            TargetUse use) {
  const std::string labels = Named(field, "labels");
  const int64_t outputs = spec.output_size();
  if (spec.loss.kind == LossKind::kLogistic) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s are given; LOGISTIC sessions take targets [N, 1] of -1 or +1", labels));
  }
  if (spec.loss.kind == LossKind::kMse && use == TargetUse::kTraining) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s are given; MSE sessions train on targets [N, %d]", labels, outputs));
  }
  if (outputs < 2) {
    // One class: every prediction is "right", and the error rate would mean nothing.
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s are given; the session has 1 output, so labels name no class: give targets [N, 1]",
        labels));
  }
  for (int64_t r = 0; r < y.label_count; ++r) {
    if (y.labels[r] < 0 || y.labels[r] >= outputs) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s[%d] is %d; the session has %d classes (0 to %d)", labels, r,
                          y.labels[r], outputs, outputs - 1));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateValues(absl::string_view field, const ModelSpec& spec, int64_t rows,
                            MatrixView values) {
  const std::string targets = Named(field, "targets");
  if (spec.loss.kind == LossKind::kCrossEntropy) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s are given; CROSS_ENTROPY sessions take labels [N] of class indices", targets));
  }
  if (values.cols != spec.output_size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s.shape[1] is %d, the session's output size is %d", targets, values.cols,
                        spec.output_size()));
  }
  if (values.data == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat("%s have no data", targets));
  }
  const int64_t count = rows * values.cols;
  MLPD_RETURN_IF_ERROR(CheckAllFinite(targets, values.data, count, values.cols));
  if (spec.loss.kind == LossKind::kLogistic) {
    for (int64_t i = 0; i < count; ++i) {
      if (values.data[i] != 1.0f && values.data[i] != -1.0f) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s[%d, 0] is %g; LOGISTIC sessions take -1 or +1", targets, i, values.data[i]));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTargets(const ModelSpec& spec, int64_t rows, TargetsView y, TargetUse use,
                             absl::string_view field) {
  if (y.rows() != rows) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s has %d rows, x has %d rows",
                        Named(field, y.has_labels() ? "labels" : "targets"), y.rows(), rows));
  }
  if (y.has_labels()) return ValidateLabels(field, spec, y, use);
  return ValidateValues(field, spec, rows, y.values);
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
