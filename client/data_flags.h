// data_flags.h: the data options shared by mlpctl's upload, step, evaluate and predict.
//
// Reads IDX or CSV (a path, or "-" for stdin) with core's readers, then applies the practical's
// preprocessing in its order: keep the first N rows, standardise (given or fitted mean/std),
// one-hot targets.
//
//   DataFlags flags;
//   flags.idx_images = "data/mnist/train-images-idx3-ubyte";
//   flags.idx_labels = "data/mnist/train-labels-idx1-ubyte";
//   flags.limit = 1000;
//   flags.normalize = "fit";
//   absl::StatusOr<LoadedData> data = LoadData(flags);
//   // data->standardization holds the fitted mean and std for the test set.
#ifndef MLPD_CLIENT_DATA_FLAGS_H_
#define MLPD_CLIENT_DATA_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"

namespace mlpd {

struct DataFlags {
  std::string idx_images;      // --idx-images
  std::string idx_labels;      // --idx-labels
  std::string csv;             // --csv: a path or "-" for stdin.
  bool label_column = false;   // --label-column: the last CSV column is an int class.
  int64_t target_columns = 0;  // --target-columns K: the last K CSV columns are float targets.
  int64_t limit = 0;           // --limit N >= 1: keep the first N rows (0, not given: all).
  std::string normalize;       // --normalize MEAN,STD or "fit"; empty: none.
  double one_hot = 0;          // --one-hot SCALE: labels -> one-hot targets (0: keep labels).
  double one_hot_base = 0;     // --one-hot-base: 0 or -1.
  int64_t classes = 0;         // --classes-count: one-hot width (0: max label + 1, at least 2).
};

struct LoadedData {
  Dataset dataset;
  // Set when --normalize was given (fitted or as given).
  std::optional<Standardization> standardization;
};

// LoadData reads and preprocesses; INVALID_ARGUMENT naming the flag on inconsistent flags.
absl::StatusOr<LoadedData> LoadData(const DataFlags& flags);

// RequireTargets returns INVALID_ARGUMENT, for `command` (e.g. "step"), unless the flags give
// the data targets or labels: training and evaluating need them, and the server would refuse
// the rows only after they were read and sent.
absl::Status RequireTargets(const DataFlags& flags, absl::string_view command);

}  // namespace mlpd

#endif  // MLPD_CLIENT_DATA_FLAGS_H_
