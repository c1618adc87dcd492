// Tests of JobRun: the steps and reports of a run, a resumed run that ends bit-identical to an
// uninterrupted one wherever it was stopped, early stopping and keep_best.
#include "server/job_run.h"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "core/checkpoint.h"
#include "core/model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

ModelSpec AdamSpec() {
  ModelSpec spec;
  spec.input_size = 4;
  spec.layers = {{8, Activation::kTanh}, {3, Activation::kIdentity}};
  spec.loss = {LossKind::kCrossEntropy, Reduction::kMean};
  spec.optimizer.kind = OptimizerKind::kAdam;
  spec.optimizer.learning_rate = 0.05f;
  spec.init = {InitKind::kXavier, 0.0f, /*seed=*/3};
  return WithDefaults(spec);
}

// Labelled has labels that a small MLP can partly learn from x (the class of the largest of
// the first three inputs), flipped for `flipped` of the rows.
Dataset Labelled(int64_t rows, uint64_t seed, double flipped = 0.0) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  Dataset dataset;
  dataset.x = Matrix{rows, 4, std::vector<float>(static_cast<size_t>(rows * 4))};
  for (float& value : dataset.x.data) value = uniform(generator);
  dataset.has_labels = true;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = dataset.x.data.data() + r * 4;
    int32_t label = row[0] > row[1] ? (row[0] > row[2] ? 0 : 2) : (row[1] > row[2] ? 1 : 2);
    if (coin(generator) < flipped) label = (label + 1) % 3;
    dataset.labels.push_back(label);
  }
  return dataset;
}

v1::TrainRequest Request(int64_t epochs, int64_t batch_size) {
  v1::TrainRequest request;
  request.set_name("s");
  request.set_dataset("train");
  request.set_epochs(epochs);
  request.set_batch_size(batch_size);
  request.set_shuffle(true);
  request.set_seed(99);
  return request;
}

// Rotated has the rows of `train` with every label moved to the next class: learning the train
// set makes the loss on it worse.
Dataset Rotated(const Dataset& train) {
  Dataset rotated = train;
  for (int32_t& label : rotated.labels) label = (label + 1) % 3;
  return rotated;
}

v1::TrainRequest EvalEveryTwoSteps(v1::TrainRequest request) {
  request.set_eval_dataset("eval");
  request.set_eval_every_steps(2);
  return request;
}

std::unique_ptr<Model> NewModel() {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(AdamSpec());
  EXPECT_TRUE(model.ok()) << model.status();
  return std::move(*model);
}

// RunToEnd steps `run` until it is over, then finishes it.
v1::TrainSummary RunToEnd(JobRun& run, Model& model,
                          std::vector<v1::TrainProgress>* reports = nullptr) {
  while (!run.over()) {
    absl::StatusOr<JobRun::StepResult> result = run.Step(model);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) break;
    if (result->report && reports != nullptr) reports->push_back(*result->report);
  }
  absl::StatusOr<v1::TrainSummary> summary = run.Finish(model);
  EXPECT_TRUE(summary.ok()) << summary.status();
  return summary.ok() ? *summary : v1::TrainSummary();
}

std::string NativeBytes(const Model& model) {
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(model);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  return checkpoint->SerializeAsString();
}

TEST(JobRunTest, RunsEveryEpochAndReportsOncePerEpoch) {
  const Dataset train = Labelled(50, 1);
  const Dataset eval = Labelled(30, 2);
  v1::TrainRequest request = Request(3, 8);  // 7 batches an epoch, the last of 2 rows.
  request.set_eval_dataset("eval");
  std::unique_ptr<Model> model = NewModel();
  JobRun run(request, train, &eval, 0, {});
  EXPECT_EQ(run.steps_total(), 21);
  std::vector<v1::TrainProgress> reports;
  const v1::TrainSummary summary = RunToEnd(run, *model, &reports);
  ASSERT_EQ(reports.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reports[i].epoch(), i + 1);
    EXPECT_EQ(reports[i].steps_done(), 7 * (i + 1));
    EXPECT_EQ(reports[i].step(), 7 * (i + 1));
    EXPECT_TRUE(reports[i].has_eval());
    EXPECT_GT(reports[i].loss(), 0.0f);
  }
  EXPECT_EQ(summary.steps(), 21);
  EXPECT_EQ(summary.epochs(), 3);
  EXPECT_EQ(summary.step(), 21);
  EXPECT_EQ(summary.stop_reason(), v1::STOP_REASON_COMPLETED);
  EXPECT_EQ(summary.kept_step(), 21);
  EXPECT_EQ(run.evals().size(), 3u);  // The last report's evaluation is the final one.
  EXPECT_EQ(model->samples_seen(), 150);
}

TEST(JobRunTest, EvaluationsOnTheirOwnIntervalAreReportedToo) {
  const Dataset train = Labelled(40, 1);
  const Dataset eval = Labelled(20, 2);
  v1::TrainRequest request = Request(1, 4);  // 10 steps.
  request.set_eval_dataset("eval");
  request.set_eval_every_steps(3);
  request.set_report_every_steps(5);
  std::unique_ptr<Model> model = NewModel();
  JobRun run(request, train, &eval, 0, {});
  std::vector<v1::TrainProgress> reports;
  RunToEnd(run, *model, &reports);
  std::vector<int64_t> report_steps, eval_steps;
  for (const v1::TrainProgress& report : reports) {
    report_steps.push_back(report.steps_done());
    if (report.has_eval()) eval_steps.push_back(report.steps_done());
  }
  EXPECT_THAT(report_steps, ::testing::ElementsAre(3, 5, 6, 9, 10));
  EXPECT_THAT(eval_steps, ::testing::ElementsAre(3, 6, 9));
  ASSERT_EQ(run.evals().size(), 4u);  // And the final one, at step 10.
  EXPECT_EQ(run.evals().back().step(), 10);
}

// Evaluations go through the network in the session's chunks (its activation bound), asking
// between chunks whether the caller still waits; a stopped evaluation leaves the step applied.
TEST(JobRunTest, EvaluationsRunInTheGivenChunksAndStopWhenAsked) {
  const Dataset train = Labelled(40, 1);
  const Dataset eval = Labelled(30, 2);
  v1::TrainRequest request = Request(1, 10);  // 4 steps.
  request.set_eval_dataset("eval");
  request.set_eval_every_steps(2);
  std::unique_ptr<Model> model = NewModel();
  JobRun run(request, train, &eval, 0, {});
  int asked = 0;
  bool stop = false;
  run.SetEvaluationChunks(ChunkControl{/*max_rows=*/7, [&] {
                                         ++asked;
                                         return stop;
                                       }});
  ASSERT_TRUE(run.Step(*model).ok());
  EXPECT_EQ(asked, 0);
  absl::StatusOr<JobRun::StepResult> evaluated = run.Step(*model);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  ASSERT_TRUE(evaluated->eval.has_value());
  EXPECT_EQ(asked, 4);  // 30 rows in chunks of 7: asked before each chunk after the first.
  absl::StatusOr<Evaluation> whole = model->Evaluate(eval.x.view(), eval.targets_view());
  ASSERT_TRUE(whole.ok());
  EXPECT_NEAR(evaluated->eval->result().loss(), whole->loss, 1e-6 * std::max(1.0, whole->loss));

  stop = true;
  ASSERT_TRUE(run.Step(*model).ok());
  absl::StatusOr<JobRun::StepResult> stopped = run.Step(*model);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_FALSE(stopped->eval.has_value());
  EXPECT_EQ(run.evals().size(), 1u);
  EXPECT_EQ(model->step_count(), 4);
}

// The resume property: stopped after any number of steps, snapshotted, restored into a fresh
// model and resumed with the evaluations recorded up to then, a run ends with the very bytes an
// uninterrupted run ends with.
TEST(JobRunTest, AResumedRunEndsBitIdenticalWhereverItStopped) {
  const Dataset train = Labelled(45, 5);  // 6 batches of 8 (the last 5) an epoch.
  const Dataset eval = Labelled(20, 6);
  v1::TrainRequest request = Request(3, 8);
  request.set_eval_dataset("eval");
  request.set_eval_every_steps(4);
  request.set_keep_best(true);
  request.mutable_early_stopping()->set_patience(50);

  std::unique_ptr<Model> whole = NewModel();
  JobRun uninterrupted(request, train, &eval, 0, {});
  const v1::TrainSummary expected = RunToEnd(uninterrupted, *whole);
  const std::string expected_bytes = NativeBytes(*whole);

  for (int64_t stop_after : {1, 5, 6, 7, 12, 17, 18}) {  // Mid-epoch and at epoch ends.
    std::unique_ptr<Model> first = NewModel();
    JobRun part(request, train, &eval, 0, {});
    for (int64_t i = 0; i < stop_after; ++i) ASSERT_TRUE(part.Step(*first).ok());
    absl::StatusOr<std::unique_ptr<Model>> restored = RestoreCheckpoint(*MakeCheckpoint(*first));
    ASSERT_TRUE(restored.ok());
    JobRun resumed(request, train, &eval, stop_after, part.evals());
    resumed.SetBestParameters(part.early_stopping().best_step, part.best_parameters());
    const v1::TrainSummary summary = RunToEnd(resumed, **restored);
    EXPECT_EQ(NativeBytes(**restored), expected_bytes) << "stopped after " << stop_after;
    EXPECT_EQ(summary.kept_step(), expected.kept_step()) << "stopped after " << stop_after;
    EXPECT_EQ(summary.best().result().loss(), expected.best().result().loss());
  }
}

TEST(JobRunTest, EarlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement) {
  const Dataset train = Labelled(60, 1);
  const Dataset eval = Rotated(train);
  v1::TrainRequest request = EvalEveryTwoSteps(Request(50, 10));
  request.mutable_early_stopping()->set_patience(3);
  std::unique_ptr<Model> model = NewModel();
  JobRun run(request, train, &eval, 0, {});
  const v1::TrainSummary summary = RunToEnd(run, *model);
  EXPECT_EQ(summary.stop_reason(), v1::STOP_REASON_EARLY_STOPPED);
  EXPECT_LT(summary.steps(), 300);
  // It stopped exactly `patience` evaluations after its best.
  EXPECT_EQ(summary.step(), summary.best().step() + 3 * 2);
  EXPECT_EQ(run.early_stopping().evals_since_best, 3);
  // Without keep_best the last parameters stay.
  EXPECT_EQ(summary.kept_step(), summary.step());

  // A resumed run whose evaluations already say "stop" is over at once.
  JobRun resumed(request, train, &eval, summary.steps(), run.evals());
  EXPECT_TRUE(resumed.over());
}

TEST(JobRunTest, ARunThatStopsEarlyAtAnEpochsEndIsInThatEpoch) {
  const Dataset train = Labelled(60, 1);  // 6 batches of 10 an epoch.
  const Dataset eval = Rotated(train);
  v1::TrainRequest request = Request(5, 10);
  request.set_eval_dataset("eval");  // Evaluated at each epoch's end.
  // No evaluation improves on the first by 1e9: the run stops after the second, at the end of
  // epoch 2.
  request.mutable_early_stopping()->set_patience(1);
  request.mutable_early_stopping()->set_min_delta(1e9);
  std::unique_ptr<Model> model = NewModel();
  JobRun run(request, train, &eval, 0, {});
  EXPECT_EQ(run.epoch(), 1);  // Before any step.
  std::vector<v1::TrainProgress> reports;
  const v1::TrainSummary summary = RunToEnd(run, *model, &reports);
  EXPECT_EQ(summary.stop_reason(), v1::STOP_REASON_EARLY_STOPPED);
  EXPECT_EQ(summary.steps(), 12);
  EXPECT_EQ(summary.epochs(), 2);
  EXPECT_EQ(run.epoch(), 2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports.back().epoch(), 2);

  // Mid-epoch, the epoch is the current one; at its last step, still that one.
  JobRun partial(Request(5, 10), train, nullptr, 0, {});
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(partial.Step(*model).ok());
  EXPECT_EQ(partial.epoch(), 2);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(partial.Step(*model).ok());
  EXPECT_EQ(partial.epoch(), 2);
  ASSERT_TRUE(partial.Step(*model).ok());
  EXPECT_EQ(partial.epoch(), 3);
}

TEST(JobRunTest, KeepBestPutsBackTheBestEvaluationsParameters) {
  const Dataset train = Labelled(60, 1);
  const Dataset eval = Rotated(train);
  v1::TrainRequest request = EvalEveryTwoSteps(Request(5, 10));
  request.set_keep_best(true);

  // The reference: the parameters at the best step, from a run stopped there.
  std::unique_ptr<Model> model = NewModel();
  JobRun run(request, train, &eval, 0, {});
  const v1::TrainSummary summary = RunToEnd(run, *model);
  ASSERT_TRUE(summary.has_best());
  ASSERT_LT(summary.best().step(), summary.step());  // Eval got worse, so the best is earlier.
  EXPECT_EQ(summary.kept_step(), summary.best().step());
  EXPECT_EQ(summary.eval().loss(), summary.best().result().loss());
  EXPECT_EQ(model->step_count(), summary.step());  // Counters stay those of the last step.

  std::unique_ptr<Model> reference = NewModel();
  JobRun prefix(request, train, &eval, 0, {});
  while (reference->step_count() < summary.best().step()) ASSERT_TRUE(prefix.Step(*reference).ok());
  EXPECT_EQ(model->GetParameters(), reference->GetParameters());
}

TEST(JobRunTest, ANonFiniteStepIsRefusedNamingTheStep) {
  ModelSpec spec;
  spec.input_size = 2;
  spec.layers = {{1, Activation::kIdentity}};
  spec.loss = {LossKind::kMse, Reduction::kSum};
  spec.optimizer.kind = OptimizerKind::kSgd;
  spec.optimizer.learning_rate = 0.1f;
  spec.init = {InitKind::kNormal, 1.0f, /*seed=*/1};
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(WithDefaults(spec));
  ASSERT_TRUE(model.ok());
  Dataset train;
  train.x = Matrix{2, 2, {3e37f, -3e37f, 1.0f, 1.0f}};  // The first row's loss overflows.
  train.targets = Matrix{2, 1, {0.0f, 0.0f}};
  v1::TrainRequest request = Request(1, 1);
  request.set_shuffle(false);
  JobRun run(request, train, nullptr, 0, {});
  absl::StatusOr<JobRun::StepResult> result = run.Step(**model);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("step 1 of 2"));
  EXPECT_EQ(run.steps_done(), 0);
  EXPECT_EQ((*model)->step_count(), 0);
}

// MemoryBytes, known before the run allocates anything, bounds what the run then holds: the
// shuffle order, the gathered mini-batch and keep_best's parameters; an unshuffled run without
// keep_best holds nothing (its batches are views of the dataset).
TEST(JobRunTest, MemoryBytesBoundsWhatTheRunHolds) {
  const Dataset train = Labelled(1000, 1);
  const Dataset eval = Labelled(50, 2);
  std::unique_ptr<Model> model = NewModel();
  const int64_t parameters = ParameterCount(AdamSpec());
  v1::TrainRequest request = EvalEveryTwoSteps(Request(2, 64));
  request.set_keep_best(true);
  const int64_t bound = JobRun::MemoryBytes(request, train, parameters);
  // The order (8 bytes a row), 64 rows of 4 floats and a label, the kept parameters.
  EXPECT_EQ(bound, 1000 * 8 + 64 * (4 * 4 + 4) + parameters * 4);
  JobRun run(request, train, &eval, 0, {});
  EXPECT_EQ(run.HeldBytes(), 0);  // Nothing before the first step.
  int64_t most = 0;
  while (!run.over()) {
    ASSERT_TRUE(run.Step(*model).ok());
    most = std::max(most, run.HeldBytes());
  }
  EXPECT_EQ(most, bound);

  v1::TrainRequest in_order = Request(1, 64);
  in_order.set_shuffle(false);
  EXPECT_EQ(JobRun::MemoryBytes(in_order, train, parameters), 0);
  JobRun views(in_order, train, nullptr, 0, {});
  ASSERT_TRUE(views.Step(*model).ok());
  EXPECT_EQ(views.HeldBytes(), 0);
}

}  // namespace
}  // namespace mlpd
