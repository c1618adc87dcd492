// Fuzzes the IDX reader (mlpctl upload --idx-images/--idx-labels). The first byte splits the
// rest into an image file and a label file; both are read as files, whole and with a row cap.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "core/dataset.h"
#include "core/idx_reader.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view rest = mlpd::fuzz::Bytes(data + 1, size - 1);
  const size_t split = std::min<size_t>(rest.size(), size_t{data[0]} * 4);
  mlpd::fuzz::MemoryFile images(rest.substr(split));
  mlpd::fuzz::MemoryFile labels(rest.substr(0, split));

  absl::StatusOr<mlpd::IdxArray> array = mlpd::ReadIdxFile(images.path());
  if (array.ok() &&
      static_cast<int64_t>(array->values.size()) != array->rows_read * array->ItemSize()) {
    std::abort();
  }
  absl::StatusOr<mlpd::Dataset> dataset = mlpd::ReadIdx(images.path(), labels.path(), 2);
  if (dataset.ok() && (dataset->rows() > 2 || !dataset->Validate().ok())) std::abort();
  return 0;
}
