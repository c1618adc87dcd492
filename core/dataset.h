// dataset.h: in-memory datasets, their readers (IDX, CSV), preprocessing and mini-batches.
//
// A Dataset holds x [N, in] and either float targets [N, out] or int class labels [N].
//
//   absl::StatusOr<Dataset> train = ReadIdx(images_path, labels_path);
//   train->KeepFirst(1000);
//   Standardization fitted = FitStandardization(*train);
//   ApplyStandardization(fitted, &*train);
//   MLPD_RETURN_IF_ERROR(OneHotTargets(/*classes=*/10, /*scale=*/0.9f, /*base=*/0.0f, &*train));
//   BatchIterator batches(*train, /*batch_size=*/100, /*shuffle=*/true, /*seed=*/1);
//   while (batches.Next(&x, &y)) { ... }
#ifndef MLPD_CORE_DATASET_H_
#define MLPD_CORE_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tensor.h"

namespace mlpd {

struct Dataset {
  Matrix x;                     // [N, in].
  Matrix targets;               // [N, out]; rows == 0 when the dataset has labels.
  std::vector<int32_t> labels;  // [N]; empty when the dataset has targets.
  bool has_labels = false;

  int64_t rows() const { return x.rows; }
  TargetsView targets_view() const;
  // ByteSize is the memory held by the rows.
  int64_t ByteSize() const;
  // KeepFirst drops every row after the first `n` (no-op when n >= rows).
  void KeepFirst(int64_t n);
  // Validate checks there is at least one row and one column, shapes agree and every value is
  // finite.
  absl::Status Validate() const;
};

// ReadIdx reads an IDX image file (uint8, any dims after N, flattened) and its IDX label file.
// Pixels are kept raw (0..255) as floats; labels become int class labels. With max_rows >= 0
// only the first max_rows images are converted (both files are still checked whole), which
// spares the practical 180 MB of floats it never uses. Implemented in idx_reader.cc.
absl::StatusOr<Dataset> ReadIdx(const std::string& images_path, const std::string& labels_path,
                                int64_t max_rows = -1);

// CsvOptions says which columns of a CSV file are the targets.
struct CsvOptions {
  bool label_column = false;   // The last column is an int class label.
  int64_t target_columns = 0;  // Else: the last K columns are float targets (0: no targets).
  bool skip_header = false;    // Skip the first line. A first line none of whose cells is a
                               // number (column names) is skipped anyway.
};

// ReadCsv reads comma-separated numbers, one row per line (blank lines are ignored). Errors
// are INVALID_ARGUMENT naming the file, the line, the column and the offending value.
// Implemented in csv_reader.cc.
absl::StatusOr<Dataset> ReadCsv(const std::string& path, const CsvOptions& options);
// ParseCsv is ReadCsv on text already in memory ("-" input, tests); `source_name` stands for
// the file name in error messages.
absl::StatusOr<Dataset> ParseCsv(const std::string& text, const CsvOptions& options,
                                 const std::string& source_name = "<csv text>");

// Standardization is the practical's scalar normalisation: x <- (x - mean) / std.
struct Standardization {
  double mean = 0.0;
  double std = 1.0;
};

// FitStandardization computes one scalar mean and one unbiased standard deviation over every
// value of x (in double precision). With fewer than two values, or when every value is the
// same, std is 1 so that applying it only centres the data instead of dividing by zero.
Standardization FitStandardization(const Dataset& dataset);
void ApplyStandardization(const Standardization& standardization, Dataset* dataset);

// ScaleInputs multiplies every value of x by `factor` (the 2018 variant's zeta on the inputs).
void ScaleInputs(float factor, Dataset* dataset);

// OneHotTargets turns labels into float targets: `base` everywhere and `scale` at the label
// (the practical: base 0, scale 0.9; the 2018 variant: base -1, scale 1). Labels must be in
// [0, classes). The labels are dropped (the argmax of the targets still gives the class); on
// error the dataset is unchanged.
absl::Status OneHotTargets(int64_t classes, float scale, float base, Dataset* dataset);

// BatchIterator walks a dataset in mini-batches (the last one partial), optionally reshuffled
// at each epoch in the order EpochOrder(seed, epoch) gives, which depends on nothing else: Seek
// puts a new iterator where an interrupted run stopped. Shuffled batches are gathered into owned
// buffers; unshuffled ones are views of the dataset.
class BatchIterator {
 public:
  // batch_size 0 (or negative, or above the rows) means the whole dataset as one batch. It reads
  // `dataset` at every Next(): the dataset must outlive it and keep its rows.
  BatchIterator(const Dataset& dataset, int64_t batch_size, bool shuffle, uint64_t seed);

  // Next sets the next batch and returns true, or returns false at the end of the epoch. The
  // views stay valid until the following Next() or Reset(). `y` may be null; for a dataset
  // without targets it is set to empty Values.
  bool Next(MatrixView* x, TargetsView* y);
  // Reset starts the next epoch (a new permutation when shuffling).
  void Reset();
  // Seek starts epoch `epoch` (0-based) and skips its first `batches` batches, as if the
  // iterator had walked there from the start. Neither Seek nor the constructor shuffles: the
  // epoch's order is made by its first Next, so a run set up on one thread (a gRPC handler)
  // shuffles where it computes.
  void Seek(int64_t epoch, int64_t batches);
  // HeldBytes is the memory the iterator holds besides the dataset: the epoch's order (8 bytes
  // a row when shuffling, once Next has run) and the gathered batch.
  int64_t HeldBytes() const;
  int64_t batches_per_epoch() const { return BatchesPerEpoch(dataset_.rows(), batch_size_); }
  // BatchesPerEpoch is the number of batches an epoch of `rows` takes at `batch_size` (as the
  // constructor reads it).
  static int64_t BatchesPerEpoch(int64_t rows, int64_t batch_size);
  int64_t batch_size() const { return batch_size_; }

 private:
  const Dataset& dataset_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  int64_t epoch_ = 0;         // 0-based epoch being walked.
  int64_t order_epoch_ = -1;  // The epoch order_ holds; -1: none yet.
  std::vector<int64_t> order_;
  int64_t position_ = 0;
  Matrix batch_x_;
  Matrix batch_targets_;
  std::vector<int32_t> batch_labels_;
};

}  // namespace mlpd

#endif  // MLPD_CORE_DATASET_H_
