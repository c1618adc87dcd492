// The server's use of its data dir: graceful restarts bring every session and dataset back
// bit for bit; snapshots follow --checkpoint-every, --checkpoint-interval, Train's end and
// SaveSession, and no file is written per step; deletions remove files; bad files are
// quarantined without stopping the rest.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/data_dir.h"
#include "tests/server/service_test_util.h"

namespace mlpd::testing {
namespace {

namespace fs = std::filesystem;

class PersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = absl::StrCat(::testing::TempDir(), "/mlpd-persistence-",
                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(data_dir_);
  }
  void TearDown() override { fs::remove_all(data_dir_); }

  ServerOptions Options() const {
    ServerOptions options;
    options.data_dir = data_dir_;
    return options;
  }

  // StoredStep is the step count of the session's snapshot on disk, or -1 without one. The
  // file is copied to a scratch data dir first: LoadAll tidies its dir (temporary files,
  // quarantine), which must not race with the running server's writes.
  int64_t StoredStep(const std::string& name) {
    const std::string scratch = data_dir_ + "-scratch";
    fs::remove_all(scratch);
    fs::create_directories(scratch + "/sessions");
    std::error_code error;
    fs::copy_file(data_dir_ + "/sessions/" + name + ".ckpt",
                  scratch + "/sessions/" + name + ".ckpt", error);
    if (error) return -1;
    DataDir store(scratch);
    EXPECT_TRUE(store.Open().ok());
    absl::StatusOr<DataDir::Contents> contents = store.LoadAll();
    EXPECT_TRUE(contents.ok()) << contents.status();
    fs::remove_all(scratch);
    if (!contents.ok()) return -2;
    for (const auto& [stored, session] : contents->sessions) {
      if (stored == name) return session.model->step_count();
    }
    return -1;
  }

  // BreakFolder puts a file where the data dir's `folder` was, so every write and removal there
  // fails (as on a full or failing disk) until RepairFolder puts the folder back.
  void BreakFolder(const std::string& folder) {
    const std::string path = data_dir_ + "/" + folder;
    fs::rename(path, path + "-away");
    std::ofstream(path) << "not a folder";
  }
  void RepairFolder(const std::string& folder) {
    const std::string path = data_dir_ + "/" + folder;
    fs::remove(path);
    fs::rename(path + "-away", path);
  }

  // WaitForStoredStep polls until the snapshot on disk reaches `step` (the writer is async).
  bool WaitForStoredStep(const std::string& name, int64_t step) {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      if (StoredStep(name) == step) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::string data_dir_;
};

TEST_F(PersistenceTest, GracefulRestartRestoresEverythingBitForBit) {
  TestServer server(Options());
  ASSERT_TRUE(
      Create(server.stub(), "adam", MlpSpec(3, 6, 2, v1::LOSS_KIND_MSE, v1::OPTIMIZER_KIND_ADAM))
          .ok());
  ASSERT_TRUE(Create(server.stub(), "clf",
                     MlpSpec(3, 6, 4, v1::LOSS_KIND_CROSS_ENTROPY, v1::OPTIMIZER_KIND_MOMENTUM))
                  .ok());
  ASSERT_TRUE(Create(server.stub(), "fresh", LinearSpec()).ok());
  ASSERT_TRUE(
      Upload(server.stub(), "targets", {RegressionBatch(7, 3, 2), RegressionBatch(5, 3, 2, 7)})
          .ok());
  ASSERT_TRUE(Upload(server.stub(), "labels", {ClassificationBatch(9, 3, 4)}).ok());
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(Step(server.stub(), "adam", RegressionBatch(5, 3, 2, i)).ok());
  v1::TrainRequest train = TrainOf("clf", "labels", 2, 4);
  train.set_shuffle(true);
  train.set_seed(5);
  ASSERT_TRUE(RunTrain(server.stub(), train).ok());
  ASSERT_TRUE(Step(server.stub(), "clf", ClassificationBatch(3, 3, 4)).ok());  // Not yet saved.

  std::vector<std::string> checkpoints;
  for (const char* name : {"adam", "clf", "fresh"}) {
    checkpoints.push_back(Exported(server.stub(), name).SerializeAsString());
  }
  auto evaluate = [&](const std::string& session, const std::string& dataset) {
    grpc::ClientContext context;
    v1::EvaluateRequest request;
    request.set_name(session);
    request.set_dataset(dataset);
    v1::EvalResult response;
    EXPECT_TRUE(server.stub().Evaluate(&context, request, &response).ok());
    return response.SerializeAsString();
  };
  const std::string targets_evaluation = evaluate("adam", "targets");
  const std::string labels_evaluation = evaluate("clf", "labels");
  std::vector<v1::SessionInfo> infos;
  for (const char* name : {"adam", "clf", "fresh"}) infos.push_back(Info(server.stub(), name));

  v1::ListDatasetsResponse datasets_before;
  {
    grpc::ClientContext list_context;
    ASSERT_TRUE(server.stub()
                    .ListDatasets(&list_context, v1::ListDatasetsRequest(), &datasets_before)
                    .ok());
  }
  const int64_t before_restart_ms = absl::ToUnixMillis(absl::Now());

  // Later than any time above, so a restore that took "now" for a session's times would show.
  absl::SleepFor(absl::Milliseconds(20));
  server.Restart(Options());
  int index = 0;
  for (const char* name : {"adam", "clf", "fresh"}) {
    EXPECT_EQ(Exported(server.stub(), name).SerializeAsString(), checkpoints[index]) << name;
    // Counters and creation and update times come back as they were.
    EXPECT_EQ(Info(server.stub(), name).DebugString(), infos[index].DebugString()) << name;
    ++index;
  }
  grpc::ClientContext context;
  v1::ListDatasetsResponse datasets;
  ASSERT_TRUE(server.stub().ListDatasets(&context, v1::ListDatasetsRequest(), &datasets).ok());
  ASSERT_EQ(datasets.datasets_size(), 2);
  EXPECT_EQ(datasets.datasets(1).rows(), 12);
  EXPECT_EQ(datasets.datasets(0).rows(), 9);
  // Datasets keep their creation times too (not the restart's time).
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(datasets.datasets(i).create_time_unix_ms(),
              datasets_before.datasets(i).create_time_unix_ms());
    EXPECT_LE(datasets.datasets(i).create_time_unix_ms(), before_restart_ms);
  }
  EXPECT_EQ(evaluate("adam", "targets"), targets_evaluation);
  EXPECT_EQ(evaluate("clf", "labels"), labels_evaluation);
  // A restored session trains on from where it was.
  v1::TrainStepResponse step;
  ASSERT_TRUE(Step(server.stub(), "adam", RegressionBatch(5, 3, 2), &step).ok());
  EXPECT_EQ(step.step(), 5);
}

TEST_F(PersistenceTest, SnapshotsFollowThePolicyNotEveryStep) {
  ServerOptions options = Options();
  options.checkpoint_every = 5;
  options.checkpoint_interval_seconds = 0;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "s", LinearSpec()).ok());
  ASSERT_TRUE(WaitForStoredStep("s", 0));  // A session is on disk from its creation.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Step(server.stub(), "s", RegressionBatch(2, 2, 1)).ok());
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(StoredStep("s"), 0);  // No file per step.
  ASSERT_TRUE(Step(server.stub(), "s", RegressionBatch(2, 2, 1)).ok());
  EXPECT_TRUE(WaitForStoredStep("s", 5));

  // SaveSession answers once the snapshot is durable.
  ASSERT_TRUE(Step(server.stub(), "s", RegressionBatch(2, 2, 1)).ok());
  int64_t saved_step = 0;
  ASSERT_TRUE(Save(server.stub(), "s", &saved_step).ok());
  EXPECT_EQ(saved_step, 6);
  EXPECT_EQ(StoredStep("s"), 6);

  // The end of a Train call is a snapshot point.
  ASSERT_TRUE(Upload(server.stub(), "rows", {RegressionBatch(6, 2, 1)}).ok());
  v1::TrainRequest train = TrainOf("s", "rows", 2, 4);
  ASSERT_TRUE(RunTrain(server.stub(), train).ok());
  EXPECT_TRUE(WaitForStoredStep("s", 10));
}

TEST_F(PersistenceTest, IntervalSnapshotsChangedSessions) {
  ServerOptions options = Options();
  options.checkpoint_every = 0;
  options.checkpoint_interval_seconds = 0.2;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "s", LinearSpec()).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Step(server.stub(), "s", RegressionBatch(2, 2, 1)).ok());
  EXPECT_TRUE(WaitForStoredStep("s", 3));
}

TEST_F(PersistenceTest, AFailedSnapshotIsWrittenAgainOnceTheDiskRecovers) {
  ServerOptions options = Options();
  options.checkpoint_every = 0;
  options.checkpoint_interval_seconds = 0.2;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "s", LinearSpec()).ok());
  ASSERT_TRUE(WaitForStoredStep("s", 0));
  BreakFolder("sessions");  // Every snapshot write fails, as on a full disk.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Step(server.stub(), "s", RegressionBatch(2, 2, 1)).ok());
  EXPECT_FALSE(Save(server.stub(), "s").ok());
  EXPECT_EQ(server.server().service().unsaved_sessions(), 1);

  // No step follows, yet the periodic snapshot writes the session once it can.
  RepairFolder("sessions");
  EXPECT_TRUE(WaitForStoredStep("s", 3));
  EXPECT_EQ(server.server().service().unsaved_sessions(), 0);
}

TEST_F(PersistenceTest, ASessionDeleteThatFailsOnDiskLeavesTheSession) {
  TestServer server(Options());
  ASSERT_TRUE(Create(server.stub(), "s", LinearSpec()).ok());
  ASSERT_TRUE(WaitForStoredStep("s", 0));
  BreakFolder("sessions");  // The removal fails.
  EXPECT_FALSE(Delete(server.stub(), "s").ok());
  EXPECT_EQ(server.server().service().session_count(), 1);
  EXPECT_TRUE(Step(server.stub(), "s", RegressionBatch(2, 2, 1)).ok());  // Still usable.

  RepairFolder("sessions");
  EXPECT_TRUE(Delete(server.stub(), "s").ok());
  EXPECT_EQ(Delete(server.stub(), "s").error_code(), grpc::StatusCode::NOT_FOUND);
  server.Restart(Options());
  EXPECT_EQ(server.server().service().session_count(), 0);
}

TEST_F(PersistenceTest, DatasetCallsThatFailOnDiskLeaveMemoryAsItWas) {
  TestServer server(Options());
  ASSERT_TRUE(Upload(server.stub(), "kept", {RegressionBatch(4, 2, 1)}).ok());
  const MlpdService& service = server.server().service();
  BreakFolder("datasets");  // Writes and removals there fail.

  EXPECT_FALSE(Upload(server.stub(), "new", {RegressionBatch(4, 2, 1)}).ok());
  EXPECT_FALSE(DeleteDataset(server.stub(), "kept").ok());
  EXPECT_EQ(service.dataset_count(), 1);
  grpc::ClientContext context;
  v1::GetDatasetRequest get;
  get.set_name("kept");
  v1::DatasetInfo info;
  EXPECT_TRUE(server.stub().GetDataset(&context, get, &info).ok());

  // Once the disk works again, the same calls succeed (the failed upload left no name taken).
  RepairFolder("datasets");
  EXPECT_TRUE(Upload(server.stub(), "new", {RegressionBatch(4, 2, 1)}).ok());
  EXPECT_TRUE(DeleteDataset(server.stub(), "kept").ok());
  EXPECT_EQ(DeleteDataset(server.stub(), "kept").error_code(), grpc::StatusCode::NOT_FOUND);
  server.Restart(Options());
  EXPECT_EQ(server.server().service().dataset_count(), 1);
}

TEST_F(PersistenceTest, DeletesRemoveFiles) {
  TestServer server(Options());
  ASSERT_TRUE(Create(server.stub(), "s", LinearSpec()).ok());
  ASSERT_TRUE(Upload(server.stub(), "d", {RegressionBatch(2, 2, 1)}).ok());
  ASSERT_TRUE(WaitForStoredStep("s", 0));
  EXPECT_TRUE(fs::exists(data_dir_ + "/datasets/d.data"));
  ASSERT_TRUE(Delete(server.stub(), "s").ok());
  EXPECT_EQ(StoredStep("s"), -1);
  EXPECT_FALSE(fs::exists(data_dir_ + "/sessions/s.ckpt"));
  ASSERT_TRUE(DeleteDataset(server.stub(), "d").ok());
  EXPECT_FALSE(fs::exists(data_dir_ + "/datasets/d.data"));
  server.Restart(Options());
  EXPECT_EQ(server.server().service().session_count(), 0);
  EXPECT_EQ(server.server().service().dataset_count(), 0);
}

TEST_F(PersistenceTest, ARestartUnderLowerLimitsKeepsEverything) {
  TestServer server(Options());
  // 0.71 MiB each (parameters and Adam's moments).
  const v1::ModelSpec spec =
      MlpSpec(100, 200, 10, v1::LOSS_KIND_CROSS_ENTROPY, v1::OPTIMIZER_KIND_ADAM);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(Create(server.stub(), name, spec).ok());
    ASSERT_TRUE(WaitForStoredStep(name, 0));
  }
  // 100k rows of 2 features and a target: 1.1 MiB.
  ASSERT_TRUE(Upload(server.stub(), "big", {RegressionBatch(100000, 2, 1)}).ok());
  ServerOptions lower = Options();
  lower.max_sessions = 2;
  lower.max_sessions_mb = 1;
  lower.max_datasets_mb = 1;
  server.Restart(lower);
  const MlpdService& service = server.server().service();
  EXPECT_EQ(service.session_count(), 3);
  EXPECT_EQ(service.dataset_count(), 1);
  EXPECT_NE(service.OverLimits().find("over the limit --max-sessions of 2"), std::string::npos)
      << service.OverLimits();
  EXPECT_NE(service.OverLimits().find("over the limit --max-datasets-mb of 1"), std::string::npos)
      << service.OverLimits();
  // New sessions wait until enough are deleted; the loaded ones work as before.
  EXPECT_EQ(Create(server.stub(), "d", LinearSpec()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(Step(server.stub(), "a", ClassificationBatch(4, 100, 10)).ok());
  ASSERT_TRUE(Delete(server.stub(), "b").ok());
  ASSERT_TRUE(Delete(server.stub(), "c").ok());
  ASSERT_TRUE(DeleteDataset(server.stub(), "big").ok());
  EXPECT_EQ(service.OverLimits(), "");
  EXPECT_TRUE(Create(server.stub(), "d", LinearSpec()).ok());
}

TEST_F(PersistenceTest, BadFilesAreQuarantinedAndTheRestLoads) {
  {
    TestServer server(Options());
    ASSERT_TRUE(Create(server.stub(), "good", LinearSpec()).ok());
  }
  std::ofstream(data_dir_ + "/sessions/garbage.ckpt") << "not a snapshot at all";
  std::ofstream(data_dir_ + "/sessions/empty.ckpt");
  TestServer server(Options());
  EXPECT_EQ(server.server().service().session_count(), 1);
  EXPECT_TRUE(Exported(server.stub(), "good").parameters_size() > 0);
  int quarantined = 0;
  for (const auto& entry : fs::directory_iterator(data_dir_ + "/quarantine")) {
    (void)entry;
    ++quarantined;
  }
  EXPECT_EQ(quarantined, 2);
}

}  // namespace
}  // namespace mlpd::testing
