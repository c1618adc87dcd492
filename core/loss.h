// loss.h: the training losses, their gradients and the classification error of a batch.
//
// The network's last layer produces `outputs` [rows, out] (its activations: logits for
// cross-entropy, the score s for the logistic loss). These functions check the targets against
// the spec, sum the per-element losses in double precision and write the gradient with respect
// to the outputs, so the model only has to back-propagate it.
//
//   MLPD_RETURN_IF_ERROR(ValidateTargets(spec, x.rows, y, TargetUse::kTraining));
//   double scale = 1.0 / LossNormalizer(spec.loss, x.rows, spec.output_size());
//   double loss = scale * LossSum(spec.loss.kind, outputs, y, 0, gradient, scale);
#ifndef MLPD_CORE_LOSS_H_
#define MLPD_CORE_LOSS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "core/model_spec.h"
#include "core/tensor.h"

namespace mlpd {

// TargetUse: training accepts fewer target forms than evaluation (cross-entropy trains on
// labels only, but evaluates float targets through their argmax).
enum class TargetUse { kTraining, kEvaluation };

// ValidateTargets returns INVALID_ARGUMENT naming the problem when `y` does not fit a batch of
// `rows` rows for `spec`: row count, column count, non-finite values, labels out of range,
// logistic targets other than -1 and +1.
absl::Status ValidateTargets(const ModelSpec& spec, int64_t rows, TargetsView y, TargetUse use);

// LossNormalizer is what the summed loss is divided by for the spec's reduction: rows * out
// (MSE mean), rows (cross-entropy, logistic mean) or 1 (sum).
double LossNormalizer(const LossSpec& loss, int64_t rows, int64_t outputs);

// LossSum returns the sum of the per-row losses of `outputs` against rows
// [first_row, first_row + outputs.rows) of `y`. When `gradient` is not null it receives
// gradient_scale times the derivative of that sum with respect to each output. MSE with labels
// compares against their one-hot encoding; logistic labels 0 and 1 stand for -1 and +1.
double LossSum(LossKind kind, MatrixView outputs, TargetsView y, int64_t first_row, float* gradient,
               double gradient_scale);

// HasErrorRate says whether `y` makes the rows a classification problem: labels, float
// targets of at least two columns (their argmax is the class) or logistic targets (signs).
bool HasErrorRate(LossKind kind, TargetsView y);

// CountErrors is the number of rows whose predicted class differs from the target class.
int64_t CountErrors(LossKind kind, MatrixView outputs, TargetsView y, int64_t first_row);

// SoftmaxRows replaces each row of the [rows, cols] matrix by its softmax.
void SoftmaxRows(float* data, int64_t rows, int64_t cols);

}  // namespace mlpd

#endif  // MLPD_CORE_LOSS_H_
