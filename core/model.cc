#include "core/model.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "core/finite.h"
#include "core/initializer.h"
#include "core/loss.h"
#include "core/onednn_plan.h"
#include "core/optimizer.h"
#include "core/plan_cache.h"
#include "core/status_macros.h"
#include "core/thread_choice.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace mlpd {
namespace {

// Below this many multiply-adds per forward pass a batch runs on one thread: forking costs
// more than the second core gives (the 16-64-64-1 b32 step has 166K). From it, ThreadChoice
// measures one thread against all of the caller's and runs the faster (the practical's step
// has 40M, 784-256-256-10 b128 34M).
constexpr int64_t kParallelMacs = int64_t{1} << 22;

// Batch sizes whose thread choice a model remembers (a training batch, its partial last batch,
// evaluation chunks), beyond which the oldest is forgotten.
constexpr size_t kRememberedBatchSizes = 4;

// GradientScratch is the calling thread's buffer for one step's gradients, shared by all
// models on the thread so that an idle model holds no gradient memory.
float* GradientScratch(int64_t count) {
  thread_local std::vector<float> scratch;
  if (static_cast<int64_t>(scratch.size()) < count) scratch.resize(count);
  return scratch.data();
}

// ScopedThreads sets the calling thread's OpenMP team size for oneDNN and restores it, so the
// model's choice does not leak into the caller.
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads) : previous_(omp_get_max_threads()) {
    if (threads != previous_) omp_set_num_threads(threads);
  }
  ~ScopedThreads() {
    if (omp_get_max_threads() != previous_) omp_set_num_threads(previous_);
  }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  const int previous_;
};

// ValidateShape checks x's shape and pointer, ValidateValues its values; ValidateInput both.
absl::Status ValidateShape(const ModelSpec& spec, MatrixView x) {
  if (x.rows < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("x.shape[0] is %d, expected at least 1 row", x.rows));
  }
  if (x.cols != spec.input_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "x.shape[1] is %d, the session's input size is %d", x.cols, spec.input_size));
  }
  if (x.data == nullptr) return absl::InvalidArgumentError("x has no data");
  return absl::OkStatus();
}

absl::Status ValidateValues(MatrixView x) {
  return CheckAllFinite("x", x.data, x.rows * x.cols, x.cols);
}

absl::Status ValidateInput(const ModelSpec& spec, MatrixView x) {
  MLPD_RETURN_IF_ERROR(ValidateShape(spec, x));
  return ValidateValues(x);
}

absl::Status FromOnednnError(const dnnl::error& error, absl::string_view what) {
  if (error.status == dnnl_out_of_memory) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("out of memory %s: %s", what, error.what()));
  }
  return absl::InternalError(absl::StrFormat("oneDNN failed %s: %s", what, error.what()));
}

class MlpModel final : public Model {
 public:
  explicit MlpModel(ModelSpec spec)
      : spec_(std::move(spec)),
        parameter_count_(ParameterCount(spec_)),
        optimizer_(spec_.optimizer, parameter_count_),
        macs_per_row_(MacsPerRow(spec_)),
        shape_key_(PlanCache::ShapeKey(spec_)),
        parameters_(InitialParameters(spec_)),
        state_(optimizer_.state_size(), 0.0f) {}

  const ModelSpec& spec() const override { return spec_; }

  absl::StatusOr<float> TrainStep(MatrixView x, TargetsView y) override {
    MLPD_RETURN_IF_ERROR(ValidateShape(spec_, x));
    if (step_count_ >= kMaxCounter || samples_seen_ > kMaxCounter - x.rows) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the model is at step %d with %d samples seen; a step of %d rows would pass the "
          "counters' limit of %d, so it was not applied",
          step_count_, samples_seen_, x.rows, kMaxCounter));
    }
    if (absl::Status targets = ValidateTargets(spec_, x.rows, y, TargetUse::kTraining);
        !targets.ok()) {
      MLPD_RETURN_IF_ERROR(ValidateValues(x));  // A bad x is named first.
      return targets;
    }
    absl::StatusOr<float> loss = TrainStepGuarded(x, y);
    // x's values are checked only when the step failed: a non-finite x always fails it, since
    // every x[r][i] is a term of the first layer's weight gradient column i, which IEEE then
    // makes inf or NaN (inf * 0 is NaN), and the optimizer refuses non-finite results. The
    // check names the bad value instead of its consequence. Scanning every batch first took
    // 7% of the practical's step.
    if (!loss.ok()) MLPD_RETURN_IF_ERROR(ValidateValues(x));
    return loss;
  }

  using Model::Evaluate;
  using Model::Predict;

  absl::Status Predict(MatrixView x, Matrix* outputs, const ChunkControl& control) override {
    MLPD_RETURN_IF_ERROR(ValidateInput(spec_, x));
    if (outputs == nullptr) return absl::InvalidArgumentError("outputs is null");
    const int64_t out = spec_.output_size();
    try {
      std::vector<float> data(x.rows * out);
      MLPD_RETURN_IF_ERROR(ForwardInChunks(x, control, [&](MatrixView chunk, int64_t first) {
        std::copy_n(chunk.data, chunk.rows * out, data.data() + first * out);
      }));
      if (spec_.loss.kind == LossKind::kCrossEntropy) SoftmaxRows(data.data(), x.rows, out);
      outputs->rows = x.rows;
      outputs->cols = out;
      outputs->data = std::move(data);
      return absl::OkStatus();
    } catch (const dnnl::error& error) {
      return FromOnednnError(error, "in predict");
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("out of memory predicting %d rows", x.rows));
    }
  }

  absl::StatusOr<Evaluation> Evaluate(MatrixView x, TargetsView y,
                                      const ChunkControl& control) override {
    MLPD_RETURN_IF_ERROR(ValidateInput(spec_, x));
    MLPD_RETURN_IF_ERROR(ValidateTargets(spec_, x.rows, y, TargetUse::kEvaluation));
    const int64_t out = spec_.output_size();
    Evaluation evaluation;
    evaluation.count = x.rows;
    evaluation.has_error_rate = HasErrorRate(spec_.loss.kind, y);
    try {
      double loss_sum = 0.0;
      int64_t errors = 0;
      MLPD_RETURN_IF_ERROR(ForwardInChunks(x, control, [&](MatrixView chunk, int64_t first) {
        loss_sum += LossSum(spec_.loss.kind, chunk, y, first, nullptr, 0.0);
        if (evaluation.has_error_rate) errors += CountErrors(spec_.loss.kind, chunk, y, first);
      }));
      evaluation.loss = loss_sum / LossNormalizer(spec_.loss, x.rows, out);
      evaluation.error_rate =
          evaluation.has_error_rate ? static_cast<double>(errors) / x.rows : 0.0;
      return evaluation;
    } catch (const dnnl::error& error) {
      return FromOnednnError(error, "in evaluate");
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("out of memory evaluating %d rows", x.rows));
    }
  }

  int64_t parameter_count() const override { return parameter_count_; }
  std::vector<float> GetParameters() const override { return parameters_; }
  bool ParametersFinite() const {
    return FirstNonFinite(parameters_.data(), static_cast<int64_t>(parameters_.size())) < 0;
  }

  absl::Status SetParameters(absl::Span<const float> parameters) override {
    MLPD_RETURN_IF_ERROR(CheckFiniteBlock("parameters", parameters, parameter_count_));
    std::copy(parameters.begin(), parameters.end(), parameters_.begin());
    return absl::OkStatus();
  }

  int64_t optimizer_state_size() const override { return optimizer_.state_size(); }
  std::vector<float> GetOptimizerState() const override { return state_; }

  absl::Status SetOptimizerState(absl::Span<const float> state) override {
    MLPD_RETURN_IF_ERROR(CheckFiniteBlock("optimizer_state", state, optimizer_.state_size()));
    if (spec_.optimizer.kind == OptimizerKind::kAdam) {
      // The second moment is an average of squares: a negative value would make sqrt NaN.
      for (int64_t i = parameter_count_; i < 2 * parameter_count_; ++i) {
        if (state[i] < 0.0f) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "optimizer_state[%d] is %g, Adam's second moment must be >= 0", i, state[i]));
        }
      }
    }
    std::copy(state.begin(), state.end(), state_.begin());
    return absl::OkStatus();
  }

  int64_t step_count() const override { return step_count_; }
  int64_t samples_seen() const override { return samples_seen_; }
  float last_loss() const override { return last_loss_; }
  void SetCounters(int64_t step_count, int64_t samples_seen, float last_loss) override {
    step_count_ = step_count;
    samples_seen_ = samples_seen;
    last_loss_ = last_loss;
  }

  // ApproximateBytes counts what the model owns; plans and gradient scratch belong to the
  // calling thread and are shared by every model it runs.
  int64_t ApproximateBytes() const override {
    const int64_t floats = static_cast<int64_t>(parameters_.capacity() + state_.capacity());
    return static_cast<int64_t>(sizeof(*this)) + floats * 4 +
           static_cast<int64_t>(spec_.layers.capacity() * sizeof(LayerSpec));
  }

 private:
  static int64_t MacsPerRow(const ModelSpec& spec) {
    int64_t macs = 0;
    int64_t inputs = spec.input_size;
    for (const LayerSpec& layer : spec.layers) {
      macs += inputs * layer.units;
      inputs = layer.units;
    }
    return macs;
  }

  bool Splittable(int64_t rows) const {
    return omp_get_max_threads() > 1 && macs_per_row_ * rows >= kParallelMacs;
  }

  // ChoiceFor is the thread choice of training batches of `rows` rows, or null when they are too
  // small to split or the caller allows one thread.
  ThreadChoice* ChoiceFor(int64_t rows) {
    if (!Splittable(rows)) return nullptr;
    for (auto& [remembered_rows, choice] : thread_choices_) {
      if (remembered_rows == rows) return &choice;
    }
    if (thread_choices_.size() == kRememberedBatchSizes) {
      thread_choices_.erase(thread_choices_.begin());
    }
    thread_choices_.emplace_back(rows, ThreadChoice());
    return &thread_choices_.back().second;
  }

  // ThreadsFor is the thread count of a forward pass over `rows` rows (predict, evaluate): what
  // training found faster at that batch size, else at the latest one trained.
  int ThreadsFor(int64_t rows) const {
    if (!Splittable(rows)) return 1;
    const int available = omp_get_max_threads();
    for (const auto& [remembered_rows, choice] : thread_choices_) {
      if (remembered_rows == rows) return choice.Preferred(available);
    }
    return thread_choices_.empty() ? available : thread_choices_.back().second.Preferred(available);
  }

  static absl::Status CheckFiniteBlock(absl::string_view name, absl::Span<const float> values,
                                       int64_t expected) {
    if (static_cast<int64_t>(values.size()) != expected) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s has %d values, expected %d", name, values.size(), expected));
    }
    return CheckAllFinite(name, values.data(), static_cast<int64_t>(values.size()), /*cols=*/0);
  }

  // ForwardInChunks runs the network on x, control.max_rows rows at a time (so any row count
  // fits the plans' buffers), and hands each chunk's outputs and first row to `consume`;
  // between chunks it stops when the caller no longer waits.
  template <typename Consume>
  absl::Status ForwardInChunks(MatrixView x, const ChunkControl& control, Consume&& consume) {
    if (control.max_rows < 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("chunks of %d rows; expected at least 1", control.max_rows));
    }
    const int64_t out = spec_.output_size();
    for (int64_t first = 0; first < x.rows; first += control.max_rows) {
      if (first > 0 && control.cancelled && control.cancelled()) {
        return absl::CancelledError(
            absl::StrFormat("the caller stopped waiting after %d of %d rows", first, x.rows));
      }
      const int64_t rows = std::min(control.max_rows, x.rows - first);
      const int thread_count = ThreadsFor(rows);
      ScopedThreads threads(thread_count);
      MLPD_ASSIGN_OR_RETURN(OnednnPlan * plan, GetPlan(rows, thread_count));
      plan->Forward(PlanCache::ForThisThread().stream(), x.data + first * x.cols,
                    parameters_.data());
      consume(MatrixView{plan->outputs(), rows, out}, first);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<OnednnPlan*> GetPlan(int64_t rows, int threads) {
    return PlanCache::ForThisThread().Get(spec_, shape_key_, rows, threads);
  }

  // TrainStepGuarded runs the step on a checked shape and targets, turning oneDNN's and the
  // allocator's exceptions into statuses.
  absl::StatusOr<float> TrainStepGuarded(MatrixView x, TargetsView y) {
    ThreadChoice* choice = ChoiceFor(x.rows);
    const int thread_count = choice != nullptr ? choice->Next(omp_get_max_threads()) : 1;
    ScopedThreads threads(thread_count);
    try {
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<float> loss = TrainStepUnchecked(x, y, thread_count);
      if (choice != nullptr) {
        choice->Record(
            thread_count,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      return loss;
    } catch (const dnnl::error& error) {
      return FromOnednnError(error, "in a training step");
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("out of memory in a training step of %d rows", x.rows));
    }
  }

  absl::StatusOr<float> TrainStepUnchecked(MatrixView x, TargetsView y, int threads) {
    MLPD_ASSIGN_OR_RETURN(OnednnPlan * plan, GetPlan(x.rows, threads));
    plan->Forward(PlanCache::ForThisThread().stream(), x.data, parameters_.data());

    const int64_t out = spec_.output_size();
    const double scale = 1.0 / LossNormalizer(spec_.loss, x.rows, out);
    const double loss_sum = LossSum(spec_.loss.kind, MatrixView{plan->outputs(), x.rows, out}, y, 0,
                                    plan->output_gradient(), scale);
    const float loss = static_cast<float>(loss_sum * scale);
    if (!std::isfinite(loss)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the batch loss is %g; the step was not applied (the model keeps its parameters)", loss));
    }

    float* gradients = GradientScratch(parameter_count_);
    plan->Backward(PlanCache::ForThisThread().stream(), x.data, parameters_.data(), gradients);
    if (!optimizer_.Step(parameters_.data(), gradients, state_.data(), step_count_ + 1, threads)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the %s step (learning rate %g) made a parameter or optimizer state non-finite; the "
          "step was not applied (the model keeps its parameters)",
          OptimizerKindName(spec_.optimizer.kind), spec_.optimizer.learning_rate));
    }
    ++step_count_;
    samples_seen_ += x.rows;
    last_loss_ = loss;
    return loss;
  }

  // Constant after construction.
  const ModelSpec spec_;
  const int64_t parameter_count_;
  const Optimizer optimizer_;
  const int64_t macs_per_row_;
  const std::string shape_key_;

  std::vector<float> parameters_;
  std::vector<float> state_;
  int64_t step_count_ = 0;
  int64_t samples_seen_ = 0;
  float last_loss_ = 0.0f;
  std::vector<std::pair<int64_t, ThreadChoice>> thread_choices_;  // By batch rows.
};

}  // namespace

int64_t ActivationBytesPerRow(const ModelSpec& spec, bool training) {
  // OnednnPlan keeps each layer's dst and the last layer's dst_gradient; training adds a
  // dst_gradient for every other layer.
  int64_t units = 0;
  for (const LayerSpec& layer : spec.layers) units += layer.units;
  const int64_t gradients = training ? units : spec.output_size();
  return (units + gradients) * static_cast<int64_t>(sizeof(float));
}

int64_t ModelStateBytes(const ModelSpec& spec) {
  const int64_t parameters = ParameterCount(spec);
  const Optimizer optimizer(spec.optimizer, parameters);
  return (parameters + optimizer.state_size()) * static_cast<int64_t>(sizeof(float));
}

absl::StatusOr<std::unique_ptr<Model>> Model::Create(const ModelSpec& spec) {
  ModelSpec filled = WithDefaults(spec);
  MLPD_RETURN_IF_ERROR(ValidateModelSpec(filled));
  const int64_t parameter_count = ParameterCount(filled);
  try {
    auto model = std::make_unique<MlpModel>(std::move(filled));
    // A scale near float's limit draws infinite weights: a session that could not predict,
    // train or be saved and loaded again.
    if (!model->ParametersFinite()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("spec.init.scale is %g; %s init at that scale draws weights that are "
                          "not finite",
                          model->spec().init.scale, InitKindName(model->spec().init.kind)));
    }
    return std::unique_ptr<Model>(std::move(model));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("out of memory allocating %d parameters", parameter_count));
  }
}

}  // namespace mlpd
