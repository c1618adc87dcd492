// dataset_file.h: a dataset's file in the data dir (datasets/NAME.data): the data file format
// (data_file.h) around the dataset's shapes and values.
//
// Dataset payload (little-endian): int64 x rows, x columns, target rows, target columns, label
// count; uint32 has_labels (0 or 1); uint32 reserved; then the float32 features, the float32
// targets and the int32 labels, each row-major and as many as the counts say. The upload time
// is kept as the file's modification time.
//
//   MLPD_RETURN_IF_ERROR(WriteDatasetFile(folder, "mnist", dataset, NowUnixMs()));
//   MLPD_ASSIGN_OR_RETURN(Dataset dataset, ReadDatasetFile(folder + "/mnist.data"));
#ifndef MLPD_SERVER_DATASET_FILE_H_
#define MLPD_SERVER_DATASET_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"

namespace mlpd {

// kDatasetSuffix ends every dataset file's name.
inline constexpr absl::string_view kDatasetSuffix = ".data";

// WriteDatasetFile durably replaces folder/NAME.data with the dataset (`name` is not validated
// here); INVALID_ARGUMENT before writing when the dataset's shapes do not match its values. A
// positive `create_time_unix_ms` is kept as the file's modification time.
absl::Status WriteDatasetFile(const std::string& folder, absl::string_view name,
                              const Dataset& dataset, int64_t create_time_unix_ms);

// ReadDatasetFile reads and checks a dataset file; DATA_LOSS says why it is unusable.
absl::StatusOr<Dataset> ReadDatasetFile(const std::string& path);

// FileModifiedUnixMs is the modification time of the file at `path`, or 0 when there is none.
int64_t FileModifiedUnixMs(const std::string& path);

}  // namespace mlpd

#endif  // MLPD_SERVER_DATASET_FILE_H_
