// Tests of the terminal chart of a learning curve: where the marks land, the axes' labels,
// many points folded into columns, and what it says when there is nothing to draw.
#include "client/history_plot.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

v1::HistoryPoint Point(int64_t step, float train, double eval = -1) {
  v1::HistoryPoint point;
  point.set_step(step);
  point.set_train_loss(train);
  if (eval >= 0) point.mutable_eval()->set_loss(eval);
  return point;
}

std::vector<std::string> Lines(const std::string& chart) {
  return absl::StrSplit(chart, '\n', absl::SkipEmpty());
}

TEST(PlotHistoryTest, MarksLandWhereTheirLossAndStepSay) {
  // A falling train loss from 2 to 0 over steps 0..40, and one eval point at the top right.
  std::vector<v1::HistoryPoint> points;
  for (int64_t step = 0; step <= 40; step += 10) {
    points.push_back(Point(step, 2.0f - static_cast<float>(step) / 20.0f));
  }
  points.push_back(Point(40, 0.0f, 2.0));
  const std::vector<std::string> lines = Lines(PlotHistory(points, {/*width=*/9, /*height=*/5}));
  // Title, 5 rows, axis, step labels, "step".
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[1], "2 |*       o");  // Top row: loss 2 at step 0 (train) and 40 (eval).
  EXPECT_EQ(lines[3], "  |    *    ");  // Middle: loss 1 at step 20.
  EXPECT_EQ(lines[5], "0 |        *");  // Bottom: loss 0 at step 40.
  EXPECT_EQ(lines[6], "  +---------");
  EXPECT_EQ(lines[7], "   0      40");
}

TEST(PlotHistoryTest, TrainAndEvalInOneCellShowBoth) {
  const std::vector<v1::HistoryPoint> points = {Point(0, 1.0f, 1.0), Point(10, 0.0f, 0.0)};
  const std::string chart = PlotHistory(points, {8, 4});
  EXPECT_THAT(chart, HasSubstr("1 |#       "));
  EXPECT_THAT(chart, HasSubstr("0 |       #"));
}

TEST(PlotHistoryTest, ThousandsOfPointsFoldIntoTheColumns) {
  std::vector<v1::HistoryPoint> points;
  for (int64_t step = 1; step <= 5000; ++step) points.push_back(Point(step, 1.0f / step));
  const std::vector<std::string> lines = Lines(PlotHistory(points, {60, 10}));
  ASSERT_EQ(lines.size(), 14u);
  for (int row = 1; row <= 10; ++row) EXPECT_EQ(lines[row].size(), lines[1].size());
  EXPECT_THAT(lines.back(), HasSubstr("step"));
  EXPECT_THAT(lines[12], HasSubstr("5000"));
}

TEST(PlotHistoryTest, NothingToDrawSaysSo) {
  EXPECT_EQ(PlotHistory({}), "no points to plot\n");
  EXPECT_EQ(PlotHistory({Point(1, std::nanf(""))}), "no points to plot\n");
}

}  // namespace
}  // namespace mlpd
