// Fuzzes the request checks every compute RPC runs on its batch (TrainStep, Evaluate, Predict,
// UploadDataset chunks): the bytes parse as an mlpd.v1.Batch; ViewTensor and ViewBatch must
// either refuse it or return views whose shapes match the data they point into, and the
// session checks (CheckBatch for each loss, the upload checks) must answer without crashing.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/model_spec.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/request_checks.h"
#include "server/wire.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// Spec is a 2-input session with `outputs` outputs trained on `loss`.
mlpd::ModelSpec Spec(mlpd::LossKind loss, int64_t outputs) {
  mlpd::ModelSpec spec;
  spec.input_size = 2;
  spec.layers = {{outputs, mlpd::Activation::kIdentity}};
  spec.loss.kind = loss;
  return mlpd::WithDefaults(spec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlpd::v1::Batch batch;
  if (!batch.ParseFromString(std::string(mlpd::fuzz::Bytes(data, size)))) return 0;
  absl::StatusOr<mlpd::MatrixView> x = mlpd::ViewTensor("x", batch.x());
  if (x.ok() && x->rows * x->cols != batch.x().data_size()) std::abort();
  absl::StatusOr<mlpd::BatchView> view = mlpd::ViewBatch("batch", batch);
  if (!view.ok()) return 0;
  if (view->x.rows * view->x.cols != batch.x().data_size()) std::abort();
  if (view->y.rows() != view->x.rows) std::abort();

  static const mlpd::ModelSpec* const kSpecs[] = {
      new mlpd::ModelSpec(Spec(mlpd::LossKind::kMse, 1)),
      new mlpd::ModelSpec(Spec(mlpd::LossKind::kCrossEntropy, 3)),
      new mlpd::ModelSpec(Spec(mlpd::LossKind::kLogistic, 1)),
  };
  for (const mlpd::ModelSpec* spec : kSpecs) {
    for (mlpd::TargetUse use : {mlpd::TargetUse::kTraining, mlpd::TargetUse::kEvaluation}) {
      (void)mlpd::CheckBatch("batch", *view, *spec, use);
    }
  }
  mlpd::v1::UploadDatasetRequest chunk;
  chunk.set_name("fuzz");
  *chunk.mutable_rows() = batch;
  chunk.set_total_rows(view->x.rows);
  (void)mlpd::CheckFirstChunk(chunk);
  (void)mlpd::CheckChunkName(1, chunk, "fuzz");
  return 0;
}
