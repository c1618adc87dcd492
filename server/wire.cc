#include "server/wire.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/finite.h"
#include "core/status_macros.h"

namespace mlpd {
absl::StatusOr<MatrixView> ViewTensor(absl::string_view field, const v1::Tensor& tensor) {
  if (tensor.shape_size() != 2) {
    return absl::InvalidArgumentError(absl::StrFormat("%s.shape is [%s]; expected [rows, columns]",
                                                      field, absl::StrJoin(tensor.shape(), ", ")));
  }
  const int64_t rows = tensor.shape(0);
  const int64_t cols = tensor.shape(1);
  if (rows < 1 || cols < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.shape is [%d, %d]; expected at least one row and one column", field, rows, cols));
  }
  const int64_t needed = MatrixElementCount(rows, cols);
  if (needed != tensor.data_size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s.data has %d values; shape [%d, %d] %s", field, tensor.data_size(), rows,
                        cols, needed < 0 ? "is impossible" : absl::StrCat("needs ", needed)));
  }
  MLPD_RETURN_IF_ERROR(CheckAllFinite(field, tensor.data().data(), tensor.data_size(), cols));
  return MatrixView{tensor.data().data(), rows, cols};
}

absl::StatusOr<BatchView> ViewBatch(absl::string_view field, const v1::Batch& batch) {
  BatchView view;
  absl::StatusOr<MatrixView> x = ViewTensor(absl::StrCat(field, ".x"), batch.x());
  if (!x.ok()) return x.status();
  view.x = *x;
  const bool has_targets = batch.targets().shape_size() > 0 || batch.targets().data_size() > 0;
  const bool has_labels = batch.labels_size() > 0;
  if (has_targets == has_labels) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s has %s; expected exactly one of targets or labels", field,
                        has_targets ? "both targets and labels" : "neither targets nor labels"));
  }
  if (has_labels) {
    if (batch.labels_size() != view.x.rows) {
      return absl::InvalidArgumentError(absl::StrFormat("%s.labels has %d values; %s.x has %d rows",
                                                        field, batch.labels_size(), field,
                                                        view.x.rows));
    }
    for (int i = 0; i < batch.labels_size(); ++i) {
      if (batch.labels(i) < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s.labels[%d] is %d; class labels are >= 0", field, i, batch.labels(i)));
      }
    }
    view.y = TargetsView::Labels(batch.labels().data(), batch.labels_size());
    return view;
  }
  absl::StatusOr<MatrixView> targets = ViewTensor(absl::StrCat(field, ".targets"), batch.targets());
  if (!targets.ok()) return targets.status();
  if (targets->rows != view.x.rows) {
    return absl::InvalidArgumentError(absl::StrFormat("%s.targets has %d rows; %s.x has %d", field,
                                                      targets->rows, field, view.x.rows));
  }
  view.y = TargetsView::Values(*targets);
  return view;
}

void WriteTensor(const Matrix& matrix, v1::Tensor* tensor) {
  tensor->clear_shape();
  tensor->add_shape(matrix.rows);
  tensor->add_shape(matrix.cols);
  auto* data = tensor->mutable_data();
  data->Resize(static_cast<int>(matrix.data.size()), 0.0f);
  if (!matrix.data.empty()) {
    std::memcpy(data->mutable_data(), matrix.data.data(), matrix.data.size() * sizeof(float));
  }
}

void WriteEvaluation(const Evaluation& evaluation, v1::EvalResult* result) {
  result->set_loss(evaluation.loss);
  if (evaluation.has_error_rate) {
    result->set_error_rate(evaluation.error_rate);
  } else {
    result->clear_error_rate();
  }
  result->set_count(evaluation.count);
}

void WriteClasses(LossKind loss, const Matrix& outputs,
                  google::protobuf::RepeatedField<int32_t>* classes) {
  classes->Clear();
  if (loss == LossKind::kLogistic) {
    classes->Reserve(static_cast<int>(outputs.rows));
    for (int64_t r = 0; r < outputs.rows; ++r) {
      classes->Add(outputs.data[r * outputs.cols] > 0.0f ? 1 : -1);
    }
    return;
  }
  if (outputs.cols < 2) return;
  classes->Reserve(static_cast<int>(outputs.rows));
  for (int64_t r = 0; r < outputs.rows; ++r) {
    const float* row = outputs.data.data() + r * outputs.cols;
    classes->Add(static_cast<int32_t>(std::max_element(row, row + outputs.cols) - row));
  }
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

std::string StatusCodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

}  // namespace mlpd
