// Tests of the data dir: round trips, atomic replacement, deletion, name safety, and the
// quarantine of every kind of damaged file while the intact ones still load.
#include "server/data_dir.h"

#include <malloc.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crc32c.h"

namespace mlpd {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::string> FileNames(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

ModelSpec SmallSpec(OptimizerKind optimizer) {
  ModelSpec spec;
  spec.input_size = 4;
  spec.layers = {{6, Activation::kTanh}, {3, Activation::kIdentity}};
  spec.loss = {LossKind::kCrossEntropy, Reduction::kMean};
  spec.optimizer.kind = optimizer;
  spec.optimizer.learning_rate = 0.1f;
  spec.init = {InitKind::kXavier, 0.0f, /*seed=*/3};
  return WithDefaults(spec);
}

// TrainedCheckpoint is the checkpoint of a model trained `steps` steps, so counters, weights
// and optimizer state are all non-trivial.
v1::Checkpoint TrainedCheckpoint(const ModelSpec& spec, int steps) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(spec);
  EXPECT_TRUE(model.ok()) << model.status();
  const std::vector<float> x = {0.1f, -0.2f, 0.3f, 0.5f, 1.0f, 0.0f, -1.0f, 0.25f};
  const std::vector<int32_t> labels = {2, 0};
  for (int step = 0; step < steps; ++step) {
    EXPECT_TRUE((*model)
                    ->TrainStep(MatrixView{x.data(), 2, 4}, TargetsView::Labels(labels.data(), 2))
                    .ok());
  }
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(**model);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  return *checkpoint;
}

// CheckpointOf is the checkpoint of a session read back, to compare with the one saved.
v1::Checkpoint CheckpointOf(const LoadedSession& session) {
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*session.model);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  return checkpoint.ok() ? *std::move(checkpoint) : v1::Checkpoint{};
}

Dataset LabelledDataset(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Dataset dataset;
  dataset.x.rows = rows;
  dataset.x.cols = cols;
  dataset.x.data.resize(rows * cols);
  for (float& value : dataset.x.data) value = uniform(generator);
  dataset.has_labels = true;
  for (int64_t r = 0; r < rows; ++r) dataset.labels.push_back(static_cast<int32_t>(r % 10));
  return dataset;
}

Dataset TargetDataset() {
  Dataset dataset;
  dataset.x = Matrix{3, 2, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}};
  dataset.targets = Matrix{3, 1, {-1.0f, 1.0f, 0.5f}};
  return dataset;
}

void ExpectSameDataset(const Dataset& actual, const Dataset& expected) {
  EXPECT_EQ(actual.x.rows, expected.x.rows);
  EXPECT_EQ(actual.x.cols, expected.x.cols);
  EXPECT_EQ(actual.x.data, expected.x.data);
  EXPECT_EQ(actual.targets.rows, expected.targets.rows);
  EXPECT_EQ(actual.targets.cols, expected.targets.cols);
  EXPECT_EQ(actual.targets.data, expected.targets.data);
  EXPECT_EQ(actual.labels, expected.labels);
  EXPECT_EQ(actual.has_labels, expected.has_labels);
}

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    data_dir_ =
        absl::StrCat(::testing::TempDir(), "/session_store_test_", info->name(), "_", ::getpid());
    fs::remove_all(data_dir_);
    store_ = std::make_unique<DataDir>(data_dir_);
    ASSERT_TRUE(store_->Open().ok());
  }
  void TearDown() override { fs::remove_all(data_dir_); }

  std::string Folder(absl::string_view name) const { return absl::StrCat(data_dir_, "/", name); }

  DataDir::Contents LoadAll() {
    absl::StatusOr<DataDir::Contents> contents = store_->LoadAll();
    EXPECT_TRUE(contents.ok()) << contents.status();
    return contents.ok() ? *std::move(contents) : DataDir::Contents{};
  }

  std::string data_dir_;
  std::unique_ptr<DataDir> store_;
};

TEST_F(DataDirTest, OpenCreatesTheFolders) {
  EXPECT_TRUE(fs::is_directory(Folder("sessions")));
  EXPECT_TRUE(fs::is_directory(Folder("datasets")));
  EXPECT_TRUE(fs::is_directory(Folder("quarantine")));
  DataDir::Contents contents = LoadAll();
  EXPECT_THAT(contents.sessions, IsEmpty());
  EXPECT_THAT(contents.datasets, IsEmpty());
  EXPECT_THAT(contents.quarantined, IsEmpty());
}

TEST_F(DataDirTest, DataDirIsLockedWhileOpen) {
  DataDir second(data_dir_);
  const absl::Status refused = second.Open();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("in use by another mlpd"));
  EXPECT_THAT(refused.message(), HasSubstr(absl::StrCat("pid ", ::getpid())));
  EXPECT_THAT(refused.message(), HasSubstr(data_dir_));

  store_.reset();
  EXPECT_TRUE(second.Open().ok());
  DataDir third(data_dir_);
  EXPECT_EQ(third.Open().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DataDirTest, SessionsAndDatasetsComeBackIdentical) {
  const v1::Checkpoint adam = TrainedCheckpoint(SmallSpec(OptimizerKind::kAdam), 5);
  const v1::Checkpoint sgd = TrainedCheckpoint(SmallSpec(OptimizerKind::kSgd), 2);
  ASSERT_TRUE(store_->SaveSession("adam-1", adam).ok());
  ASSERT_TRUE(store_->SaveSession("sgd.v2_x", sgd).ok());
  const Dataset labelled = LabelledDataset(50, 7, 1);
  const Dataset targets = TargetDataset();
  ASSERT_TRUE(store_->SaveDataset("labelled", labelled).ok());
  ASSERT_TRUE(store_->SaveDataset("targets", targets).ok());
  EXPECT_TRUE(fs::exists(store_->SessionPath("adam-1")));
  EXPECT_TRUE(fs::exists(store_->DatasetPath("labelled")));

  store_.reset();  // As a restarted server would, the new store opens once the old one is gone.
  DataDir reopened(data_dir_);
  ASSERT_TRUE(reopened.Open().ok());
  absl::StatusOr<DataDir::Contents> contents = reopened.LoadAll();
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_THAT(contents->quarantined, IsEmpty());
  ASSERT_THAT(contents->sessions, SizeIs(2));
  EXPECT_EQ(contents->sessions[0].first, "adam-1");
  EXPECT_EQ(CheckpointOf(contents->sessions[0].second).SerializeAsString(),
            adam.SerializeAsString());
  EXPECT_EQ(contents->sessions[0].second.model->step_count(), 5);
  EXPECT_EQ(contents->sessions[1].first, "sgd.v2_x");
  EXPECT_EQ(CheckpointOf(contents->sessions[1].second).SerializeAsString(),
            sgd.SerializeAsString());
  ASSERT_THAT(contents->datasets, SizeIs(2));
  EXPECT_EQ(contents->datasets[0].first, "labelled");
  ExpectSameDataset(contents->datasets[0].second, labelled);
  EXPECT_EQ(contents->datasets[1].first, "targets");
  ExpectSameDataset(contents->datasets[1].second, targets);
}

// Start-up restores each snapshot once: LoadAll hands up the restored model and the times the
// snapshot kept, and the service registers that model as it is (MlpdService::RestoreSession
// takes no checkpoint, so it cannot restore a second time).
TEST_F(DataDirTest, LoadAllHandsUpRestoredSessionsWithTheirTimes) {
  v1::Checkpoint checkpoint = TrainedCheckpoint(SmallSpec(OptimizerKind::kAdam), 3);
  checkpoint.set_create_time_unix_ms(1700000000123);
  checkpoint.set_update_time_unix_ms(1700000000456);
  ASSERT_TRUE(store_->SaveSession("timed", checkpoint).ok());
  DataDir::Contents contents = LoadAll();
  ASSERT_THAT(contents.sessions, SizeIs(1));
  const LoadedSession& loaded = contents.sessions[0].second;
  ASSERT_NE(loaded.model, nullptr);
  EXPECT_EQ(loaded.model->step_count(), 3);
  EXPECT_EQ(loaded.create_time_unix_ms, 1700000000123);
  EXPECT_EQ(loaded.update_time_unix_ms, 1700000000456);
  checkpoint.clear_create_time_unix_ms();
  checkpoint.clear_update_time_unix_ms();
  EXPECT_EQ(CheckpointOf(loaded).SerializeAsString(), checkpoint.SerializeAsString());
}

TEST_F(DataDirTest, SaveReplacesThePreviousSnapshotAndLeavesNoTemporaryFile) {
  const ModelSpec spec = SmallSpec(OptimizerKind::kMomentum);
  ASSERT_TRUE(store_->SaveSession("s", TrainedCheckpoint(spec, 1)).ok());
  const v1::Checkpoint later = TrainedCheckpoint(spec, 4);
  ASSERT_TRUE(store_->SaveSession("s", later).ok());
  EXPECT_EQ(FileNames(Folder("sessions")), std::vector<std::string>{"s.ckpt"});
  DataDir::Contents contents = LoadAll();
  ASSERT_THAT(contents.sessions, SizeIs(1));
  EXPECT_EQ(contents.sessions[0].second.model->step_count(), 4);
}

TEST_F(DataDirTest, DeleteRemovesTheFileAndIsIdempotent) {
  ASSERT_TRUE(
      store_->SaveSession("gone", TrainedCheckpoint(SmallSpec(OptimizerKind::kSgd), 1)).ok());
  ASSERT_TRUE(store_->SaveDataset("gone", TargetDataset()).ok());
  EXPECT_TRUE(store_->DeleteSession("gone").ok());
  EXPECT_TRUE(store_->DeleteDataset("gone").ok());
  EXPECT_FALSE(fs::exists(store_->SessionPath("gone")));
  EXPECT_FALSE(fs::exists(store_->DatasetPath("gone")));
  EXPECT_TRUE(store_->DeleteSession("gone").ok());
  EXPECT_TRUE(store_->DeleteDataset("never-existed").ok());
  DataDir::Contents contents = LoadAll();
  EXPECT_THAT(contents.sessions, IsEmpty());
  EXPECT_THAT(contents.datasets, IsEmpty());
}

TEST_F(DataDirTest, NamesCannotEscapeTheDataDir) {
  const v1::Checkpoint checkpoint = TrainedCheckpoint(SmallSpec(OptimizerKind::kSgd), 1);
  const std::string names[] = {"",    ".",      "..",         "../escape",
                               "a/b", "/tmp/x", "with space", std::string("nul\0x", 5)};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(store_->SaveSession(name, checkpoint).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->SaveDataset(name, TargetDataset()).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->DeleteSession(name).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->DeleteDataset(name).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(FileNames(Folder("sessions")), IsEmpty());
  EXPECT_FALSE(fs::exists(absl::StrCat(data_dir_, "/escape.ckpt")));
}

TEST_F(DataDirTest, InconsistentDatasetIsRejectedBeforeWriting) {
  Dataset dataset = TargetDataset();
  dataset.x.data.pop_back();
  absl::Status status = store_->SaveDataset("bad", dataset);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("x holds 5 values, its shape [3, 2] needs 6"));
  EXPECT_THAT(FileNames(Folder("datasets")), IsEmpty());
}

TEST_F(DataDirTest, LeftoverTemporaryFilesAreRemoved) {
  ASSERT_TRUE(
      store_->SaveSession("kept", TrainedCheckpoint(SmallSpec(OptimizerKind::kSgd), 1)).ok());
  WriteBytes(Folder("sessions") + "/kept.ckpt.tmp-123-0", "half a snapshot");
  WriteBytes(Folder("datasets") + "/d.data.tmp-9-4", "");
  DataDir::Contents contents = LoadAll();
  EXPECT_THAT(contents.sessions, SizeIs(1));
  EXPECT_THAT(contents.quarantined, IsEmpty());
  EXPECT_EQ(FileNames(Folder("sessions")), std::vector<std::string>{"kept.ckpt"});
  EXPECT_THAT(FileNames(Folder("datasets")), IsEmpty());
}

// Header offsets, from the format documented in data_file.h.
constexpr size_t kVersionOffset = 4;
constexpr size_t kHeaderCrcOffset = 28;
constexpr size_t kHeaderSize = 32;

// WithHeaderChecksum recomputes the header's own checksum after a deliberate header edit, so
// the test reaches the check it means to exercise.
std::string WithHeaderChecksum(std::string file) {
  const uint32_t crc = Crc32c(absl::string_view(file.data(), kHeaderCrcOffset));
  std::memcpy(&file[kHeaderCrcOffset], &crc, sizeof(crc));
  return file;
}

// WithPayload replaces a valid file's payload, fixing its length and checksums.
std::string WithPayload(std::string file, const std::string& payload) {
  file.resize(kHeaderSize);
  const uint64_t length = payload.size();
  std::memcpy(&file[16], &length, sizeof(length));
  const uint32_t crc = Crc32c(payload);
  std::memcpy(&file[24], &crc, sizeof(crc));
  return WithHeaderChecksum(file) + payload;
}

TEST_F(DataDirTest, DamagedFilesAreQuarantinedAndTheRestLoads) {
  const v1::Checkpoint good = TrainedCheckpoint(SmallSpec(OptimizerKind::kAdam), 3);
  ASSERT_TRUE(store_->SaveSession("good", good).ok());
  ASSERT_TRUE(store_->SaveSession("template", good).ok());
  ASSERT_TRUE(store_->SaveDataset("good-data", LabelledDataset(20, 3, 2)).ok());
  const std::string valid = ReadBytes(store_->SessionPath("template"));
  const std::string valid_dataset = ReadBytes(store_->DatasetPath("good-data"));
  ASSERT_TRUE(store_->DeleteSession("template").ok());
  const std::string sessions = Folder("sessions");
  const std::string datasets = Folder("datasets");

  std::string flipped_payload = valid;
  flipped_payload[valid.size() / 2] ^= 0x10;
  std::string flipped_header = valid;
  flipped_header[18] ^= 0x01;  // The payload length.
  std::string wrong_version = valid;
  wrong_version[kVersionOffset] = 2;
  wrong_version = WithHeaderChecksum(wrong_version);
  std::string garbage(4096, '\0');
  std::mt19937 generator(5);
  for (char& c : garbage) c = static_cast<char>(generator());
  v1::Checkpoint future = good;
  future.set_format_version(3);
  v1::Checkpoint mismatched = good;
  mismatched.mutable_parameters()->RemoveLast();

  // Each damaged file, and a piece of the reason LoadAll must give.
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"truncated.ckpt", valid.substr(0, valid.size() - 7)},
      {"truncated-header.ckpt", valid.substr(0, 20)},
      {"flipped.ckpt", flipped_payload},
      {"flipped-header.ckpt", flipped_header},
      {"version.ckpt", wrong_version},
      {"garbage.ckpt", garbage},
      {"empty.ckpt", ""},
      {"dataset-as-session.ckpt", valid_dataset},
      {"unparseable.ckpt", WithPayload(valid, std::string(64, '\xff'))},
      {"future-checkpoint.ckpt", WithPayload(valid, future.SerializeAsString())},
      {"wrong-sizes.ckpt", WithPayload(valid, mismatched.SerializeAsString())},
      {"bad name.ckpt", valid},
      {"stray-file.txt", "notes"},
  };
  const std::vector<std::string> reasons = {
      "announces",
      "shorter than the 32-byte header",
      "payload checksum",
      "header checksum",
      "format version is 2, this build reads 1",
      "magic",
      "empty",
      "payload kind is 2 (dataset), expected 1 (session)",
      "does not parse",
      "checkpoint.format_version is 3",
      "checkpoint.parameters has",
      "character",
      "does not end in .ckpt",
  };
  for (const auto& [file_name, bytes] : damaged) WriteBytes(sessions + "/" + file_name, bytes);
  WriteBytes(datasets + "/cut.data", valid_dataset.substr(0, valid_dataset.size() - 4));
  std::string bad_shape = valid_dataset;
  bad_shape[kHeaderSize] = 21;  // 21 rows announced, 20 stored.
  WriteBytes(datasets + "/shape.data", WithPayload(bad_shape, bad_shape.substr(kHeaderSize)));

  DataDir::Contents contents = LoadAll();
  ASSERT_THAT(contents.sessions, SizeIs(1));
  EXPECT_EQ(contents.sessions[0].first, "good");
  EXPECT_EQ(CheckpointOf(contents.sessions[0].second).SerializeAsString(),
            good.SerializeAsString());
  ASSERT_THAT(contents.datasets, SizeIs(1));
  EXPECT_EQ(contents.datasets[0].first, "good-data");

  ASSERT_THAT(contents.quarantined, SizeIs(damaged.size() + 2));
  for (size_t i = 0; i < damaged.size(); ++i) {
    const std::string prefix = absl::StrCat("sessions/", damaged[i].first, ": ");
    const auto it =
        std::find_if(contents.quarantined.begin(), contents.quarantined.end(),
                     [&](const std::string& entry) { return absl::StartsWith(entry, prefix); });
    ASSERT_NE(it, contents.quarantined.end()) << prefix;
    EXPECT_THAT(*it, HasSubstr(reasons[i]));
  }
  EXPECT_THAT(contents.quarantined,
              ::testing::Contains(HasSubstr("datasets/cut.data: the header announces")));
  EXPECT_THAT(contents.quarantined,
              ::testing::Contains(HasSubstr("datasets/shape.data: the dataset's shapes need")));

  // Moved, not deleted: each damaged file is in quarantine/ under a timestamped name.
  EXPECT_EQ(FileNames(sessions), std::vector<std::string>{"good.ckpt"});
  EXPECT_EQ(FileNames(datasets), std::vector<std::string>{"good-data.data"});
  const std::vector<std::string> quarantined = FileNames(Folder("quarantine"));
  EXPECT_THAT(quarantined, SizeIs(damaged.size() + 2));
  EXPECT_THAT(quarantined, ::testing::Contains(::testing::StartsWith("truncated.ckpt.")));

  // A second start finds a clean data dir.
  DataDir::Contents again = LoadAll();
  EXPECT_THAT(again.quarantined, IsEmpty());
  EXPECT_THAT(again.sessions, SizeIs(1));
  EXPECT_THAT(again.datasets, SizeIs(1));
}

TEST_F(DataDirTest, QuarantinedNamesNeverCollide) {
  for (int round = 0; round < 3; ++round) {
    WriteBytes(Folder("sessions") + "/same.ckpt", "garbage");
    DataDir::Contents contents = LoadAll();
    EXPECT_THAT(contents.quarantined, SizeIs(1));
  }
  EXPECT_THAT(FileNames(Folder("quarantine")), SizeIs(3));
}

// Not a timed assertion (shared machines are noisy); the numbers are printed for the report.
TEST_F(DataDirTest, SnapshotOfA784x256x256x10SessionIsFast) {
  ModelSpec spec;
  spec.input_size = 784;
  spec.layers = {{256, Activation::kRelu}, {256, Activation::kRelu}, {10, Activation::kIdentity}};
  spec.loss = {LossKind::kCrossEntropy, Reduction::kMean};
  spec.optimizer.kind = OptimizerKind::kAdam;
  spec.optimizer.learning_rate = 1e-3f;
  spec.init = {InitKind::kKaiming, 0.0f, 1};
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(WithDefaults(spec));
  ASSERT_TRUE(model.ok()) << model.status();

  using Clock = std::chrono::steady_clock;
  const auto milliseconds = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  // CPU time of this thread: on a loaded machine wall time mostly measures waiting for a core.
  const auto cpu_milliseconds = [] {
    timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
  };
  const auto median = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  const auto measure = [&](const char* allocator) {
    std::vector<double> make_times, save_times, total_times, cpu_times;
    for (int i = 0; i < 15; ++i) {
      const double cpu_start = cpu_milliseconds();
      const Clock::time_point start = Clock::now();
      absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(**model);
      ASSERT_TRUE(checkpoint.ok());
      const Clock::time_point made = Clock::now();
      ASSERT_TRUE(store_->SaveSession("big", *checkpoint).ok());
      const Clock::time_point saved = Clock::now();
      cpu_times.push_back(cpu_milliseconds() - cpu_start);
      make_times.push_back(milliseconds(made - start));
      save_times.push_back(milliseconds(saved - made));
      total_times.push_back(milliseconds(saved - start));
    }
    std::printf(
        "snapshot 784-256-256-10 adam (%lld parameters, %lld bytes on disk), %s: "
        "MakeCheckpoint %.2f ms, serialize + durable write %.2f ms, total median %.2f ms "
        "(max %.2f ms, CPU %.2f ms)\n",
        static_cast<long long>((*model)->parameter_count()),
        static_cast<long long>(fs::file_size(store_->SessionPath("big"))), allocator,
        median(make_times), median(save_times), median(total_times),
        *std::max_element(total_times.begin(), total_times.end()), median(cpu_times));
  };
  measure("default malloc");
  // Page faults are expensive on these VMs; glibc hands multi-megabyte blocks back to the
  // kernel on free, so every snapshot faults its buffers in again. Keeping them shows the cost
  // without that (what a server gets from the same two settings).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  measure("malloc keeping freed memory");

  const Dataset dataset = LabelledDataset(15000, 784, 3);  // 47 MB of features.
  const Clock::time_point start = Clock::now();
  ASSERT_TRUE(store_->SaveDataset("mnist-like", dataset).ok());
  const Clock::time_point saved = Clock::now();
  DataDir::Contents contents = LoadAll();
  const Clock::time_point loaded = Clock::now();
  ASSERT_THAT(contents.datasets, SizeIs(1));
  ExpectSameDataset(contents.datasets[0].second, dataset);
  std::printf("dataset 15000x784 (%lld bytes): durable write %.1f ms, LoadAll %.1f ms\n",
              static_cast<long long>(fs::file_size(store_->DatasetPath("mnist-like"))),
              milliseconds(saved - start), milliseconds(loaded - saved));
}

}  // namespace
}  // namespace mlpd
