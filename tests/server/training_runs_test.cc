// How many training runs (Train calls and jobs) a server keeps open, and the memory they hold
// while open: --max-trains bounds their number, and each run's shuffle order and mini-batch
// count in --max-sessions-mb. A run over either limit is refused at once, before anything of it
// is allocated, with the session unchanged; the room comes back when a run ends.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/service_test_util.h"

namespace mlpd::testing {
namespace {

using ::testing::HasSubstr;

// LongTrain is a shuffled Train over `dataset` that runs far longer than any test, reporting
// every step.
v1::TrainRequest LongTrain(const std::string& session, const std::string& dataset) {
  v1::TrainRequest request = TrainOf(session, dataset, 1000000000, 8, 1);
  request.set_shuffle(true);
  request.set_seed(5);
  return request;
}

// OpenTrain is a Train call held open by its client.
class OpenTrain {
 public:
  OpenTrain(v1::Mlpd::Stub& stub, const v1::TrainRequest& request)
      : stub_(stub), reader_(stub.Train(&context_, request)) {}

  // Running waits for the call's first progress: true once it runs, false when it ended first
  // (`ended` then gets its status).
  bool Running(grpc::Status* ended) {
    v1::TrainResponse response;
    if (reader_->Read(&response)) {
      const auto& metadata = context_.GetServerInitialMetadata();
      const auto id = metadata.find("x-mlpd-job-id");
      if (id != metadata.end()) job_id_.assign(id->second.data(), id->second.size());
      return true;
    }
    *ended = reader_->Finish();
    return false;
  }

  // Stop stops the run with CancelJob and reads the stream to its end, which the server sends
  // once the run has ended there.
  grpc::Status Stop() {
    EXPECT_TRUE(CancelJob(stub_, job_id_).ok()) << job_id_;
    v1::TrainResponse response;
    while (reader_->Read(&response)) {
    }
    return reader_->Finish();
  }

 private:
  v1::Mlpd::Stub& stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::TrainResponse>> reader_;
  std::string job_id_;
};

// ExpectRefused expects `status` to be RESOURCE_EXHAUSTED with a message naming `flag`.
void ExpectRefused(const grpc::Status& status, const std::string& flag) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(flag));
}

// The N+1-th run is refused while N are open, Train or StartTraining alike, and accepted once
// one of them has ended.
TEST(TrainingRunsTest, RunsPastMaxTrainsAreRefusedUntilOneEnds) {
  ServerOptions options;
  options.max_trains = 2;
  TestServer server(options);
  v1::Mlpd::Stub& stub = server.stub();
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(Create(stub, name, LinearSpec()).ok());
  ASSERT_TRUE(Upload(stub, "rows", {RegressionBatch(64, 2, 1)}).ok());

  grpc::Status ended;
  OpenTrain a(stub, LongTrain("a", "rows"));
  ASSERT_TRUE(a.Running(&ended)) << ended.error_message();
  OpenTrain b(stub, LongTrain("b", "rows"));
  ASSERT_TRUE(b.Running(&ended)) << ended.error_message();
  EXPECT_EQ(server.server().service().open_trains(), 2);

  const grpc::Status train = RunTrain(stub, TrainOf("c", "rows", 1, 8));
  ExpectRefused(train, "the limit --max-trains is 2");
  EXPECT_THAT(train.error_message(), HasSubstr("2 training runs (Train calls and jobs) are open"));
  v1::Job job;
  ExpectRefused(StartJob(stub, TrainOf("c", "rows", 1, 8), &job), "--max-trains");
  EXPECT_EQ(Info(stub, "c").step_count(), 0);

  EXPECT_EQ(a.Stop().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(server.server().service().open_trains(), 1);
  OpenTrain c(stub, LongTrain("c", "rows"));
  ASSERT_TRUE(c.Running(&ended)) << ended.error_message();
  EXPECT_EQ(c.Stop().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(b.Stop().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(server.server().service().open_trains(), 0);
}

// A running job holds one of the --max-trains places until it ends.
TEST(TrainingRunsTest, AJobHoldsARunUntilItEnds) {
  ServerOptions options;
  options.max_trains = 1;
  TestServer server(options);
  v1::Mlpd::Stub& stub = server.stub();
  for (const char* name : {"a", "b"}) ASSERT_TRUE(Create(stub, name, LinearSpec()).ok());
  ASSERT_TRUE(Upload(stub, "rows", {RegressionBatch(64, 2, 1)}).ok());
  v1::Job job;
  ASSERT_TRUE(StartJob(stub, LongTrain("a", "rows"), &job).ok());
  ExpectRefused(RunTrain(stub, TrainOf("b", "rows", 1, 8)), "the limit --max-trains is 1");
  EXPECT_EQ(Info(stub, "b").step_count(), 0);

  ASSERT_TRUE(CancelJob(stub, job.id()).ok());
  EXPECT_EQ(WaitDone(stub, job.id()).state(), v1::JOB_STATE_CANCELLED);
  const grpc::Status train = RunTrain(stub, TrainOf("b", "rows", 1, 8));
  EXPECT_TRUE(train.ok()) << train.error_message();
  EXPECT_EQ(Info(stub, "b").step_count(), 8);
}

// A shuffled run over 150,000 rows needs 1.2 MiB (its shuffle order and mini-batch): past a
// --max-sessions-mb of 1 it is refused before anything is allocated, and the session is unchanged.
// In dataset order it holds no order, and runs.
TEST(TrainingRunsTest, AShuffleOrderPastTheSessionMemoryLimitIsRefused) {
  ServerOptions options;
  options.max_sessions_mb = 1;
  TestServer server(options);
  v1::Mlpd::Stub& stub = server.stub();
  // MSE summed over 1,000-row batches: a small learning rate keeps the steps finite.
  ASSERT_TRUE(Create(stub, "a", LinearSpec(2, 1, 1e-5f)).ok());
  ASSERT_TRUE(Upload(stub, "big", {RegressionBatch(150000, 2, 1)}).ok());
  const v1::Checkpoint before = Exported(stub, "a");

  v1::TrainRequest request = TrainOf("a", "big", 1, 1000);
  request.set_shuffle(true);
  const grpc::Status train = RunTrain(stub, request);
  ExpectRefused(train, "the limit --max-sessions-mb is 1");
  EXPECT_THAT(train.error_message(),
              HasSubstr("for the shuffle order of 150000 rows, a mini-batch) needs 1.2 MiB"));
  v1::Job job;
  ExpectRefused(StartJob(stub, request, &job), "--max-sessions-mb");
  EXPECT_EQ(Exported(stub, "a").SerializeAsString(), before.SerializeAsString());
  EXPECT_EQ(server.server().service().open_trains(), 0);
  EXPECT_EQ(server.server().service().train_run_bytes(), 0);

  request.set_shuffle(false);
  const grpc::Status in_order = RunTrain(stub, request);
  EXPECT_TRUE(in_order.ok()) << in_order.error_message();
  EXPECT_EQ(Info(stub, "a").step_count(), 150);
}

// An open run's memory counts in --max-sessions-mb until it ends: a second run that does not fit
// beside it, and a session that does not, are refused; once the first ends both fit.
TEST(TrainingRunsTest, AnOpenRunHoldsItsMemoryUntilItEnds) {
  ServerOptions options;
  options.max_sessions_mb = 1;
  TestServer server(options);
  v1::Mlpd::Stub& stub = server.stub();
  for (const char* name : {"a", "b"}) ASSERT_TRUE(Create(stub, name, LinearSpec()).ok());
  // 70,000 rows: 547 KiB of shuffle order a run; two do not fit in 1 MiB.
  ASSERT_TRUE(Upload(stub, "rows", {RegressionBatch(70000, 2, 1)}).ok());

  grpc::Status ended;
  OpenTrain a(stub, LongTrain("a", "rows"));
  ASSERT_TRUE(a.Running(&ended)) << ended.error_message();
  EXPECT_EQ(server.server().service().train_run_bytes(), 70000 * 8 + 8 * 3 * 4);
  OpenTrain refused(stub, LongTrain("b", "rows"));
  ASSERT_FALSE(refused.Running(&ended));
  ExpectRefused(ended, "the limit --max-sessions-mb is 1");
  // 150,000 parameters (586 KiB) fit beside the sessions, not beside the run as well.
  ExpectRefused(Create(stub, "c", LinearSpec(149999, 1)), "reserved for their training runs");

  EXPECT_EQ(a.Stop().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(server.server().service().train_run_bytes(), 0);
  OpenTrain b(stub, LongTrain("b", "rows"));
  ASSERT_TRUE(b.Running(&ended)) << ended.error_message();
  EXPECT_EQ(b.Stop().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(Create(stub, "c", LinearSpec(149999, 1)).ok());
}

}  // namespace
}  // namespace mlpd::testing
