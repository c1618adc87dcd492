// A session's policy alone, without a server: the counters GetSession reads, and the snapshots
// it hands to the writer.
#include "server/session.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/data_dir.h"
#include "server/data_writer.h"
#include "server/serial_worker.h"
#include "tests/core/engine_test_util.h"

namespace mlpd {
namespace {

constexpr int64_t kRows = 3;

ModelSpec SmallSpec() { return testing::TestSpec(2, {{1, Activation::kIdentity}}, LossKind::kMse); }

// Batch is kRows rows for SmallSpec, held for the views it hands out.
struct Batch {
  std::vector<float> x = testing::RandomValues(kRows * 2, 1);
  std::vector<float> y = testing::RandomValues(kRows, 2);
  BatchView view() const {
    return BatchView{MatrixView{x.data(), kRows, 2},
                     TargetsView::Values(MatrixView{y.data(), kRows, 1})};
  }
};

std::shared_ptr<Session> AttachedSession(const SessionPolicy* policy) {
  auto session = std::make_shared<Session>(1, "s", SmallSpec(), NowUnixMs(), policy);
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(session->spec);
  EXPECT_TRUE(model.ok()) << model.status();
  session->Attach(*std::move(model), session->create_time_unix_ms);
  return session;
}

// GetSession polled during training once returned step N with samples_seen of step N + 1.
TEST(SessionCountersTest, InfoNeverMixesTwoSteps) {
  const DataWriter no_files(nullptr, nullptr);
  const SessionPolicy policy{&no_files, 0};
  std::shared_ptr<Session> session = AttachedSession(&policy);
  const Batch batch;
  constexpr int64_t kSteps = 20000;

  std::atomic<bool> training{true};
  absl::Notification reader_started;
  int64_t mixed = 0;
  int64_t polls = 0;
  int64_t steps_seen_while_training = 0;
  std::thread reader([&] {
    int64_t last_step = -1;
    reader_started.Notify();
    while (training.load()) {
      v1::SessionInfo info;
      session->FillInfo(&info);
      ++polls;
      if (info.samples_seen() != kRows * info.step_count()) ++mixed;
      if (info.step_count() != last_step) ++steps_seen_while_training;
      last_step = info.step_count();
    }
  });
  reader_started.WaitForNotification();
  for (int64_t step = 0; step < kSteps; ++step) {
    absl::StatusOr<float> loss = session->TrainStep(batch.view());
    ASSERT_TRUE(loss.ok()) << loss.status();
  }
  training = false;
  reader.join();

  EXPECT_EQ(mixed, 0) << "of " << polls << " polls";
  // The reader ran during training, not only before or after it.
  EXPECT_GT(steps_seen_while_training, 2) << polls << " polls";
  v1::SessionInfo info;
  session->FillInfo(&info);
  EXPECT_EQ(info.step_count(), kSteps);
  EXPECT_EQ(info.samples_seen(), kSteps * kRows);
}

class SessionSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/session_test_", ::getpid());
    std::filesystem::remove_all(path_);
    dir_ = std::make_unique<DataDir>(path_);
    ASSERT_TRUE(dir_->Open().ok());
    files_ = std::make_unique<DataWriter>(dir_.get(), &worker_);
    policy_ = SessionPolicy{files_.get(), 0};
  }
  void TearDown() override {
    worker_.Flush();
    dir_.reset();
    std::filesystem::remove_all(path_);
  }

  // BlockWriter holds the writer thread until `release` is notified.
  void BlockWriter(absl::Notification* release) {
    absl::Notification blocked;
    worker_.Post([&blocked, release] {
      blocked.Notify();
      release->WaitForNotification();
    });
    blocked.WaitForNotification();
  }

  std::string path_;
  SerialWorker worker_;
  std::unique_ptr<DataDir> dir_;
  std::unique_ptr<DataWriter> files_;
  SessionPolicy policy_;
};

// With --checkpoint-every 1 and a slow disk, every step queued a full copy of the session (RSS
// grew by GBs). Snapshots waiting for the writer merge: the newest wins, and every caller
// waiting for one hears of the newest, which holds its step and more.
TEST_F(SessionSnapshotTest, WaitingSnapshotsMergeIntoTheNewest) {
  std::shared_ptr<Session> session = AttachedSession(&policy_);
  const Batch batch;
  absl::Notification release;
  BlockWriter(&release);

  absl::Mutex mutex;
  std::vector<std::pair<absl::Status, int64_t>> outcomes;
  constexpr int kSnapshots = 5;
  for (int i = 0; i < kSnapshots; ++i) {
    ASSERT_TRUE(session->TrainStep(batch.view()).ok());
    session->Snapshot([&](const absl::Status& status, int64_t step) {
      absl::MutexLock lock(&mutex);
      outcomes.emplace_back(status, step);
    });
  }
  release.Notify();
  worker_.Flush();

  absl::MutexLock lock(&mutex);
  ASSERT_EQ(outcomes.size(), kSnapshots);
  for (const auto& [status, step] : outcomes) {
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ(step, kSnapshots) << "a waiting snapshot was written on its own";
  }
  absl::StatusOr<LoadedSession> loaded = ReadSessionFile(dir_->SessionPath("s"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model->step_count(), kSnapshots);
}

// A snapshot taken while the writer writes the previous one waits behind it, never merges into
// it: the file ends at the newest step.
TEST_F(SessionSnapshotTest, ASnapshotDuringAWriteIsWrittenAfterIt) {
  std::shared_ptr<Session> session = AttachedSession(&policy_);
  const Batch batch;
  ASSERT_TRUE(session->TrainStep(batch.view()).ok());
  absl::Notification writing;
  absl::Notification release;
  session->Snapshot([&](const absl::Status&, int64_t) {
    writing.Notify();
    release.WaitForNotification();
  });
  writing.WaitForNotification();
  ASSERT_TRUE(session->TrainStep(batch.view()).ok());
  int64_t second_step = -1;
  session->Snapshot([&](const absl::Status& status, int64_t step) {
    EXPECT_TRUE(status.ok()) << status;
    second_step = step;
  });
  release.Notify();
  worker_.Flush();
  EXPECT_EQ(second_step, 2);
  absl::StatusOr<LoadedSession> loaded = ReadSessionFile(dir_->SessionPath("s"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model->step_count(), 2);
}

}  // namespace
}  // namespace mlpd
