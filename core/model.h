// model.h: an MLP with its optimizer, trained and run on oneDNN primitives.
//
// Model owns the parameters and the optimizer state. The oneDNN primitives are not the model's:
// they live in the calling thread's PlanCache (built once per layer shapes and batch size,
// shared by every model of that shape). It is not thread-safe: one thread at a time (the server's
// compute executor) calls it. A step large enough to split runs on one thread or on all of the
// caller's OpenMP threads, whichever measured faster (core/thread_choice.h); the results are
// the same. Every call validates its input and leaves the model unchanged on error; a step
// whose loss or updated parameters are not finite is not applied.
//
//   absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(spec);
//   absl::StatusOr<float> loss = (*model)->TrainStep(x, TargetsView::Values(t));
//   Matrix outputs;
//   absl::Status status = (*model)->Predict(x, &outputs);
#ifndef MLPD_CORE_MODEL_H_
#define MLPD_CORE_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/model_spec.h"
#include "core/tensor.h"

namespace mlpd {

// kMaxCounter bounds a model's step_count and samples_seen, the one bound of import, training
// and load: a checkpoint beyond it is refused and a step that would pass it is not applied, so
// every model's checkpoint restores. Far beyond any real run, and exact in a double.
inline constexpr int64_t kMaxCounter = int64_t{1} << 53;

// kDefaultChunkRows is how many rows Predict and Evaluate run at a time unless told otherwise:
// typical training batch sizes, whose plans they then share.
inline constexpr int64_t kDefaultChunkRows = 1024;

// ChunkControl shapes one Predict or Evaluate. They run the network `max_rows` rows at a time
// (a pass holds every layer's activations for its rows, so the rows bound its memory: see
// ActivationBytesPerRow), and before each pass after the first they ask `cancelled` whether
// the caller still waits; when it says true the call stops with CANCELLED.
struct ChunkControl {
  int64_t max_rows = kDefaultChunkRows;  // >= 1.
  std::function<bool()> cancelled;       // Empty: never cancelled.
};

// Evaluation is the result of Model::Evaluate.
struct Evaluation {
  double loss = 0.0;            // With the spec's loss and reduction over all rows.
  bool has_error_rate = false;  // Whether the rows are classification.
  double error_rate = 0.0;      // Fraction of misclassified rows.
  int64_t count = 0;            // Rows evaluated.
};

class Model {
 public:
  // Create validates `spec` (after WithDefaults) and draws the initial parameters from its
  // seeded init.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Model>> Create(const ModelSpec& spec);

  virtual ~Model() = default;

  // spec is the validated spec with defaults filled in.
  virtual const ModelSpec& spec() const = 0;

  // TrainStep runs forward, back-propagation and one optimizer step on the batch; returns the
  // batch loss before the update. On error nothing changes. Targets: CROSS_ENTROPY takes int
  // labels in [0, out); MSE takes float targets [rows, out] or int labels (compared with their
  // one-hot encoding, the practical's convention); LOGISTIC takes float targets in {-1, +1}
  // [rows, 1] or labels 0 / 1 (standing for -1 / +1). A step whose loss or updated values are
  // not finite, or that would take step_count or samples_seen past kMaxCounter, returns
  // FAILED_PRECONDITION and changes nothing.
  [[nodiscard]] virtual absl::StatusOr<float> TrainStep(MatrixView x, TargetsView y) = 0;

  // Predict writes [x.rows, out] outputs: the last layer's activations, or the softmax
  // probabilities for cross-entropy models.
  [[nodiscard]] absl::Status Predict(MatrixView x, Matrix* outputs) {
    return Predict(x, outputs, ChunkControl{});
  }
  [[nodiscard]] virtual absl::Status Predict(MatrixView x, Matrix* outputs,
                                             const ChunkControl& control) = 0;

  // Evaluate computes the loss over all rows (in chunks, any row count) and, for
  // classification, the error rate. Labels are accepted by every loss: for MSE the predicted
  // class is the argmax of the outputs and the loss is against the labels' one-hot encoding;
  // float targets of several columns count as classification through their argmax (for
  // CROSS_ENTROPY the argmax is the label); LOGISTIC compares signs. MSE with one-column float
  // targets has no error rate.
  [[nodiscard]] absl::StatusOr<Evaluation> Evaluate(MatrixView x, TargetsView y) {
    return Evaluate(x, y, ChunkControl{});
  }
  [[nodiscard]] virtual absl::StatusOr<Evaluation> Evaluate(MatrixView x, TargetsView y,
                                                            const ChunkControl& control) = 0;

  // Parameters in the documented order: for each layer, w [out, in] row-major, then b [out].
  virtual int64_t parameter_count() const = 0;
  virtual std::vector<float> GetParameters() const = 0;
  [[nodiscard]] virtual absl::Status SetParameters(absl::Span<const float> parameters) = 0;

  // Optimizer state: `slots` blocks laid out like the parameters (momentum: velocity; adam:
  // first moment then second moment; sgd: none).
  virtual int64_t optimizer_state_size() const = 0;
  virtual std::vector<float> GetOptimizerState() const = 0;
  [[nodiscard]] virtual absl::Status SetOptimizerState(absl::Span<const float> state) = 0;

  // Counters, restored with the parameters on import.
  virtual int64_t step_count() const = 0;
  virtual int64_t samples_seen() const = 0;
  virtual float last_loss() const = 0;
  virtual void SetCounters(int64_t step_count, int64_t samples_seen, float last_loss) = 0;

  // ApproximateBytes is the memory held by parameters, state and primitive buffers.
  virtual int64_t ApproximateBytes() const = 0;
};

// ActivationBytesPerRow is the memory each row of a call needs while the network runs on it:
// every layer's activations (and the output gradient) for a forward pass, and the gradients of
// every layer's activations too when `training`. A call of N rows needs N times this.
int64_t ActivationBytesPerRow(const ModelSpec& spec, bool training);

// ModelStateBytes is what a model of `spec` keeps between calls, known before it is built: its
// parameters and its optimizer state (sgd none, momentum one copy, adam two), as float32.
int64_t ModelStateBytes(const ModelSpec& spec);

}  // namespace mlpd

#endif  // MLPD_CORE_MODEL_H_
