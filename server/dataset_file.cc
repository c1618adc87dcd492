#include "server/dataset_file.h"

#include <sys/stat.h>

#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/data_file.h"

namespace mlpd {
namespace {

constexpr size_t kDatasetPrefixSize = 48;

std::string EncodeDatasetPrefix(const Dataset& dataset) {
  std::string prefix(kDatasetPrefixSize, '\0');
  PutU64(static_cast<uint64_t>(dataset.x.rows), &prefix[0]);
  PutU64(static_cast<uint64_t>(dataset.x.cols), &prefix[8]);
  PutU64(static_cast<uint64_t>(dataset.targets.rows), &prefix[16]);
  PutU64(static_cast<uint64_t>(dataset.targets.cols), &prefix[24]);
  PutU64(static_cast<uint64_t>(dataset.labels.size()), &prefix[32]);
  PutU32(dataset.has_labels ? 1u : 0u, &prefix[40]);
  PutU32(0, &prefix[44]);
  return prefix;
}

// CheckedElementCount is rows * cols, or an error when either is negative or the product
// cannot be the size of a payload.
absl::StatusOr<uint64_t> CheckedElementCount(absl::string_view what, int64_t rows, int64_t cols) {
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 8;
  if (rows < 0 || cols < 0 || (cols != 0 && rows > kLimit / cols)) {
    return absl::DataLossError(
        absl::StrFormat("the dataset's %s shape [%d, %d] is impossible", what, rows, cols));
  }
  return static_cast<uint64_t>(rows * cols);
}

// ReadDatasetPrefix reads the shapes and sizes the dataset's buffers for them.
absl::Status ReadDatasetPrefix(PayloadReader& reader, Dataset* dataset) {
  const uint64_t payload_size = reader.remaining();
  if (payload_size < kDatasetPrefixSize) {
    return absl::DataLossError(
        absl::StrFormat("the dataset payload is %d bytes, shorter than its %d-byte prefix",
                        payload_size, kDatasetPrefixSize));
  }
  char prefix[kDatasetPrefixSize];
  MLPD_RETURN_IF_ERROR(reader.Read(prefix, sizeof(prefix)));
  const auto field = [&](size_t offset) { return static_cast<int64_t>(GetU64(&prefix[offset])); };
  dataset->x.rows = field(0);
  dataset->x.cols = field(8);
  dataset->targets.rows = field(16);
  dataset->targets.cols = field(24);
  const int64_t label_count = field(32);
  const uint32_t has_labels = GetU32(&prefix[40]);
  if (has_labels > 1) {
    return absl::DataLossError(absl::StrFormat("has_labels is %d, expected 0 or 1", has_labels));
  }
  dataset->has_labels = has_labels == 1;
  MLPD_ASSIGN_OR_RETURN(const uint64_t x_count,
                        CheckedElementCount("x", dataset->x.rows, dataset->x.cols));
  MLPD_ASSIGN_OR_RETURN(
      const uint64_t target_count,
      CheckedElementCount("targets", dataset->targets.rows, dataset->targets.cols));
  MLPD_ASSIGN_OR_RETURN(const uint64_t labels, CheckedElementCount("labels", label_count, 1));
  // Checked before allocating, so a damaged prefix cannot ask for more memory than the file.
  const uint64_t expected = kDatasetPrefixSize + 4 * x_count + 4 * target_count + 4 * labels;
  if (expected != payload_size) {
    return absl::DataLossError(
        absl::StrFormat("the dataset's shapes need a %d-byte payload, the file holds %d bytes",
                        expected, payload_size));
  }
  dataset->x.data.resize(x_count);
  dataset->targets.data.resize(target_count);
  dataset->labels.resize(labels);
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteDatasetFile(const std::string& folder, absl::string_view name,
                              const Dataset& dataset, int64_t create_time_unix_ms) {
  // The prefix must describe exactly the bytes that follow it.
  const auto check = [&](absl::string_view what, size_t size, int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0 || size != static_cast<size_t>(rows) * static_cast<size_t>(cols)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("dataset %s: %s holds %d values, its shape [%d, %d] needs %d", name, what,
                          size, rows, cols, rows * cols));
    }
    return absl::OkStatus();
  };
  MLPD_RETURN_IF_ERROR(check("x", dataset.x.data.size(), dataset.x.rows, dataset.x.cols));
  MLPD_RETURN_IF_ERROR(
      check("targets", dataset.targets.data.size(), dataset.targets.rows, dataset.targets.cols));
  const std::string prefix = EncodeDatasetPrefix(dataset);
  const auto bytes_of = [](const auto& values) {
    return absl::string_view(reinterpret_cast<const char*>(values.data()),
                             values.size() * sizeof(values[0]));
  };
  const absl::string_view pieces[] = {prefix, bytes_of(dataset.x.data),
                                      bytes_of(dataset.targets.data), bytes_of(dataset.labels)};
  return WriteFileAtomically(folder, absl::StrCat(name, kDatasetSuffix), PayloadKind::kDataset,
                             pieces, create_time_unix_ms);
}

absl::StatusOr<Dataset> ReadDatasetFile(const std::string& path) {
  MLPD_ASSIGN_OR_RETURN(std::unique_ptr<PayloadReader> reader,
                        PayloadReader::Open(path, PayloadKind::kDataset));
  Dataset dataset;
  MLPD_RETURN_IF_ERROR(ReadDatasetPrefix(*reader, &dataset));
  MLPD_RETURN_IF_ERROR(reader->Read(dataset.x.data.data(), 4 * dataset.x.data.size()));
  MLPD_RETURN_IF_ERROR(reader->Read(dataset.targets.data.data(), 4 * dataset.targets.data.size()));
  MLPD_RETURN_IF_ERROR(reader->Read(dataset.labels.data(), 4 * dataset.labels.size()));
  MLPD_RETURN_IF_ERROR(reader->Finish());
  absl::Status valid = dataset.Validate();
  if (!valid.ok()) {
    return absl::DataLossError(absl::StrCat("the dataset is invalid: ", valid.message()));
  }
  return dataset;
}

int64_t FileModifiedUnixMs(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return int64_t{info.st_mtim.tv_sec} * 1000 + info.st_mtim.tv_nsec / 1000000;
}

}  // namespace mlpd
