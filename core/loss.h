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
#include "absl/strings/string_view.h"
#include "core/model_spec.h"
#include "core/tensor.h"

namespace mlpd {

// TargetUse: training accepts fewer target forms than evaluation (an MSE session evaluates class
// labels, through the argmax of its outputs, but trains on targets only).
enum class TargetUse { kTraining, kEvaluation };

// ValidateTargets is the one rule for targets, in the engine and in the service alike. It returns
// INVALID_ARGUMENT naming `field` (e.g. "batch" gives "batch.labels[3] is 7; ...", empty gives
// "labels[3] ...") when `y` does not fit a batch of `rows` rows for `spec`:
//   - CROSS_ENTROPY takes labels [N] in [0, outputs);
//   - LOGISTIC takes targets [N, 1] of -1 or +1;
//   - MSE trains on finite targets [N, outputs], and evaluates labels too when outputs >= 2.
absl::Status ValidateTargets(const ModelSpec& spec, int64_t rows, TargetsView y, TargetUse use,
                             absl::string_view field = "");

// LossNormalizer is what the summed loss is divided by for the spec's reduction: rows * out
// (MSE mean), rows (cross-entropy, logistic mean) or 1 (sum).
double LossNormalizer(const LossSpec& loss, int64_t rows, int64_t outputs);

// LossSum returns the sum of the per-row losses of `outputs` against rows
// [first_row, first_row + outputs.rows) of `y`. When `gradient` is not null it receives
// gradient_scale times the derivative of that sum with respect to each output. MSE with labels
// (evaluation only) compares against their one-hot encoding.
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
