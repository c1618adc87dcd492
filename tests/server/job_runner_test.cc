// Tests of JobRunner on a real compute executor with a fake host: a job runs to its end and
// leaves its curve, CancelJob stops it between mini-batches keeping its steps, deleting its
// session fails it with the reason, a stopping server leaves it live, and ResumeAll picks a job
// up from its session's snapshot and ends bit-identical to a run never stopped.
#include "server/job_runner.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/checkpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/job_run.h"
#include "server/training_runs.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

ModelSpec Spec() {
  ModelSpec spec;
  spec.input_size = 4;
  spec.layers = {{8, Activation::kTanh}, {3, Activation::kIdentity}};
  spec.loss = {LossKind::kCrossEntropy, Reduction::kMean};
  spec.optimizer.kind = OptimizerKind::kMomentum;
  spec.optimizer.learning_rate = 0.05f;
  spec.init = {InitKind::kXavier, 0.0f, /*seed=*/3};
  return WithDefaults(spec);
}

Dataset Rows(int64_t rows, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Dataset dataset;
  dataset.x = Matrix{rows, 4, std::vector<float>(static_cast<size_t>(rows * 4))};
  for (float& value : dataset.x.data) value = uniform(generator);
  dataset.has_labels = true;
  for (int64_t r = 0; r < rows; ++r) dataset.labels.push_back(static_cast<int32_t>(r % 3));
  return dataset;
}

// FakeHost has one session "s" and datasets "train" and "eval".
class FakeHost : public JobHost {
 public:
  FakeHost() : train(Rows(64, 1)), eval(Rows(16, 2)) { model = std::move(*Model::Create(Spec())); }

  absl::StatusOr<JobTargets> Resolve(const v1::TrainRequest& request) override {
    if (request.name() != "s" || session_deleted) {
      return absl::NotFoundError(absl::StrCat("no session \"", request.name(), "\""));
    }
    JobTargets targets;
    targets.key = 1;
    targets.step_count = model->step_count();
    targets.train = &train;
    targets.eval = request.eval_dataset().empty() ? nullptr : &eval;
    targets.model = [this] { return model.get(); };
    targets.gone = [this] {
      return session_deleted ? absl::NotFoundError("session \"s\" was deleted") : absl::OkStatus();
    };
    targets.after_steps = [] {};
    targets.snapshot = [this] { ++snapshots; };
    if (history != nullptr) {
      targets.record = [this](const HistoryPoint& point) { (void)history->Append("s", point); };
    }
    return targets;
  }

  Dataset train, eval;
  std::unique_ptr<Model> model;
  std::atomic<bool> session_deleted{false};
  int snapshots = 0;
  HistoryStore* history = nullptr;  // Where the curve goes; none when null.
};

// EndWatcher waits for a job's end.
struct EndWatcher : JobWatcher {
  void OnEvent(const v1::TrainResponse& event) override {
    ++events;
    if (!first_event.HasBeenNotified()) first_event.Notify();
  }
  void OnDone(const v1::Job& job) override {
    final_job = job;
    done.Notify();
  }
  int events = 0;
  absl::Notification first_event, done;
  v1::Job final_job;
};

v1::TrainRequest Request(int64_t epochs) {
  v1::TrainRequest request;
  request.set_name("s");
  request.set_dataset("train");
  request.set_epochs(epochs);
  request.set_batch_size(8);  // 8 steps an epoch.
  request.set_shuffle(true);
  request.set_seed(5);
  return request;
}

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ =
        absl::StrCat(::testing::TempDir(), "/job_runner_test_", info->name(), "_", ::getpid());
    std::filesystem::remove_all(folder_);
    history_ = std::make_unique<HistoryStore>(folder_ + "/history");
    ASSERT_TRUE(history_->Open().ok());
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  // StartWatched starts a job long enough to be stopped midway, reporting every step, and
  // returns once `watcher` has heard its first event.
  void StartWatched(JobRunner& runner, JobRegistry& jobs, EndWatcher& watcher, v1::Job* job) {
    v1::TrainRequest request = Request(100000);
    request.set_report_every_steps(1);
    *job = *runner.Start(request);
    ASSERT_TRUE(jobs.Watch(job->id(), &watcher).ok());
    watcher.first_event.WaitForNotification();
  }

  std::string folder_;
  ComputeExecutor executor_{{/*max_queue=*/64, /*threads=*/1}};
  std::unique_ptr<HistoryStore> history_;
};

TEST_F(JobRunnerTest, AJobRunsToItsEndReportingAndLeavingItsCurve) {
  FakeHost host;
  host.history = history_.get();
  JobRegistry jobs({});
  JobRunner runner(&executor_, &jobs, &host, {});
  v1::TrainRequest request = Request(3);
  request.set_eval_dataset("eval");
  absl::StatusOr<v1::Job> job = runner.Start(request);
  ASSERT_TRUE(job.ok()) << job.status();
  EndWatcher watcher;
  if (!jobs.Watch(job->id(), &watcher)->done()) watcher.done.WaitForNotification();
  // The runner finishes its bookkeeping after telling the watcher.
  executor_.WaitIdle(absl::InfiniteFuture());
  const v1::Job done = *jobs.Get(job->id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.steps_done(), 24);
  EXPECT_EQ(done.summary().steps(), 24);
  EXPECT_EQ(done.summary().stop_reason(), v1::STOP_REASON_COMPLETED);
  EXPECT_TRUE(done.summary().has_eval());
  EXPECT_EQ(done.evals_size(), 3);
  EXPECT_EQ(host.model->step_count(), 24);
  // One point an epoch, with the evaluation.
  const std::vector<HistoryPoint> curve = *history_->Read("s", 0, 0);
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_EQ(curve.back().step, 24);
  EXPECT_TRUE(curve.back().has_eval);
  EXPECT_EQ(runner.running(), 0);
  // A second job of the session may start now.
  EXPECT_TRUE(runner.Start(Request(1)).ok());
  executor_.WaitIdle(absl::InfiniteFuture());
}

TEST_F(JobRunnerTest, CancelStopsBetweenMiniBatchesAndKeepsTheSteps) {
  FakeHost host;
  JobRegistry jobs({});
  JobRunner runner(&executor_, &jobs, &host, {});
  EndWatcher watcher;
  v1::Job job;
  ASSERT_NO_FATAL_FAILURE(StartWatched(runner, jobs, watcher, &job));
  ASSERT_TRUE(jobs.RequestCancel(job.id(), "cancelled by CancelJob").ok());
  watcher.done.WaitForNotification();
  // The runner finishes its bookkeeping after telling the watcher.
  executor_.WaitIdle(absl::InfiniteFuture());
  const v1::Job done = watcher.final_job;
  EXPECT_EQ(done.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(done.error().message(), HasSubstr("cancelled by CancelJob, after"));
  EXPECT_THAT(done.error().message(), HasSubstr("(they are kept)"));
  EXPECT_GT(done.steps_done(), 0);
  EXPECT_LT(done.steps_done(), done.steps_total());
  executor_.WaitIdle(absl::InfiniteFuture());
  EXPECT_EQ(host.model->step_count(), done.steps_done());
}

TEST_F(JobRunnerTest, DeletingTheSessionFailsTheJobWithTheReason) {
  FakeHost host;
  JobRegistry jobs({});
  JobRunner runner(&executor_, &jobs, &host, {});
  EndWatcher watcher;
  v1::Job job;
  ASSERT_NO_FATAL_FAILURE(StartWatched(runner, jobs, watcher, &job));
  host.session_deleted = true;
  watcher.done.WaitForNotification();
  // The runner finishes its bookkeeping after telling the watcher.
  executor_.WaitIdle(absl::InfiniteFuture());
  EXPECT_EQ(watcher.final_job.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(watcher.final_job.error().code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_THAT(watcher.final_job.error().message(), HasSubstr("session \"s\" was deleted, after"));
}

TEST_F(JobRunnerTest, AStoppingServerLeavesTheJobLive) {
  FakeHost host;
  JobRegistry jobs({});
  JobRunner runner(&executor_, &jobs, &host, {});
  EndWatcher watcher;
  v1::Job job;
  ASSERT_NO_FATAL_FAILURE(StartWatched(runner, jobs, watcher, &job));
  runner.Stop();
  executor_.WaitIdle(absl::InfiniteFuture());
  EXPECT_EQ(runner.running(), 0);
  EXPECT_FALSE(jobs.Get(job.id())->done());
  EXPECT_EQ(jobs.Get(job.id())->state(), v1::JOB_STATE_RUNNING);
  jobs.Unwatch(job.id(), &watcher);
}

// ResumeAll after a "restart": the session restored from a snapshot taken mid-run, the job's
// record as the disk had it.
TEST_F(JobRunnerTest, AResumedJobEndsBitIdenticalToAnUninterruptedOne) {
  v1::TrainRequest request = Request(3);
  request.set_eval_dataset("eval");
  request.set_report_every_steps(5);
  std::string expected;
  {
    FakeHost host;
    JobRegistry jobs({});
    JobRunner runner(&executor_, &jobs, &host, {});
    const v1::Job job = *runner.Start(request);
    EndWatcher watcher;
    if (!jobs.Watch(job.id(), &watcher)->done()) watcher.done.WaitForNotification();
    // The runner finishes its bookkeeping after telling the watcher.
    executor_.WaitIdle(absl::InfiniteFuture());
    executor_.WaitIdle(absl::InfiniteFuture());
    expected = MakeCheckpoint(*host.model)->SerializeAsString();
  }
  for (int64_t snapshot_step : {3, 8, 13}) {
    // The first life ran to the snapshot step; its record is as the disk had it then.
    FakeHost host;
    v1::Job record;
    record.set_id("job-0000000000001-0000");
    record.set_session("s");
    *record.mutable_request() = request;
    record.set_state(v1::JOB_STATE_RUNNING);
    record.set_steps_total(24);
    record.set_start_step(0);
    JobRun first_part(request, host.train, &host.eval, 0, {});
    for (int64_t i = 0; i < snapshot_step; ++i) ASSERT_TRUE(first_part.Step(*host.model).ok());
    *record.mutable_evals() = {first_part.evals().begin(), first_part.evals().end()};
    host.model = std::move(*RestoreCheckpoint(*MakeCheckpoint(*host.model)));

    // The second life.
    JobRegistry jobs({});
    jobs.Restore({record});
    JobRunner runner(&executor_, &jobs, &host, {});
    runner.ResumeAll();
    EndWatcher watcher;
    if (!jobs.Watch(record.id(), &watcher)->done()) watcher.done.WaitForNotification();
    // The runner finishes its bookkeeping after telling the watcher.
    executor_.WaitIdle(absl::InfiniteFuture());
    executor_.WaitIdle(absl::InfiniteFuture());
    const v1::Job done = *jobs.Get(record.id());
    EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error().message();
    EXPECT_EQ(done.resumes(), 1);
    EXPECT_EQ(MakeCheckpoint(*host.model)->SerializeAsString(), expected)
        << "snapshot at step " << snapshot_step;
  }
}

TEST_F(JobRunnerTest, AJobWhoseSessionIsGoneAfterARestartFailsWithTheReason) {
  FakeHost host;
  host.session_deleted = true;
  v1::Job record;
  record.set_id("job-0000000000001-0000");
  record.set_session("s");
  *record.mutable_request() = Request(1);
  record.set_state(v1::JOB_STATE_RUNNING);
  JobRegistry jobs({});
  jobs.Restore({record});
  JobRunner runner(&executor_, &jobs, &host, {});
  runner.ResumeAll();
  const v1::Job done = *jobs.Get(record.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(done.error().message(),
              HasSubstr("cannot resume after the restart: no session \"s\""));
}

// Jobs count among the open training runs (--max-trains): at the limit Start is refused naming
// it. A job the previous server left running resumes even past the limit, for it must not be
// lost, and gives its place back when it ends.
TEST_F(JobRunnerTest, JobsCountInTheOpenRunsAndAResumedOneIsNotLostPastTheLimit) {
  FakeHost host;
  TrainingRuns runs(/*max_runs=*/1, /*memory=*/nullptr);
  absl::StatusOr<TrainingRuns::Lease> train_call = runs.Open({0, "a Train call"});
  ASSERT_TRUE(train_call.ok());
  JobRegistry jobs({});
  JobRunner runner(&executor_, &jobs, &host, {}, &runs);
  const absl::StatusOr<v1::Job> refused = runner.Start(Request(1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("the limit --max-trains is 1"));
  EXPECT_EQ(runs.open(), 1);

  v1::TrainRequest request = Request(100000);
  request.set_report_every_steps(1);
  v1::Job record;
  record.set_id("job-0000000000001-0000");
  record.set_session("s");
  *record.mutable_request() = request;
  record.set_state(v1::JOB_STATE_RUNNING);
  record.set_steps_total(JobRun::StepsTotal(request, host.train.rows()));
  jobs.Restore({record});
  EndWatcher watcher;
  ASSERT_TRUE(jobs.Watch(record.id(), &watcher).ok());
  runner.ResumeAll();
  watcher.first_event.WaitForNotification();
  EXPECT_EQ(runs.open(), 2);
  ASSERT_TRUE(jobs.RequestCancel(record.id(), "cancelled by the test").ok());
  watcher.done.WaitForNotification();
  EXPECT_EQ(watcher.final_job.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(runs.open(), 1);
  train_call->Release();
  EXPECT_EQ(runs.open(), 0);
  executor_.WaitIdle(absl::InfiniteFuture());
}

}  // namespace
}  // namespace mlpd
