// tensor.h: the views of batch data that the engine reads.
//
// The engine never owns caller data during a call: it reads row-major float32 matrices through
// MatrixView and targets through TargetsView, so the server can hand it the memory of a parsed
// protobuf message without copying.
//
//   MatrixView x{data.data(), /*rows=*/n, /*cols=*/784};
//   TargetsView y = TargetsView::Labels(labels.data(), n);
#ifndef MLPD_CORE_TENSOR_H_
#define MLPD_CORE_TENSOR_H_

#include <cstdint>
#include <vector>

namespace mlpd {

// MatrixElementCount is rows * cols for a shape that came from outside (a request, a file), or
// -1 when either is negative or the product does not fit in int64: a shape [2^62, 4] must be
// refused by its checks, not overflow in them.
inline int64_t MatrixElementCount(int64_t rows, int64_t cols) {
  int64_t count = 0;
  if (rows < 0 || cols < 0 || __builtin_mul_overflow(rows, cols, &count)) return -1;
  return count;
}

// MatrixView is a read-only row-major [rows, cols] float32 matrix.
struct MatrixView {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

// Matrix is an owned row-major [rows, cols] float32 matrix.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;

  MatrixView view() const { return MatrixView{data.data(), rows, cols}; }
};

// TargetsView is what a batch is trained or evaluated against: either float targets
// [rows, out] (MSE, LOGISTIC) or int class labels [rows] (CROSS_ENTROPY; also accepted by
// evaluation of MSE sessions, where the predicted class is the argmax of the outputs).
struct TargetsView {
  MatrixView values;                // Set when labels == nullptr.
  const int32_t* labels = nullptr;  // Set for class labels.
  int64_t label_count = 0;          // Rows of labels.

  static TargetsView Values(MatrixView values) { return TargetsView{values, nullptr, 0}; }
  static TargetsView Labels(const int32_t* labels, int64_t count) {
    return TargetsView{MatrixView{}, labels, count};
  }
  bool has_labels() const { return labels != nullptr; }
  int64_t rows() const { return has_labels() ? label_count : values.rows; }
};

}  // namespace mlpd

#endif  // MLPD_CORE_TENSOR_H_
