// ThreadChoice: both settings measured first, then the faster, with rarer retries of the
// slower the more it lost, and a switch once the machine changes.
#include "core/thread_choice.h"

#include <vector>

#include "gtest/gtest.h"

namespace mlpd {
namespace {

constexpr int kAvailable = 2;

// Run takes `steps` steps whose time on one thread is `one` and on two `two`, and returns the
// thread count of each.
std::vector<int> RunSteps(ThreadChoice& choice, int steps, double one, double two) {
  std::vector<int> used;
  for (int step = 0; step < steps; ++step) {
    const int threads = choice.Next(kAvailable);
    choice.Record(threads, threads == 1 ? one : two);
    used.push_back(threads);
  }
  return used;
}

int Count(const std::vector<int>& used, int threads) {
  int count = 0;
  for (int used_threads : used) count += used_threads == threads;
  return count;
}

TEST(ThreadChoiceTest, MeasuresBothSettingsTwiceFirst) {
  ThreadChoice choice;
  EXPECT_EQ(choice.Preferred(kAvailable), kAvailable);
  const std::vector<int> used = RunSteps(choice, 4, 1.0, 1.0);
  EXPECT_EQ(used, (std::vector<int>{2, 2, 1, 1}));
}

TEST(ThreadChoiceTest, RunsTheFasterAndRetriesTheSlowerRarely) {
  ThreadChoice choice;
  RunSteps(choice, 4, /*one=*/1.0, /*two=*/0.6);
  EXPECT_EQ(choice.Preferred(kAvailable), kAvailable);
  const std::vector<int> used = RunSteps(choice, 640, 1.0, 0.6);
  // Retried once every 32 steps times (1 + the integer part of how many times slower).
  EXPECT_EQ(Count(used, 1), 640 / 64);

  ThreadChoice contended;
  RunSteps(contended, 4, /*one=*/1.0, /*two=*/10.0);
  EXPECT_EQ(contended.Preferred(kAvailable), 1);
  const std::vector<int> contended_used = RunSteps(contended, 704, 1.0, 10.0);
  EXPECT_EQ(Count(contended_used, kAvailable), 704 / (32 * 11));
}

TEST(ThreadChoiceTest, SwitchesWhenTheOtherSettingBecomesFaster) {
  ThreadChoice choice;
  RunSteps(choice, 100, /*one=*/1.0, /*two=*/3.0);  // The second core is busy.
  EXPECT_EQ(choice.Preferred(kAvailable), 1);
  RunSteps(choice, 1000, /*one=*/1.0, /*two=*/0.6);  // It is free again.
  EXPECT_EQ(choice.Preferred(kAvailable), kAvailable);
  const std::vector<int> used = RunSteps(choice, 100, 1.0, 0.6);
  EXPECT_GE(Count(used, kAvailable), 95);
}

TEST(ThreadChoiceTest, TheFirstStepOfASettingDoesNotCount) {
  // A setting's first step builds its primitives: 50x its later steps.
  ThreadChoice choice;
  choice.Record(choice.Next(kAvailable), 50.0);
  choice.Record(choice.Next(kAvailable), 0.6);
  choice.Record(choice.Next(kAvailable), 40.0);
  choice.Record(choice.Next(kAvailable), 1.0);
  EXPECT_EQ(choice.Preferred(kAvailable), kAvailable);
}

}  // namespace
}  // namespace mlpd
