#include "core/idx_reader.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/dataset.h"
#include "core/input_file.h"
#include "core/status_macros.h"

namespace mlpd {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
// One item (an image) of more values than this is not data anyone trains on here.
constexpr int64_t kMaxItemSize = int64_t{1} << 31;

uint32_t BigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

}  // namespace

int64_t IdxArray::ItemSize() const {
  int64_t size = 1;
  for (size_t i = 1; i < dims.size(); ++i) size *= dims[i];
  return size;
}

absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path, int64_t max_rows) {
  MLPD_ASSIGN_OR_RETURN(InputFile file, InputFile::Open(path));
  const int64_t file_size = file.size();
  if (file_size < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated IDX file: expected a 4-byte magic number, the file has ",
                     file_size, " bytes"));
  }
  uint8_t magic[4];
  MLPD_RETURN_IF_ERROR(file.Read(magic, 4));
  if (magic[0] != 0 || magic[1] != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an IDX file: magic number 0x",
                                                   absl::Hex(BigEndian32(magic), absl::kZeroPad8),
                                                   " does not start with two zero bytes"));
  }
  if (magic[2] != kUnsignedByteType) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": IDX value type is 0x",
                                                   absl::Hex(magic[2], absl::kZeroPad2),
                                                   ", expected 0x08 (unsigned byte)"));
  }
  const int dimension_count = magic[3];
  if (dimension_count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": IDX dimension count is 0, expected at least 1"));
  }
  const int64_t header_size = 4 + 4 * int64_t{dimension_count};
  if (file_size < header_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated IDX file: the header of ", dimension_count,
                     " dimensions needs ", header_size, " bytes, the file has ", file_size));
  }
  std::vector<uint8_t> size_bytes(4 * dimension_count);
  MLPD_RETURN_IF_ERROR(file.Read(size_bytes.data(), static_cast<int64_t>(size_bytes.size())));

  IdxArray array;
  for (int i = 0; i < dimension_count; ++i) array.dims.push_back(BigEndian32(&size_bytes[4 * i]));
  std::string shape;
  for (int64_t dim : array.dims) absl::StrAppend(&shape, shape.empty() ? "" : "x", dim);
  // A hostile header can claim 255 dimensions of 2^32 - 1: products are only formed while they
  // stay below a bound, so they cannot overflow.
  int64_t item_size = 1;
  for (size_t i = 1; i < array.dims.size(); ++i) {
    if (array.dims[i] != 0 && item_size > kMaxItemSize / array.dims[i]) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": IDX items of shape ", shape,
                                                     " exceed ", kMaxItemSize, " values each"));
    }
    item_size *= array.dims[i];
  }
  const int64_t items = array.dims[0];
  const bool larger_than_file = item_size != 0 && items > file_size / item_size;
  const int64_t expected_size = larger_than_file ? -1 : header_size + items * item_size;
  if (expected_size != file_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": IDX size mismatch: a header of shape ", shape, " needs ",
        larger_than_file ? absl::StrCat("more than ", file_size) : absl::StrCat(expected_size),
        " bytes, the file has ", file_size,
        larger_than_file || expected_size > file_size ? " (truncated)" : " (trailing bytes)"));
  }

  array.rows_read = max_rows < 0 ? items : std::min(items, max_rows);
  const int64_t bytes = array.rows_read * item_size;
  array.values.resize(static_cast<size_t>(bytes));
  MLPD_RETURN_IF_ERROR(file.Read(array.values.data(), bytes));
  return array;
}

absl::StatusOr<Dataset> ReadIdx(const std::string& images_path, const std::string& labels_path,
                                int64_t max_rows) {
  MLPD_ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile(images_path, max_rows));
  MLPD_ASSIGN_OR_RETURN(IdxArray labels, ReadIdxFile(labels_path, max_rows));
  if (images.dims.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(images_path, ": an image file needs at least 2 dimensions, the header has ",
                     images.dims.size()));
  }
  if (labels.dims.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels_path, ": a label file needs exactly 1 dimension, the header has ",
                     labels.dims.size()));
  }
  if (images.dims[0] != labels.dims[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat("image/label count mismatch: ", images_path, " holds ", images.dims[0],
                     " images, ", labels_path, " holds ", labels.dims[0], " labels"));
  }
  if (images.ItemSize() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(images_path, ": images have 0 values each, expected at least 1"));
  }

  Dataset dataset;
  dataset.x.rows = images.rows_read;
  dataset.x.cols = images.ItemSize();
  dataset.x.data.assign(images.values.begin(), images.values.end());
  dataset.labels.assign(labels.values.begin(), labels.values.end());
  dataset.has_labels = true;
  return dataset;
}

}  // namespace mlpd
