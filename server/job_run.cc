#include "server/job_run.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "server/wire.h"

namespace mlpd {

bool EarlyStoppingState::Add(const v1::JobEval& eval, double min_delta) {
  if (!has_best || eval.result().loss() < best_loss - min_delta) {
    has_best = true;
    best_loss = eval.result().loss();
    best_step = eval.step();
    evals_since_best = 0;
    return true;
  }
  ++evals_since_best;
  return false;
}

int64_t JobRun::StepsTotal(const v1::TrainRequest& request, int64_t rows) {
  return request.epochs() * BatchIterator::BatchesPerEpoch(rows, request.batch_size());
}

int64_t JobRun::MemoryBytes(const v1::TrainRequest& request, const Dataset& train,
                            int64_t parameters) {
  int64_t bytes = request.keep_best() ? parameters * static_cast<int64_t>(sizeof(float)) : 0;
  if (!request.shuffle()) return bytes;  // Batches are views of the dataset.
  const int64_t rows = train.rows();
  const int64_t batch_rows =
      request.batch_size() <= 0 ? rows : std::min(request.batch_size(), rows);
  const int64_t row_bytes =
      train.x.cols * static_cast<int64_t>(sizeof(float)) +
      (train.has_labels ? static_cast<int64_t>(sizeof(int32_t))
                        : train.targets.cols * static_cast<int64_t>(sizeof(float)));
  return bytes + rows * static_cast<int64_t>(sizeof(int64_t)) + batch_rows * row_bytes;
}

int64_t JobRun::HeldBytes() const {
  return batches_.HeldBytes() +
         static_cast<int64_t>(best_parameters_.capacity() * sizeof(best_parameters_[0]));
}

JobRun::JobRun(const v1::TrainRequest& request, const Dataset& train, const Dataset* eval,
               int64_t steps_done, std::vector<v1::JobEval> evals)
    : request_(request),
      train_(train),
      eval_dataset_(eval),
      batches_per_epoch_(BatchIterator::BatchesPerEpoch(train.rows(), request.batch_size())),
      steps_total_(StepsTotal(request, train.rows())),
      batches_(train, request.batch_size(), request.shuffle(), request.seed()),
      steps_done_(steps_done),
      evals_(std::move(evals)),
      report_start_(absl::Now()),
      start_(report_start_) {
  if (batches_per_epoch_ > 0 && steps_done_ < steps_total_) {
    batches_.Seek(steps_done_ / batches_per_epoch_, steps_done_ % batches_per_epoch_);
  }
  const int64_t patience = request_.early_stopping().patience();
  for (const v1::JobEval& recorded : evals_) {
    early_stopping_.Add(recorded, request_.early_stopping().min_delta());
    last_eval_step_ = recorded.step();
  }
  early_stopped_ = patience > 0 && early_stopping_.evals_since_best >= patience;
}

int64_t JobRun::epoch() const {
  if (batches_per_epoch_ <= 0 || steps_done_ == 0) return 1;
  return (steps_done_ - 1) / batches_per_epoch_ + 1;
}

void JobRun::SetBestParameters(int64_t step, std::vector<float> parameters) {
  if (!early_stopping_.has_best || early_stopping_.best_step != step) return;
  best_parameters_ = std::move(parameters);
  best_parameters_step_ = step;
}

absl::StatusOr<v1::JobEval> JobRun::Evaluate(Model& model) {
  absl::StatusOr<Evaluation> evaluation =
      model.Evaluate(eval_dataset_->x.view(), eval_dataset_->targets_view(), evaluation_chunks_);
  if (!evaluation.ok()) {
    return absl::Status(
        evaluation.status().code(),
        absl::StrFormat("evaluation on \"%s\" at step %d: %s", request_.eval_dataset(),
                        model.step_count(), evaluation.status().message()));
  }
  v1::JobEval eval;
  eval.set_step(model.step_count());
  WriteEvaluation(*evaluation, eval.mutable_result());
  return eval;
}

bool JobRun::Record(const v1::JobEval& eval, Model& model) {
  evals_.push_back(eval);
  last_eval_step_ = eval.step();
  const bool best = early_stopping_.Add(eval, request_.early_stopping().min_delta());
  if (best && request_.keep_best()) {
    best_parameters_ = model.GetParameters();
    best_parameters_step_ = eval.step();
  }
  const int64_t patience = request_.early_stopping().patience();
  if (patience > 0 && early_stopping_.evals_since_best >= patience) early_stopped_ = true;
  return best;
}

v1::TrainProgress JobRun::MakeReport(Model& model, const std::optional<v1::JobEval>& eval) {
  v1::TrainProgress progress;
  progress.set_epoch(epoch());
  progress.set_step(model.step_count());
  progress.set_steps_done(steps_done_);
  progress.set_steps_total(steps_total_);
  progress.set_loss(loss_since_report_ / static_cast<double>(steps_since_report_));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - report_start_);
  progress.set_samples_per_second(seconds > 0 ? samples_since_report_ / seconds : 0.0);
  if (eval.has_value()) *progress.mutable_eval() = eval->result();
  return progress;
}

absl::StatusOr<JobRun::StepResult> JobRun::Step(Model& model) {
  if (over()) return absl::InternalError("JobRun::Step called on a run that is over");
  MatrixView x;
  TargetsView y;
  if (!batches_.Next(&x, &y)) {
    batches_.Reset();
    if (!batches_.Next(&x, &y)) {
      return absl::InternalError("the dataset ran out of batches before the epoch ended");
    }
  }
  absl::StatusOr<float> loss = model.TrainStep(x, y);
  if (!loss.ok()) {
    return absl::Status(
        loss.status().code(),
        absl::StrFormat("step %d of %d (epoch %d): %s", steps_done_ + 1, steps_total_,
                        steps_done_ / batches_per_epoch_ + 1, loss.status().message()));
  }
  ++steps_done_;
  ++steps_since_report_;
  samples_since_report_ += x.rows;
  loss_since_report_ += *loss;

  StepResult result;
  const bool epoch_ended = steps_done_ % batches_per_epoch_ == 0;
  const int64_t report_every = request_.report_every_steps();
  bool report = report_every > 0 ? steps_done_ % report_every == 0 : epoch_ended;
  const int64_t eval_every = request_.eval_every_steps();
  const bool evaluate =
      eval_dataset_ != nullptr && (eval_every > 0 ? steps_done_ % eval_every == 0 : report);
  if (evaluate) {
    // Throughput is training's: the evaluation's time is left out of the report.
    const absl::Time eval_start = absl::Now();
    absl::StatusOr<v1::JobEval> eval = Evaluate(model);
    // The step stays applied; the caller sees why it stopped waiting at its next check.
    if (absl::IsCancelled(eval.status())) return result;
    if (!eval.ok()) return eval.status();
    report_start_ += absl::Now() - eval_start;
    result.eval = *eval;
    result.new_best = Record(*eval, model);
    report = true;  // Every evaluation is reported, so the curve shows it.
  }
  if (report) {
    result.report = MakeReport(model, result.eval);
    steps_since_report_ = 0;
    samples_since_report_ = 0;
    loss_since_report_ = 0;
    report_start_ = absl::Now();
  }
  return result;
}

absl::StatusOr<v1::TrainSummary> JobRun::Finish(Model& model) {
  v1::TrainSummary summary;
  if (eval_dataset_ != nullptr && last_eval_step_ != model.step_count()) {
    absl::StatusOr<v1::JobEval> eval = Evaluate(model);
    if (!eval.ok()) return eval.status();
    Record(*eval, model);
  }
  summary.set_steps(steps_done_);
  summary.set_epochs(batches_per_epoch_ > 0 ? steps_done_ / batches_per_epoch_ : 0);
  summary.set_step(model.step_count());
  summary.set_last_loss(model.last_loss());
  summary.set_seconds(absl::ToDoubleSeconds(absl::Now() - start_));
  summary.set_stop_reason(early_stopped_ && steps_done_ < steps_total_
                              ? v1::STOP_REASON_EARLY_STOPPED
                              : v1::STOP_REASON_COMPLETED);
  summary.set_kept_step(model.step_count());
  const v1::JobEval* shown = evals_.empty() ? nullptr : &evals_.back();
  if (early_stopping_.has_best) {
    for (const v1::JobEval& eval : evals_) {
      if (eval.step() != early_stopping_.best_step) continue;
      *summary.mutable_best() = eval;
      break;
    }
    if (request_.keep_best() && best_parameters_step_ == early_stopping_.best_step &&
        best_parameters_step_ != model.step_count()) {
      absl::Status restored = model.SetParameters(best_parameters_);
      if (!restored.ok()) return restored;
      summary.set_kept_step(best_parameters_step_);
    }
  }
  // The evaluation shown is the kept parameters' one.
  for (const v1::JobEval& eval : evals_) {
    if (eval.step() == summary.kept_step()) shown = &eval;
  }
  if (shown != nullptr) *summary.mutable_eval() = shown->result();
  return summary;
}

}  // namespace mlpd
