// job_run.h: one training run walked a mini-batch at a time, as Train and jobs run it.
//
// A JobRun holds everything about a run that is not the model: where it is (epoch, batch), its
// reports, its evaluations, early stopping and the best parameters for keep_best. The caller
// (on the compute executor) calls Step once per executor item, so other sessions' work runs
// between mini-batches, and Finish once Step says the run is over. No gRPC here.
//
// Resume: a run built with steps_done > 0 and the evaluations recorded up to then starts at the
// same mini-batch, with the same early-stopping state, as the run that stopped there: the epoch
// order depends only on (seed, epoch) (EpochOrder), and the model's snapshot holds the rest.
//
//   JobRun run(request, train, eval, /*steps_done=*/0, /*evals=*/{});
//   while (!run.over()) {
//     MLPD_ASSIGN_OR_RETURN(JobRun::StepResult result, run.Step(model));
//     if (result.report) Publish(*result.report);
//   }
//   MLPD_ASSIGN_OR_RETURN(v1::TrainSummary summary, run.Finish(model));
#ifndef MLPD_SERVER_JOB_RUN_H_
#define MLPD_SERVER_JOB_RUN_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/dataset.h"
#include "core/model.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

// EarlyStoppingState is what the run's evaluations so far say (the rule of
// mlpd.v1.EarlyStopping): the best evaluation and how many came after it without improving.
struct EarlyStoppingState {
  bool has_best = false;
  double best_loss = 0;
  int64_t best_step = 0;
  int64_t evals_since_best = 0;

  // Add folds in one evaluation; returns true when it is the new best.
  bool Add(const v1::JobEval& eval, double min_delta);
};

class JobRun {
 public:
  // StepResult is what one Step produced besides the applied step.
  struct StepResult {
    std::optional<v1::TrainProgress> report;  // A report is due (with the evaluation, if any).
    std::optional<v1::JobEval> eval;          // The run evaluated after this step.
    bool new_best = false;                    // That evaluation is the best so far.
  };

  // `train` (and `eval`, null when the request has none) must outlive the run. `steps_done`
  // steps of the run were applied already (a resume); `evals` are the run's evaluations up to
  // then (later ones are dropped: they will be redone).
  JobRun(const v1::TrainRequest& request, const Dataset& train, const Dataset* eval,
         int64_t steps_done, std::vector<v1::JobEval> evals);

  // StepsTotal is the steps a run of `request` over `rows` rows applies when it runs every epoch.
  static int64_t StepsTotal(const v1::TrainRequest& request, int64_t rows);
  // MemoryBytes is the most memory a run of `request` over `train` holds besides the model and
  // the datasets, for a model of `parameters` parameters: the shuffle order (8 bytes a row) and
  // the gathered mini-batch when shuffling, keep_best's copy of the parameters. Known before the
  // run allocates any of it, so a run that does not fit is refused first.
  static int64_t MemoryBytes(const v1::TrainRequest& request, const Dataset& train,
                             int64_t parameters);
  // HeldBytes is what the run holds now of what MemoryBytes bounds.
  int64_t HeldBytes() const;

  // Step applies the next mini-batch to `model` (whose step count it reads for reports). On
  // error (a non-finite step) nothing was applied and the message says which step.
  absl::StatusOr<StepResult> Step(Model& model);
  // over is true once every step ran or early stopping stopped the run.
  bool over() const { return steps_done_ >= steps_total_ || early_stopped_; }

  // Finish evaluates once more (unless the last step just did), puts back the best parameters
  // for keep_best and describes the run. Call once, when over() (or to end a run early).
  absl::StatusOr<v1::TrainSummary> Finish(Model& model);

  // The best evaluation's parameters, for keep_best: set by Step when it finds a new best; the
  // caller keeps them durable and hands them back to a resumed run with SetBestParameters.
  const std::vector<float>& best_parameters() const { return best_parameters_; }
  // SetEvaluationChunks sets how the run's evaluations go through the network: the session's
  // chunks (Session::Chunks), so they keep to its activation bound and stop when asked. An
  // evaluation stopped that way is skipped; the caller ends the run at its next check.
  void SetEvaluationChunks(ChunkControl chunks) { evaluation_chunks_ = std::move(chunks); }
  // SetBestParameters gives a resumed run the parameters saved at session step `step`; ignored
  // unless that step is its best evaluation's.
  void SetBestParameters(int64_t step, std::vector<float> parameters);

  int64_t steps_done() const { return steps_done_; }
  int64_t steps_total() const { return steps_total_; }
  // epoch is the 1-based epoch of the last step applied (1 before any): where a run that stops
  // now, early or cancelled, ended, and the epoch of its latest report.
  int64_t epoch() const;
  const std::vector<v1::JobEval>& evals() const { return evals_; }
  const EarlyStoppingState& early_stopping() const { return early_stopping_; }

 private:
  absl::StatusOr<v1::JobEval> Evaluate(Model& model);
  // Record adds an evaluation to the run's state; returns true when it is the new best.
  bool Record(const v1::JobEval& eval, Model& model);
  v1::TrainProgress MakeReport(Model& model, const std::optional<v1::JobEval>& eval);

  const v1::TrainRequest request_;
  const Dataset& train_;
  const Dataset* const eval_dataset_;
  const int64_t batches_per_epoch_;
  const int64_t steps_total_;

  BatchIterator batches_;
  int64_t steps_done_;
  std::vector<v1::JobEval> evals_;
  EarlyStoppingState early_stopping_;
  bool early_stopped_ = false;
  std::vector<float> best_parameters_;
  int64_t best_parameters_step_ = -1;  // Session step of best_parameters_; -1: none held.

  // Since the previous report.
  int64_t steps_since_report_ = 0;
  int64_t samples_since_report_ = 0;
  double loss_since_report_ = 0;
  absl::Time report_start_;
  absl::Time start_;
  int64_t last_eval_step_ = -1;  // Session step of the latest evaluation.
  ChunkControl evaluation_chunks_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_JOB_RUN_H_
