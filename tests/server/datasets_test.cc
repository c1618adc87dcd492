// Datasets alone: the byte budget (0: no limit), and a dataset that nobody sees until its file
// is written.
#include "server/datasets.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/data_dir.h"
#include "server/serial_worker.h"

namespace mlpd {
namespace {

std::shared_ptr<StoredDataset> SmallDataset(const std::string& name) {
  auto dataset = std::make_shared<StoredDataset>();
  dataset->name = name;
  dataset->data.x = Matrix{2, 1, {1.0f, 2.0f}};
  dataset->data.targets = Matrix{2, 1, {0.5f, -0.5f}};
  return dataset;
}

TEST(DatasetsTest, ZeroBytesMeansNoLimit) {
  const DataWriter no_files(nullptr, nullptr);
  Datasets unlimited({0, "--max-datasets"}, /*max_bytes=*/0, &no_files);
  EXPECT_TRUE(unlimited.Reserve(int64_t{1} << 40).ok());
  EXPECT_EQ(absl::StrJoin(unlimited.OverLimit(), ""), "");
  ASSERT_TRUE(unlimited.Restore("restored", SmallDataset("restored")->data, 0).ok());
  EXPECT_EQ(absl::StrJoin(unlimited.OverLimit(), ""), "");

  Datasets limited({0, "--max-datasets"}, /*max_bytes=*/100, &no_files);
  EXPECT_TRUE(limited.Reserve(100).ok());
  EXPECT_EQ(limited.Reserve(1).code(), absl::StatusCode::kResourceExhausted);
}

TEST(DatasetsTest, ADatasetIsNotFoundUntilItsFileIsWritten) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/datasets_test_", ::getpid());
  std::filesystem::remove_all(path);
  DataDir dir(path);
  ASSERT_TRUE(dir.Open().ok());
  SerialWorker worker;
  const DataWriter files(&dir, &worker);
  Datasets datasets({0, "--max-datasets"}, 0, &files);

  // Hold the writer, so the dataset's file waits behind this task.
  absl::Notification release;
  worker.Post([&release] { release.WaitForNotification(); });
  absl::Notification registered;
  absl::Status outcome = absl::UnknownError("not answered");
  datasets.Register(SmallDataset("d"), [&](const absl::Status& status, bool kept) {
    outcome = status;
    registered.Notify();
  });
  EXPECT_EQ(datasets.Find("name", "d").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(datasets.Exists("d"));  // The name stays taken meanwhile.

  release.Notify();
  registered.WaitForNotification();
  ASSERT_TRUE(outcome.ok()) << outcome;
  EXPECT_TRUE(datasets.Find("name", "d").ok());
  worker.Flush();
  std::filesystem::remove_all(path);
}

}  // namespace
}  // namespace mlpd
