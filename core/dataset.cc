#include "core/dataset.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/epoch_order.h"
#include "core/finite.h"

namespace mlpd {
namespace {

absl::Status CheckMatrixShape(const Matrix& matrix, const char* name) {
  const int64_t needed = MatrixElementCount(matrix.rows, matrix.cols);
  if (static_cast<int64_t>(matrix.data.size()) != needed) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " holds ", matrix.data.size(), " values, its shape [", matrix.rows, ", ", matrix.cols,
        "] ", needed < 0 ? "is impossible" : absl::StrCat("needs ", needed)));
  }
  return absl::OkStatus();
}

absl::Status CheckFinite(const Matrix& matrix, const char* name) {
  return CheckAllFinite(name, matrix.data.data(), static_cast<int64_t>(matrix.data.size()),
                        matrix.cols);
}

void GatherRows(const Matrix& source, const int64_t* rows, int64_t count, Matrix* into) {
  into->rows = count;
  into->cols = source.cols;
  into->data.resize(static_cast<size_t>(count * source.cols));
  for (int64_t i = 0; i < count; ++i) {
    std::copy_n(source.data.data() + rows[i] * source.cols, source.cols,
                into->data.data() + i * source.cols);
  }
}

void KeepFirstRows(int64_t n, Matrix* matrix) {
  if (n >= matrix->rows) return;
  matrix->rows = n;
  matrix->data.resize(static_cast<size_t>(n * matrix->cols));
}

}  // namespace

TargetsView Dataset::targets_view() const {
  if (has_labels) return TargetsView::Labels(labels.data(), static_cast<int64_t>(labels.size()));
  return TargetsView::Values(targets.view());
}

int64_t Dataset::ByteSize() const {
  return static_cast<int64_t>((x.data.size() + targets.data.size()) * sizeof(float) +
                              labels.size() * sizeof(int32_t));
}

void Dataset::KeepFirst(int64_t n) {
  n = std::max<int64_t>(n, 0);
  if (n >= rows()) return;
  KeepFirstRows(n, &x);
  if (targets.rows > 0) KeepFirstRows(n, &targets);
  if (static_cast<int64_t>(labels.size()) > n) labels.resize(static_cast<size_t>(n));
}

absl::Status Dataset::Validate() const {
  absl::Status status = CheckMatrixShape(x, "x");
  if (!status.ok()) return status;
  // Nothing trains on a dataset without rows or columns (an epoch of it has no batch), so a
  // file that holds one is damaged, whatever its checksum says.
  if (x.rows < 1 || x.cols < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x has shape [", x.rows, ", ", x.cols, "]; a dataset holds at least one row and column"));
  }
  status = CheckMatrixShape(targets, "targets");
  if (!status.ok()) return status;
  if (has_labels) {
    if (static_cast<int64_t>(labels.size()) != x.rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("labels has ", labels.size(), " rows, x has ", x.rows));
    }
    if (targets.rows != 0) {
      return absl::InvalidArgumentError(absl::StrCat("a dataset with labels has ", targets.rows,
                                                     " rows of float targets, expected 0"));
    }
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("labels[", i, "] is ", labels[i], ", expected a class index >= 0"));
      }
    }
  } else {
    if (!labels.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a dataset without labels (has_labels false) holds ", labels.size(), " labels"));
    }
    if (targets.rows != 0 && targets.rows != x.rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets has ", targets.rows, " rows, x has ", x.rows));
    }
  }
  status = CheckFinite(x, "x");
  if (!status.ok()) return status;
  return CheckFinite(targets, "targets");
}

Standardization FitStandardization(const Dataset& dataset) {
  const std::vector<float>& values = dataset.x.data;
  Standardization result;
  if (values.empty()) return result;
  // Two passes in double: one pass of sums of squares loses digits on 784k pixels.
  double sum = 0.0;
  for (float value : values) sum += value;
  result.mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return result;
  double squares = 0.0;
  for (float value : values) {
    const double centred = value - result.mean;
    squares += centred * centred;
  }
  const double deviation = std::sqrt(squares / static_cast<double>(values.size() - 1));
  if (deviation > 0.0 && std::isfinite(deviation)) result.std = deviation;
  return result;
}

void ApplyStandardization(const Standardization& standardization, Dataset* dataset) {
  const double inverse = 1.0 / standardization.std;
  for (float& value : dataset->x.data) {
    value = static_cast<float>((value - standardization.mean) * inverse);
  }
}

void ScaleInputs(float factor, Dataset* dataset) {
  for (float& value : dataset->x.data) value *= factor;
}

absl::Status OneHotTargets(int64_t classes, float scale, float base, Dataset* dataset) {
  if (!dataset->has_labels) {
    return absl::InvalidArgumentError(
        "one-hot targets need class labels, the dataset has float targets");
  }
  if (classes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("classes is ", classes, ", expected at least 1"));
  }
  for (size_t i = 0; i < dataset->labels.size(); ++i) {
    const int32_t label = dataset->labels[i];
    if (label < 0 || label >= classes) {
      return absl::InvalidArgumentError(
          absl::StrCat("labels[", i, "] is ", label, ", expected a class in [0, ", classes, ")"));
    }
  }
  Matrix targets;
  targets.rows = static_cast<int64_t>(dataset->labels.size());
  targets.cols = classes;
  targets.data.assign(static_cast<size_t>(targets.rows * classes), base);
  for (int64_t i = 0; i < targets.rows; ++i) targets.data[i * classes + dataset->labels[i]] = scale;
  dataset->targets = std::move(targets);
  dataset->labels.clear();
  dataset->has_labels = false;
  return absl::OkStatus();
}

BatchIterator::BatchIterator(const Dataset& dataset, int64_t batch_size, bool shuffle,
                             uint64_t seed)
    : dataset_(dataset),
      // Larger than the dataset is the whole dataset too (and keeps batches_per_epoch's
      // rounding from overflowing).
      batch_size_(batch_size > 0 && batch_size < dataset.rows() ? batch_size : dataset.rows()),
      shuffle_(shuffle),
      seed_(seed) {
  Seek(0, 0);
}

void BatchIterator::Reset() { Seek(epoch_ + 1, 0); }

void BatchIterator::Seek(int64_t epoch, int64_t batches) {
  epoch_ = epoch;
  position_ = std::min(std::max<int64_t>(batches, 0) * batch_size_, dataset_.rows());
}

int64_t BatchIterator::HeldBytes() const {
  const auto bytes = [](const auto& vector) {
    return static_cast<int64_t>(vector.capacity() * sizeof(vector[0]));
  };
  return bytes(order_) + bytes(batch_x_.data) + bytes(batch_targets_.data) + bytes(batch_labels_);
}

int64_t BatchIterator::BatchesPerEpoch(int64_t rows, int64_t batch_size) {
  if (rows <= 0) return 0;
  if (batch_size <= 0 || batch_size >= rows) return 1;
  return (rows + batch_size - 1) / batch_size;
}

bool BatchIterator::Next(MatrixView* x, TargetsView* y) {
  const int64_t rows = dataset_.rows();
  if (position_ >= rows) return false;
  const int64_t count = std::min(batch_size_, rows - position_);
  const int64_t first = position_;
  position_ += count;
  const bool has_targets = dataset_.targets.rows > 0;
  if (!shuffle_) {
    *x = MatrixView{dataset_.x.data.data() + first * dataset_.x.cols, count, dataset_.x.cols};
    if (y == nullptr) return true;
    if (dataset_.has_labels) {
      *y = TargetsView::Labels(dataset_.labels.data() + first, count);
    } else if (has_targets) {
      const int64_t cols = dataset_.targets.cols;
      *y =
          TargetsView::Values(MatrixView{dataset_.targets.data.data() + first * cols, count, cols});
    } else {
      *y = TargetsView::Values(MatrixView{});
    }
    return true;
  }
  if (order_epoch_ != epoch_) {
    FillEpochOrder(seed_, epoch_, rows, &order_);
    order_epoch_ = epoch_;
  }
  const int64_t* rows_of_batch = order_.data() + first;
  GatherRows(dataset_.x, rows_of_batch, count, &batch_x_);
  *x = batch_x_.view();
  if (y == nullptr) return true;
  if (dataset_.has_labels) {
    batch_labels_.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) batch_labels_[i] = dataset_.labels[rows_of_batch[i]];
    *y = TargetsView::Labels(batch_labels_.data(), count);
  } else if (has_targets) {
    GatherRows(dataset_.targets, rows_of_batch, count, &batch_targets_);
    *y = TargetsView::Values(batch_targets_.view());
  } else {
    *y = TargetsView::Values(MatrixView{});
  }
  return true;
}

}  // namespace mlpd
