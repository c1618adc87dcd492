// Fuzzes NATIVE import as ImportSession runs it: the bytes parse as an mlpd.v1.Checkpoint and
// RestoreCheckpoint builds a model from it. A checkpoint that restores must capture back to the
// same parameters, state and counters, and the model must predict finite or refuse cleanly.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "core/checkpoint.h"
#include "core/model.h"
#include "mlpd/v1/model.pb.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlpd::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(std::string(mlpd::fuzz::Bytes(data, size)))) return 0;
  absl::StatusOr<std::unique_ptr<mlpd::Model>> model = mlpd::RestoreCheckpoint(checkpoint);
  if (!model.ok()) return 0;

  absl::StatusOr<mlpd::v1::Checkpoint> again = mlpd::MakeCheckpoint(**model);
  if (!again.ok()) std::abort();
  if (again->parameters_size() != checkpoint.parameters_size() ||
      again->optimizer_state_size() != checkpoint.optimizer_state_size() ||
      again->step_count() != checkpoint.step_count() ||
      again->samples_seen() != checkpoint.samples_seen()) {
    std::abort();
  }
  // One row through the restored model: its primitives must accept what restore accepted.
  const int64_t inputs = (*model)->spec().input_size;
  std::vector<float> row(static_cast<size_t>(inputs), 0.5f);
  mlpd::Matrix outputs;
  (void)(*model)->Predict(mlpd::MatrixView{row.data(), 1, inputs}, &outputs);
  return 0;
}
