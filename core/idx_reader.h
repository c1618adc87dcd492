// idx_reader.h: reads one IDX file (the format MNIST ships in) of unsigned bytes.
//
// An IDX file is a big-endian header (two zero bytes, a type byte, the number of dimensions,
// then one uint32 size per dimension) followed by the values in row-major order. Only the
// unsigned-byte type (0x08) is accepted: it is what image and label files use. ReadIdx() in
// dataset.h pairs an image file with its label file; this header is the single-file layer.
//
//   absl::StatusOr<IdxArray> labels = ReadIdxFile("train-labels-idx1-ubyte");
//   if (labels.ok()) Use(labels->dims[0], labels->values.data());
#ifndef MLPD_CORE_IDX_READER_H_
#define MLPD_CORE_IDX_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mlpd {

// IdxArray is the content of one IDX file: its dimensions and the first rows of its values.
struct IdxArray {
  std::vector<int64_t> dims;    // As in the header; dims[0] is the number of items.
  int64_t rows_read = 0;        // Items whose values were read (<= dims[0]).
  std::vector<uint8_t> values;  // rows_read * (product of dims[1..]) bytes.

  // ItemSize is the number of values per item (1 for a one-dimensional file).
  int64_t ItemSize() const;
};

// ReadIdxFile reads an unsigned-byte IDX file, checking its magic, its dimensions and that the
// file size matches the header exactly. With max_rows >= 0 only the first max_rows items are
// read (the size check still covers the whole file). Errors are INVALID_ARGUMENT naming the
// file, the expected and the received value; NOT_FOUND when the file cannot be opened.
[[nodiscard]] absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path, int64_t max_rows = -1);

}  // namespace mlpd

#endif  // MLPD_CORE_IDX_READER_H_
