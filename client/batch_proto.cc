#include "client/batch_proto.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mlpd {

void MatrixRowsToTensor(MatrixView matrix, int64_t begin, int64_t end, v1::Tensor* tensor) {
  tensor->Clear();
  tensor->add_shape(end - begin);
  tensor->add_shape(matrix.cols);
  const float* first = matrix.data + begin * matrix.cols;
  const float* last = matrix.data + end * matrix.cols;
  tensor->mutable_data()->Add(first, last);
}

void DatasetRowsToBatch(const Dataset& dataset, int64_t begin, int64_t end, v1::Batch* batch) {
  batch->Clear();
  MatrixRowsToTensor(dataset.x.view(), begin, end, batch->mutable_x());
  if (dataset.has_labels) {
    batch->mutable_labels()->Add(dataset.labels.begin() + begin, dataset.labels.begin() + end);
  } else if (dataset.targets.cols > 0) {
    MatrixRowsToTensor(dataset.targets.view(), begin, end, batch->mutable_targets());
  }
}

absl::StatusOr<Matrix> TensorToMatrix(const v1::Tensor& tensor, const std::string& field) {
  if (tensor.shape_size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".shape has rank ", tensor.shape_size(),
                                                   ", expected rank 2 [rows, columns]"));
  }
  Matrix matrix;
  matrix.rows = tensor.shape(0);
  matrix.cols = tensor.shape(1);
  if (matrix.rows < 0 || matrix.cols < 0 || matrix.rows * matrix.cols != tensor.data_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".shape is [", absl::StrJoin(tensor.shape(), ", "), "] but ", field,
                     ".data has ", tensor.data_size(), " values"));
  }
  matrix.data.assign(tensor.data().begin(), tensor.data().end());
  return matrix;
}

int64_t RowsPerChunk(const Dataset& dataset, int64_t chunk_bytes) {
  const int64_t row_bytes =
      static_cast<int64_t>(sizeof(float)) *
      (dataset.x.cols + (dataset.has_labels ? 1 : std::max<int64_t>(dataset.targets.cols, 0)));
  return std::max<int64_t>(1, chunk_bytes / std::max<int64_t>(row_bytes, 1));
}

}  // namespace mlpd
