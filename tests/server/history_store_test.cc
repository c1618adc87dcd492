// Tests of the learning-curve store: round trips, thinning past the cap, sampling for a reader,
// a torn last record after a crash, a damaged record, and deletion with the session.
#include "server/history_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

HistoryPoint PointAt(int64_t step) {
  HistoryPoint point;
  point.step = step;
  point.time_unix_ms = 1700000000000 + step;
  point.train_loss = 1.0f / static_cast<float>(step + 1);
  point.samples_per_second = 1000.0 + step;
  if (step % 3 == 0) {
    point.has_eval = true;
    point.eval_loss = 2.0 / (step + 1);
    point.eval_has_error_rate = step % 2 == 0;
    point.eval_error_rate = point.eval_has_error_rate ? 0.25 : 0.0;
  }
  return point;
}

std::vector<int64_t> Steps(const std::vector<HistoryPoint>& points) {
  std::vector<int64_t> steps;
  for (const HistoryPoint& point : points) steps.push_back(point.step);
  return steps;
}

class HistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ =
        absl::StrCat(::testing::TempDir(), "/history_store_test_", info->name(), "_", ::getpid());
    fs::remove_all(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }

  std::string folder_;
};

TEST_F(HistoryStoreTest, PointsRoundTripInOrderAndSurviveANewStore) {
  {
    HistoryStore store(folder_);
    ASSERT_TRUE(store.Open().ok());
    for (int64_t step = 1; step <= 10; ++step) ASSERT_TRUE(store.Append("s", PointAt(step)).ok());
  }
  HistoryStore reopened(folder_);
  ASSERT_TRUE(reopened.Open().ok());
  absl::StatusOr<std::vector<HistoryPoint>> points = reopened.Read("s", 0, 0);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_THAT(*points, SizeIs(10));
  for (int64_t step = 1; step <= 10; ++step) EXPECT_TRUE((*points)[step - 1] == PointAt(step));
  // from_step filters; an unknown session has an empty curve.
  EXPECT_THAT(Steps(*reopened.Read("s", 8, 0)), ElementsAre(8, 9, 10));
  EXPECT_THAT(*reopened.Read("other", 0, 0), IsEmpty());
}

TEST(ThinHistoryTest, HalvesTheOlderHalfAndKeepsTheFirstAndTheNewerHalf) {
  std::vector<HistoryPoint> points;
  for (int64_t step = 0; step < 8; ++step) points.push_back(PointAt(step));
  ThinHistory(&points);
  EXPECT_THAT(Steps(points), ElementsAre(0, 2, 4, 5, 6, 7));
}

TEST_F(HistoryStoreTest, ACurveNeverGrowsPastTheCapAndKeepsItsEnds) {
  HistoryStore store(folder_, /*cap=*/16);
  ASSERT_TRUE(store.Open().ok());
  for (int64_t step = 1; step <= 200; ++step) {
    ASSERT_TRUE(store.Append("s", PointAt(step)).ok());
    const std::vector<HistoryPoint> points = *store.Read("s", 0, 0);
    ASSERT_LE(points.size(), 16u) << "after step " << step;
  }
  const std::vector<int64_t> steps = Steps(*store.Read("s", 0, 0));
  EXPECT_EQ(steps.front(), 1);
  EXPECT_EQ(steps.back(), 200);
  EXPECT_TRUE(std::is_sorted(steps.begin(), steps.end()));
  // Recent points stay dense: the last few steps are all there.
  EXPECT_THAT(std::vector<int64_t>(steps.end() - 4, steps.end()), ElementsAre(197, 198, 199, 200));
  // The file holds what Read shows: header plus 56 bytes a point.
  EXPECT_EQ(fs::file_size(store.PathOf("s")), 16 + 56 * steps.size());
}

TEST(SamplePointsTest, EvenlySpreadWithBothEnds) {
  std::vector<HistoryPoint> points;
  for (int64_t step = 0; step <= 100; ++step) points.push_back(PointAt(step));
  EXPECT_THAT(Steps(SamplePoints(points, 5)), ElementsAre(0, 25, 50, 75, 100));
  EXPECT_THAT(Steps(SamplePoints(points, 1)), ElementsAre(100));
  EXPECT_THAT(SamplePoints(points, 0), SizeIs(101));
  EXPECT_THAT(SamplePoints(points, 500), SizeIs(101));
  EXPECT_THAT(SamplePoints(points, 100), SizeIs(100));
}

TEST_F(HistoryStoreTest, ATornLastRecordIsDroppedAndAppendsContinueAfterIt) {
  HistoryStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  for (int64_t step = 1; step <= 3; ++step) ASSERT_TRUE(store.Append("s", PointAt(step)).ok());
  // A crash in the middle of an append: half a record at the end.
  {
    std::ofstream out(store.PathOf("s"), std::ios::binary | std::ios::app);
    out.write("0123456789abcdefghijklmnopq", 27);
  }
  EXPECT_THAT(Steps(*store.Read("s", 0, 0)), ElementsAre(1, 2, 3));
  ASSERT_TRUE(store.Append("s", PointAt(4)).ok());
  EXPECT_THAT(Steps(*store.Read("s", 0, 0)), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(fs::file_size(store.PathOf("s")), 16u + 4 * 56);
}

TEST_F(HistoryStoreTest, ADamagedRecordIsSkippedAndABadHeaderStartsTheCurveAnew) {
  HistoryStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  for (int64_t step = 1; step <= 3; ++step) ASSERT_TRUE(store.Append("s", PointAt(step)).ok());
  {
    std::fstream file(store.PathOf("s"), std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(16 + 56 + 3);  // Inside the second record.
    file.put('\x7f');
  }
  EXPECT_THAT(Steps(*store.Read("s", 0, 0)), ElementsAre(1, 3));

  {
    std::ofstream out(store.PathOf("s"), std::ios::binary | std::ios::trunc);
    out << "not a history file at all, just text";
  }
  EXPECT_THAT(*store.Read("s", 0, 0), IsEmpty());
  ASSERT_TRUE(store.Append("s", PointAt(9)).ok());
  EXPECT_THAT(Steps(*store.Read("s", 0, 0)), ElementsAre(9));
}

TEST_F(HistoryStoreTest, DeleteAndKeepOnlyRemoveCurves) {
  HistoryStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(store.Append(name, PointAt(1)).ok());
  ASSERT_TRUE(store.Delete("a").ok());
  EXPECT_FALSE(fs::exists(store.PathOf("a")));
  EXPECT_THAT(*store.Read("a", 0, 0), IsEmpty());
  EXPECT_TRUE(store.Delete("a").ok());  // Nothing left to delete is fine.

  EXPECT_THAT(store.KeepOnly({"b"}), ElementsAre("c"));
  EXPECT_TRUE(fs::exists(store.PathOf("b")));
  EXPECT_FALSE(fs::exists(store.PathOf("c")));
}

TEST_F(HistoryStoreTest, OpenRemovesTemporaryFilesOfACrashedRewrite) {
  fs::create_directories(folder_);
  const std::string temp = folder_ + "/s.hist.tmp-123-0";
  std::ofstream(temp) << "partial";
  HistoryStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_FALSE(fs::exists(temp));
}

// After a crash the session is back at its snapshot: the points past it go, so the steps a
// resumed job redoes show once.
TEST_F(HistoryStoreTest, KeepUpToDropsThePointsPastAStep) {
  HistoryStore store(folder_);
  ASSERT_TRUE(store.Open().ok());
  for (int64_t step : {1, 2, 3, 4, 5}) ASSERT_TRUE(store.Append("s", PointAt(step)).ok());
  ASSERT_TRUE(store.KeepUpTo("s", 3).ok());
  ASSERT_TRUE(store.Append("s", PointAt(4)).ok());
  EXPECT_THAT(Steps(*store.Read("s", 0, 0)), ElementsAre(1, 2, 3, 4));
  ASSERT_TRUE(store.KeepUpTo("none", 3).ok());  // No curve: nothing to do.
  EXPECT_FALSE(std::filesystem::exists(store.PathOf("none")));
}

}  // namespace
}  // namespace mlpd
