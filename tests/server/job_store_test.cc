// Tests of the job records on disk: round trips, atomic replacement, damaged records set aside
// while the others load, best parameters, deletion, and job ids.
#include "server/job_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/data_file.h"

namespace mlpd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

v1::Job JobNamed(const std::string& id, v1::JobState state) {
  v1::Job job;
  job.set_id(id);
  job.set_session("mnist");
  job.set_dataset("train");
  job.mutable_request()->set_name("mnist");
  job.mutable_request()->set_epochs(3);
  job.set_state(state);
  job.set_start_step(42);
  v1::JobEval* eval = job.add_evals();
  eval->set_step(50);
  eval->mutable_result()->set_loss(0.5);
  return job;
}

std::vector<std::string> Ids(const JobStore::Contents& contents) {
  std::vector<std::string> ids;
  for (const v1::Job& job : contents.jobs) ids.push_back(job.id());
  return ids;
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ = absl::StrCat(::testing::TempDir(), "/job_store_test_", info->name(), "_", ::getpid());
    fs::remove_all(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }

  std::string folder_;
};

TEST_F(JobStoreTest, RecordsRoundTripAndTheLastSaveWins) {
  {
    JobStore store(folder_);
    ASSERT_TRUE(store.Open().ok());
    ASSERT_TRUE(store.Save(JobNamed("job-2", v1::JOB_STATE_QUEUED)).ok());
    ASSERT_TRUE(store.Save(JobNamed("job-1", v1::JOB_STATE_RUNNING)).ok());
    ASSERT_TRUE(store.Save(JobNamed("job-2", v1::JOB_STATE_SUCCEEDED)).ok());
  }
  JobStore reopened(folder_);
  ASSERT_TRUE(reopened.Open().ok());
  absl::StatusOr<JobStore::Contents> contents = reopened.LoadAll();
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_THAT(Ids(*contents), ElementsAre("job-1", "job-2"));
  EXPECT_EQ(contents->jobs[1].state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(contents->jobs[1].start_step(), 42);
  EXPECT_EQ(contents->jobs[1].evals(0).result().loss(), 0.5);
  EXPECT_THAT(contents->damaged, IsEmpty());
}

TEST_F(JobStoreTest, DamagedRecordsAreSetAsideAndTheOthersLoad) {
  JobStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  for (const char* id : {"job-a", "job-b", "job-c", "job-d"}) {
    ASSERT_TRUE(store.Save(JobNamed(id, v1::JOB_STATE_RUNNING)).ok());
  }
  // job-a: truncated; job-b: a flipped payload byte; job-c: another job's record under its name.
  fs::resize_file(store.RecordPath("job-a"), 30);
  {
    std::fstream file(store.RecordPath("job-b"), std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(40);  // Past the 32-byte header.
    file.put('\xff');
  }
  fs::copy_file(store.RecordPath("job-d"), store.RecordPath("job-c"),
                fs::copy_options::overwrite_existing);
  absl::StatusOr<JobStore::Contents> contents = store.LoadAll();
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_THAT(Ids(*contents), ElementsAre("job-d"));
  ASSERT_THAT(contents->damaged, SizeIs(3));
  EXPECT_THAT(contents->damaged[0], HasSubstr("job-a.job: the file is 30 bytes, shorter than"));
  EXPECT_THAT(contents->damaged[1], HasSubstr("job-b.job: the payload checksum"));
  EXPECT_THAT(contents->damaged[2], HasSubstr("job-c.job: the record's id is \"job-d\""));
  EXPECT_TRUE(fs::exists(store.RecordPath("job-a") + ".damaged"));
  // Set aside, they are not reported again.
  EXPECT_THAT(store.LoadAll()->damaged, IsEmpty());
}

TEST_F(JobStoreTest, RecordsFromBeforeApi1AreRefusedNamingTheirFormat) {
  JobStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  // A record as a server before API 1.0 wrote it: its own payload kind, and progress, summary
  // and evaluation fields that now have other numbers. Read as today's Job it would silently
  // lose its evaluations; it must be refused instead.
  const std::string payload = JobNamed("job-old", v1::JOB_STATE_RUNNING).SerializeAsString();
  const absl::string_view pieces[] = {payload};
  ASSERT_TRUE(
      WriteFileAtomically(folder_, "job-old.job", PayloadKind::kJobBeforeApi1, pieces).ok());
  ASSERT_TRUE(store.Save(JobNamed("job-new", v1::JOB_STATE_RUNNING)).ok());
  absl::StatusOr<JobStore::Contents> contents = store.LoadAll();
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_THAT(Ids(*contents), ElementsAre("job-new"));
  ASSERT_THAT(contents->damaged, SizeIs(1));
  EXPECT_THAT(contents->damaged[0],
              HasSubstr("job-old.job: the payload kind is 3 (job record format 1, from before "
                        "API 1.0, no longer read), expected 5 (job record format 2)"));
  EXPECT_TRUE(fs::exists(store.RecordPath("job-old") + ".damaged"));
}

TEST_F(JobStoreTest, OpenRemovesTemporaryFilesLeftByACrash) {
  fs::create_directories(folder_);
  std::ofstream(folder_ + "/job-1.job.tmp-99-0") << "half a record";
  JobStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_TRUE(fs::is_empty(folder_));
  EXPECT_THAT(store.LoadAll()->jobs, IsEmpty());
}

TEST_F(JobStoreTest, BestParametersRoundTripAndGoWithTheJob) {
  JobStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_TRUE(absl::IsNotFound(store.LoadBest("job-1").status()));
  ASSERT_TRUE(store.Save(JobNamed("job-1", v1::JOB_STATE_RUNNING)).ok());
  const std::vector<float> parameters = {0.5f, -1.25f, 3.0f};
  ASSERT_TRUE(store.SaveBest("job-1", 17, parameters).ok());
  absl::StatusOr<v1::Checkpoint> best = store.LoadBest("job-1");
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_EQ(best->step_count(), 17);
  EXPECT_THAT(best->parameters(), ElementsAre(0.5f, -1.25f, 3.0f));

  fs::resize_file(store.BestPath("job-1"), 10);
  EXPECT_TRUE(absl::IsDataLoss(store.LoadBest("job-1").status()));

  ASSERT_TRUE(store.Delete("job-1").ok());
  EXPECT_FALSE(fs::exists(store.RecordPath("job-1")));
  EXPECT_FALSE(fs::exists(store.BestPath("job-1")));
  EXPECT_TRUE(store.Delete("job-1").ok());
}

TEST_F(JobStoreTest, IdsThatCouldEscapeTheFolderAreRefused) {
  JobStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_TRUE(absl::IsInvalidArgument(store.Save(JobNamed("../x", v1::JOB_STATE_QUEUED))));
  EXPECT_TRUE(absl::IsInvalidArgument(store.SaveBest("a/b", 1, {})));
}

TEST(NewJobIdTest, IdsAreUniqueAndSortInCreationOrder) {
  const std::string first = NewJobId(1764494100123);
  const std::string second = NewJobId(1764494100123);
  const std::string later = NewJobId(1764494100124);
  EXPECT_TRUE(absl::StartsWith(first, "job-1764494100123-"));
  EXPECT_NE(first, second);
  EXPECT_LT(first, second);
  EXPECT_LT(second, later);
  EXPECT_EQ(first.size(), std::string("job-1764494100123-0000").size());
}

}  // namespace
}  // namespace mlpd
