// Fuzzes the CSV reader (mlpctl upload/step/predict --csv). The first byte picks the options;
// the rest is the text. A dataset that parses must be valid (shapes agree, values finite).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/dataset.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  mlpd::CsvOptions options;
  options.label_column = (data[0] & 1) != 0;
  options.skip_header = (data[0] & 2) != 0;
  options.target_columns = options.label_column ? 0 : (data[0] >> 2) & 3;
  const std::string text(mlpd::fuzz::Bytes(data + 1, size - 1));
  absl::StatusOr<mlpd::Dataset> dataset = mlpd::ParseCsv(text, options);
  if (!dataset.ok()) return 0;
  if (!dataset->Validate().ok()) std::abort();
  if (dataset->has_labels != options.label_column) std::abort();
  return 0;
}
