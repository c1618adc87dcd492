// Tests of the job RPCs on a real server in-process: StartTraining answers at once, WatchJob
// streams the state then the same events as Train then the summary, to any number of watchers;
// CancelJob stops between mini-batches keeping the steps; a second job on a session is refused
// naming the first; deleting the session or dataset fails the job with the reason; ListJobs
// pages and filters; jobs survive a restart and resume to the parameters of an uninterrupted
// run; GetHistory returns the curve of TrainStep and jobs, deleted with the session.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/service_test_util.h"

namespace mlpd {
namespace {

using ::mlpd::testing::CancelJob;
using ::mlpd::testing::ClassificationBatch;
using ::mlpd::testing::Create;
using ::mlpd::testing::Delete;
using ::mlpd::testing::DeleteDataset;
using ::mlpd::testing::Exported;
using ::mlpd::testing::GetJob;
using ::mlpd::testing::Info;
using ::mlpd::testing::MlpSpec;
using ::mlpd::testing::RunTrain;
using ::mlpd::testing::StartJob;
using ::mlpd::testing::Step;
using ::mlpd::testing::TestServer;
using ::mlpd::testing::TrainOf;
using ::mlpd::testing::Upload;
using ::mlpd::testing::WaitDone;
using ::mlpd::testing::WaitUntil;
using ::mlpd::testing::Watch;
using ::testing::HasSubstr;

// A job long enough to be seen running, cancelled, deleted under.
v1::TrainRequest LongJob(const std::string& session) {
  v1::TrainRequest request = TrainOf(session, "rows", 100000, 8, 5);
  request.set_shuffle(true);
  request.set_seed(3);
  return request;
}

class JobsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Create(stub(), "s", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
    ASSERT_TRUE(Upload(stub(), "rows", {ClassificationBatch(64, 32, 4)}).ok());
  }
  v1::Mlpd::Stub& stub() { return server_.stub(); }

  TestServer server_;
};

TEST_F(JobsServiceTest, StartAnswersAtOnceAndEveryWatcherSeesStateEventsAndSummary) {
  ASSERT_TRUE(Upload(stub(), "eval", {ClassificationBatch(16, 32, 4, 100)}).ok());
  v1::TrainRequest request = TrainOf("s", "rows", 3, 8);  // 8 steps an epoch.
  request.set_eval_dataset("eval");
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), request, &job).ok());
  EXPECT_THAT(job.id(), ::testing::StartsWith("job-"));
  EXPECT_EQ(job.session(), "s");
  EXPECT_EQ(job.dataset(), "rows");
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.steps_total(), 24);
  EXPECT_FALSE(job.done());

  std::vector<v1::TrainResponse> first, second;
  grpc::Status first_status, second_status;
  std::thread a([&] { first_status = Watch(stub(), job.id(), &first); });
  std::thread b([&] { second_status = Watch(stub(), job.id(), &second); });
  a.join();
  b.join();
  for (const auto* events : {&first, &second}) {
    ASSERT_GE(events->size(), 2u);
    EXPECT_TRUE(events->front().has_job());
    EXPECT_EQ(events->front().job().id(), job.id());
    ASSERT_TRUE(events->back().has_summary());
    EXPECT_EQ(events->back().summary().steps(), 24);
    EXPECT_EQ(events->back().summary().stop_reason(), v1::STOP_REASON_COMPLETED);
    EXPECT_TRUE(events->back().summary().has_eval());
    int64_t last = events->front().job().steps_done();
    for (size_t i = 1; i + 1 < events->size(); ++i) {
      ASSERT_TRUE((*events)[i].has_progress());
      EXPECT_GT((*events)[i].progress().steps_done(), last);
      EXPECT_TRUE((*events)[i].progress().has_eval());  // Evaluated at each report.
      last = (*events)[i].progress().steps_done();
    }
  }
  EXPECT_TRUE(first_status.ok()) << first_status.error_message();
  EXPECT_TRUE(second_status.ok()) << second_status.error_message();
  const v1::Job done = GetJob(stub(), job.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_TRUE(done.done());
  EXPECT_EQ(done.steps_done(), 24);
  EXPECT_EQ(done.evals_size(), 3);
  EXPECT_GT(done.end_time_unix_ms(), 0);
  EXPECT_EQ(Info(stub(), "s").step_count(), 24);

  // Watching a job that is done: its state, then its summary.
  std::vector<v1::TrainResponse> late;
  ASSERT_TRUE(Watch(stub(), job.id(), &late).ok());
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0].job().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(late[1].summary().steps(), 24);
}

TEST_F(JobsServiceTest, OneLiveJobPerSessionCancelKeepsStepsAndAWatcherLeavingChangesNothing) {
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), LongJob("s"), &job).ok());
  // A second job, or a Train, on the session is refused naming the live job.
  v1::Job second;
  const grpc::Status refused = StartJob(stub(), LongJob("s"), &second);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr(job.id()));
  const grpc::Status train = RunTrain(stub(), TrainOf("s", "rows", 1, 8));
  EXPECT_EQ(train.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(train.error_message(), HasSubstr(job.id()));

  // A watcher that goes away leaves the job running.
  {
    grpc::ClientContext context;
    v1::WatchJobRequest request;
    request.set_id(job.id());
    auto reader = stub().WatchJob(&context, request);
    v1::TrainResponse response;
    ASSERT_TRUE(reader->Read(&response));
    ASSERT_TRUE(response.has_job());
    ASSERT_TRUE(reader->Read(&response));
    ASSERT_TRUE(response.has_progress());
    context.TryCancel();
    while (reader->Read(&response)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  const int64_t before = GetJob(stub(), job.id()).steps_done();
  ASSERT_TRUE(WaitUntil([&] { return GetJob(stub(), job.id()).steps_done() > before + 10; }));
  EXPECT_EQ(GetJob(stub(), job.id()).state(), v1::JOB_STATE_RUNNING);

  // TrainStep and Predict on the session keep working while the job runs.
  EXPECT_TRUE(Step(stub(), "s", ClassificationBatch(4, 32, 4)).ok());

  ASSERT_TRUE(CancelJob(stub(), job.id()).ok());
  std::vector<v1::TrainResponse> events;
  const grpc::Status watched = Watch(stub(), job.id(), &events);
  EXPECT_EQ(watched.error_code(), grpc::StatusCode::CANCELLED);
  const v1::Job cancelled = GetJob(stub(), job.id());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(cancelled.error().code(), static_cast<int>(grpc::StatusCode::CANCELLED));
  EXPECT_THAT(cancelled.error().message(), HasSubstr("cancelled by CancelJob"));
  EXPECT_GT(cancelled.steps_done(), before);
  EXPECT_LT(cancelled.steps_done(), cancelled.steps_total());
  // Its steps stay (and the one TrainStep), and the session is free for another job.
  EXPECT_EQ(Info(stub(), "s").step_count(), cancelled.steps_done() + 1);
  v1::Job next;
  EXPECT_TRUE(StartJob(stub(), TrainOf("s", "rows", 1, 8), &next).ok());
  EXPECT_EQ(WaitDone(stub(), next.id()).state(), v1::JOB_STATE_SUCCEEDED);
  // Cancelling a job that is done changes nothing.
  EXPECT_TRUE(CancelJob(stub(), next.id()).ok());
  EXPECT_EQ(GetJob(stub(), next.id()).state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(JobsServiceTest, DeletingTheSessionOrADatasetFailsTheJobWithTheReason) {
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), LongJob("s"), &job).ok());
  ASSERT_TRUE(WaitUntil([&] { return GetJob(stub(), job.id()).steps_done() > 0; }));
  ASSERT_TRUE(Delete(stub(), "s").ok());
  v1::Job failed = WaitDone(stub(), job.id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(failed.error().code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(failed.error().message(), HasSubstr("session \"s\" was deleted during the job"));

  ASSERT_TRUE(Create(stub(), "t", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(StartJob(stub(), LongJob("t"), &job).ok());
  ASSERT_TRUE(WaitUntil([&] { return GetJob(stub(), job.id()).steps_done() > 0; }));
  ASSERT_TRUE(DeleteDataset(stub(), "rows").ok());
  failed = WaitDone(stub(), job.id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error().message(), HasSubstr("dataset \"rows\" was deleted during the job"));
}

TEST_F(JobsServiceTest, ListJobsPagesNewestFirstAndFilters) {
  ASSERT_TRUE(Create(stub(), "t", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    v1::Job job;
    ASSERT_TRUE(StartJob(stub(), TrainOf("s", "rows", 1, 8), &job).ok());
    ASSERT_EQ(WaitDone(stub(), job.id()).state(), v1::JOB_STATE_SUCCEEDED);
    ids.push_back(job.id());
  }
  v1::Job running;
  ASSERT_TRUE(StartJob(stub(), LongJob("t"), &running).ok());

  auto list = [&](const v1::ListJobsRequest& request) {
    grpc::ClientContext context;
    v1::ListJobsResponse response;
    EXPECT_TRUE(stub().ListJobs(&context, request, &response).ok());
    return response;
  };
  v1::ListJobsRequest request;
  request.set_page_size(3);
  v1::ListJobsResponse page = list(request);
  ASSERT_EQ(page.jobs_size(), 3);
  EXPECT_EQ(page.jobs(0).id(), running.id());
  EXPECT_EQ(page.jobs(1).id(), ids[2]);
  EXPECT_EQ(page.jobs(2).id(), ids[1]);
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  page = list(request);
  ASSERT_EQ(page.jobs_size(), 1);
  EXPECT_EQ(page.jobs(0).id(), ids[0]);
  EXPECT_TRUE(page.next_page_token().empty());

  v1::ListJobsRequest by_session;
  by_session.set_session("t");
  page = list(by_session);
  ASSERT_EQ(page.jobs_size(), 1);
  EXPECT_EQ(page.jobs(0).id(), running.id());
  v1::ListJobsRequest by_state;
  by_state.set_state(v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(list(by_state).jobs_size(), 3);
  ASSERT_TRUE(CancelJob(stub(), running.id()).ok());
  EXPECT_EQ(WaitDone(stub(), running.id()).state(), v1::JOB_STATE_CANCELLED);

  grpc::ClientContext context;
  v1::GetJobRequest unknown;
  unknown.set_id("job-nope");
  v1::Job job;
  EXPECT_EQ(stub().GetJob(&context, unknown, &job).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Early stopping ends a run whose eval loss stops improving; keep_best puts back the parameters
// of the best evaluation. Jobs and Train behave alike.
TEST_F(JobsServiceTest, EarlyStoppingStopsAndKeepBestRestoresTheBestParameters) {
  ASSERT_TRUE(Upload(stub(), "eval", {ClassificationBatch(16, 32, 4, 100)}).ok());
  v1::TrainRequest request = TrainOf("s", "rows", 100, 8);  // Unshuffled, 8 steps an epoch.
  request.set_eval_dataset("eval");
  request.set_eval_every_steps(2);
  // No later evaluation improves by 1e9: the one at step 2 stays the best, and the run stops
  // after two more.
  request.mutable_early_stopping()->set_patience(2);
  request.mutable_early_stopping()->set_min_delta(1e9);
  request.set_keep_best(true);
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), request, &job).ok());
  const v1::Job done = WaitDone(stub(), job.id());
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error().message();
  const v1::TrainSummary& summary = done.summary();
  EXPECT_EQ(summary.stop_reason(), v1::STOP_REASON_EARLY_STOPPED);
  EXPECT_EQ(summary.steps(), 6);
  EXPECT_EQ(summary.step(), 6);
  EXPECT_TRUE(summary.has_best());
  EXPECT_EQ(summary.best().step(), 2);
  EXPECT_EQ(summary.kept_step(), 2);
  EXPECT_EQ(summary.eval().loss(), summary.best().result().loss());
  EXPECT_EQ(done.evals_size(), 3);
  EXPECT_EQ(Info(stub(), "s").step_count(), 6);  // The counters are the last step's.

  // The parameters are those after the first two mini-batches.
  ASSERT_TRUE(Create(stub(), "ref", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Step(stub(), "ref", ClassificationBatch(8, 32, 4, 0)).ok());
  ASSERT_TRUE(Step(stub(), "ref", ClassificationBatch(8, 32, 4, 8)).ok());
  const v1::Checkpoint kept = Exported(stub(), "s");
  const v1::Checkpoint reference = Exported(stub(), "ref");
  ASSERT_EQ(kept.parameters_size(), reference.parameters_size());
  EXPECT_TRUE(std::equal(kept.parameters().begin(), kept.parameters().end(),
                         reference.parameters().begin()));

  // Train runs the same rule.
  ASSERT_TRUE(Create(stub(), "by-train", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  request.set_name("by-train");
  std::vector<v1::TrainResponse> events;
  ASSERT_TRUE(RunTrain(stub(), request, &events).ok());
  ASSERT_TRUE(events.back().has_summary());
  EXPECT_EQ(events.back().summary().stop_reason(), v1::STOP_REASON_EARLY_STOPPED);
  EXPECT_EQ(events.back().summary().kept_step(), 2);
  EXPECT_TRUE(std::equal(kept.parameters().begin(), kept.parameters().end(),
                         Exported(stub(), "by-train").parameters().begin()));

  // Each option that evaluates needs an eval dataset.
  request.clear_eval_dataset();
  request.clear_early_stopping();
  request.set_eval_every_steps(0);
  const grpc::Status refused = StartJob(stub(), request, &job);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("keep_best needs an eval_dataset"));
}

// A Train call's run is an attached job: its id comes in the initial metadata before any
// progress; GetJob and WatchJob follow it while it runs, CancelJob stops it between mini-batches
// and the call then ends CANCELLED saying how many steps it applied, which is the session's final
// count. ListJobs never lists it, and it is forgotten once the call ended.
TEST_F(JobsServiceTest, ATrainCallIsAnAttachedJobThatCancelJobStops) {
  grpc::ClientContext context;
  auto reader = stub().Train(&context, LongJob("s"));
  reader->WaitForInitialMetadata();
  const auto& metadata = context.GetServerInitialMetadata();
  const auto header = metadata.find("x-mlpd-job-id");
  ASSERT_NE(header, metadata.end());
  const std::string id(header->second.data(), header->second.size());
  v1::TrainResponse event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_progress());
  const v1::Job running = GetJob(stub(), id);
  EXPECT_EQ(running.state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(running.session(), "s");
  EXPECT_GT(running.steps_total(), 0);
  {
    grpc::ClientContext list_context;
    v1::ListJobsResponse listed;
    ASSERT_TRUE(stub().ListJobs(&list_context, v1::ListJobsRequest(), &listed).ok());
    EXPECT_EQ(listed.jobs_size(), 0);
  }
  // A watcher of the attached job gets its state first, then its end.
  std::vector<v1::TrainResponse> watched;
  grpc::Status watch_status;
  absl::Notification watching;
  std::thread watcher([&] {
    grpc::ClientContext watch_context;
    v1::WatchJobRequest request;
    request.set_id(id);
    auto stream = stub().WatchJob(&watch_context, request);
    v1::TrainResponse response;
    while (stream->Read(&response)) {
      watched.push_back(response);
      if (!watching.HasBeenNotified()) watching.Notify();
    }
    watch_status = stream->Finish();
    if (!watching.HasBeenNotified()) watching.Notify();
  });
  watching.WaitForNotification();

  ASSERT_TRUE(CancelJob(stub(), id).ok());
  while (reader->Read(&event)) {
  }
  const grpc::Status status = reader->Finish();
  watcher.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("cancelled by CancelJob, after "));
  int64_t applied = -1;
  ASSERT_EQ(
      std::sscanf(status.error_message().c_str(), "cancelled by CancelJob, after %ld", &applied),
      1);
  EXPECT_EQ(Info(stub(), "s").step_count(), applied);
  EXPECT_EQ(watch_status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_FALSE(watched.empty());
  EXPECT_TRUE(watched.front().has_job());

  grpc::ClientContext get_context;
  v1::GetJobRequest get;
  get.set_id(id);
  v1::Job gone;
  EXPECT_EQ(stub().GetJob(&get_context, get, &gone).error_code(), grpc::StatusCode::NOT_FOUND);
  // Train calls are not held to the one-job rule: a job may start on the session, as before.
  v1::Job job;
  EXPECT_TRUE(StartJob(stub(), TrainOf("s", "rows", 1, 8), &job).ok());
  EXPECT_EQ(WaitDone(stub(), job.id()).state(), v1::JOB_STATE_SUCCEEDED);
}

// A job that stops early at the end of an epoch is done in that epoch, as its summary says.
TEST_F(JobsServiceTest, AJobStoppedEarlyAfterTwoEpochsSaysEpochTwo) {
  ASSERT_TRUE(Upload(stub(), "eval", {ClassificationBatch(16, 32, 4, 100)}).ok());
  v1::TrainRequest request = TrainOf("s", "rows", 10, 8);  // 8 steps an epoch.
  request.set_eval_dataset("eval");                        // At each epoch's end.
  request.mutable_early_stopping()->set_patience(1);
  request.mutable_early_stopping()->set_min_delta(1e9);
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), request, &job).ok());
  const v1::Job done = WaitDone(stub(), job.id());
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error().message();
  EXPECT_EQ(done.summary().stop_reason(), v1::STOP_REASON_EARLY_STOPPED);
  EXPECT_EQ(done.summary().epochs(), 2);
  EXPECT_EQ(done.steps_done(), 16);
  EXPECT_EQ(done.epoch(), 2);
  EXPECT_EQ(done.last_progress().epoch(), 2);
}

class PersistentJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = absl::StrCat(::testing::TempDir(), "/jobs_service_test_",
                           ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                           ::getpid());
    std::filesystem::remove_all(folder_);
    server_ = std::make_unique<TestServer>(Options());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(folder_);
  }
  ServerOptions Options() const {
    ServerOptions options;
    options.data_dir = folder_;
    options.threads = 1;
    options.checkpoint_every = 50;
    options.checkpoint_interval_seconds = 0;
    return options;
  }
  v1::Mlpd::Stub& stub() { return server_->stub(); }

  std::string folder_;
  std::unique_ptr<TestServer> server_;
};

// A job interrupted by a restart resumes from its session's snapshot and ends with the very
// parameters and optimizer state of a run that was never interrupted.
TEST_F(PersistentJobsTest, AJobResumesAfterARestartToTheParametersOfAnUninterruptedRun) {
  const v1::ModelSpec spec =
      MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY, v1::OPTIMIZER_KIND_ADAM);
  ASSERT_TRUE(Create(stub(), "resumed", spec).ok());
  ASSERT_TRUE(Create(stub(), "straight", spec).ok());
  ASSERT_TRUE(Upload(stub(), "rows", {ClassificationBatch(60, 32, 4)}).ok());
  v1::TrainRequest request = TrainOf("resumed", "rows", 400, 8, 5);  // 8 steps an epoch.
  request.set_shuffle(true);
  request.set_seed(11);
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), request, &job).ok());
  ASSERT_TRUE(WaitUntil([&] { return GetJob(stub(), job.id()).steps_done() >= 100; }));
  server_->Restart(Options());
  v1::Job resumed = WaitDone(stub(), job.id());
  EXPECT_EQ(resumed.state(), v1::JOB_STATE_SUCCEEDED) << resumed.error().message();
  EXPECT_EQ(resumed.resumes(), 1);
  EXPECT_EQ(resumed.steps_done(), 3200);
  EXPECT_EQ(Info(stub(), "resumed").step_count(), 3200);

  request.set_name("straight");
  ASSERT_TRUE(StartJob(stub(), request, &job).ok());
  ASSERT_EQ(WaitDone(stub(), job.id()).state(), v1::JOB_STATE_SUCCEEDED);
  const v1::Checkpoint a = Exported(stub(), "resumed");
  const v1::Checkpoint b = Exported(stub(), "straight");
  ASSERT_EQ(a.parameters_size(), b.parameters_size());
  EXPECT_TRUE(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  v1::Checkpoint a_state = a, b_state = b;
  a_state.clear_parameters();
  b_state.clear_parameters();
  EXPECT_EQ(a_state.SerializeAsString(), b_state.SerializeAsString());
}

TEST_F(PersistentJobsTest, AJobWhoseSessionIsGoneAfterTheRestartFailsWithTheReason) {
  ASSERT_TRUE(Create(stub(), "s", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Upload(stub(), "rows", {ClassificationBatch(64, 32, 4)}).ok());
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), LongJob("s"), &job).ok());
  ASSERT_TRUE(WaitUntil([&] { return GetJob(stub(), job.id()).steps_done() > 0; }));
  server_.reset();
  std::filesystem::remove(folder_ + "/sessions/s.ckpt");
  server_ = std::make_unique<TestServer>(Options());
  const v1::Job failed = GetJob(stub(), job.id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error().message(), HasSubstr("cannot resume after the restart"));
  EXPECT_THAT(failed.error().message(), HasSubstr("\"s\""));
}

TEST_F(PersistentJobsTest, HistoryHoldsTrainStepsAndReportsAndGoesWithTheSession) {
  ASSERT_TRUE(Create(stub(), "h", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Upload(stub(), "rows", {ClassificationBatch(64, 32, 4)}).ok());
  ASSERT_TRUE(Upload(stub(), "eval", {ClassificationBatch(16, 32, 4, 100)}).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Step(stub(), "h", ClassificationBatch(8, 32, 4)).ok());
  v1::TrainRequest request = TrainOf("h", "rows", 2, 8);  // A report per epoch.
  request.set_eval_dataset("eval");
  v1::Job job;
  ASSERT_TRUE(StartJob(stub(), request, &job).ok());
  ASSERT_EQ(WaitDone(stub(), job.id()).state(), v1::JOB_STATE_SUCCEEDED);

  auto history = [&](int64_t from_step, int32_t max_points, v1::GetHistoryResponse* response) {
    grpc::ClientContext context;
    v1::GetHistoryRequest get;
    get.set_name("h");
    get.set_from_step(from_step);
    get.set_max_points(max_points);
    return stub().GetHistory(&context, get, response);
  };
  v1::GetHistoryResponse curve;
  ASSERT_TRUE(history(0, 0, &curve).ok());
  ASSERT_EQ(curve.points_size(), 5);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(curve.points(i).step(), i + 1);
    EXPECT_FALSE(curve.points(i).has_eval());
    EXPECT_GT(curve.points(i).samples_per_second(), 0);
    EXPECT_GT(curve.points(i).train_loss(), 0);
  }
  EXPECT_EQ(curve.points(3).step(), 11);
  EXPECT_EQ(curve.points(4).step(), 19);
  EXPECT_TRUE(curve.points(4).has_eval());
  EXPECT_TRUE(curve.points(4).eval().has_error_rate());

  // It survives a restart; from_step and max_points select.
  server_->Restart(Options());
  v1::GetHistoryResponse later;
  ASSERT_TRUE(history(3, 0, &later).ok());
  ASSERT_EQ(later.points_size(), 3);
  EXPECT_EQ(later.points(0).step(), 3);
  later.Clear();
  ASSERT_TRUE(history(0, 2, &later).ok());
  ASSERT_EQ(later.points_size(), 2);
  EXPECT_EQ(later.points(0).step(), 1);
  EXPECT_EQ(later.points(1).step(), 19);

  // It goes with the session: a new session of the name starts a new curve.
  ASSERT_TRUE(Delete(stub(), "h").ok());
  EXPECT_EQ(history(0, 0, &later).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(std::filesystem::exists(folder_ + "/history/h.hist"));
  ASSERT_TRUE(Create(stub(), "h", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  later.Clear();
  ASSERT_TRUE(history(0, 0, &later).ok());
  EXPECT_EQ(later.points_size(), 0);
}

}  // namespace
}  // namespace mlpd
