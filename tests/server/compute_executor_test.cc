// ComputeExecutor: per-key order, turns between keys, cancellation and the queue limit.
#include "server/compute_executor.h"

#include <time.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Blocker holds the executor thread until Release(), so tests can queue work behind it.
class Blocker {
 public:
  ComputeExecutor::Work Work() {
    return [this](bool) {
      started_.Notify();
      released_.WaitForNotification();
    };
  }
  // WaitStarted returns once the executor runs the blocker (its queue is empty again).
  void WaitStarted() { started_.WaitForNotification(); }
  void Release() { released_.Notify(); }

 private:
  absl::Notification started_;
  absl::Notification released_;
};

TEST(ComputeExecutorTest, KeysTakeTurnsAndEachKeyKeepsItsOrder) {
  ComputeExecutor executor({/*max_queue=*/100, /*threads=*/1});
  Blocker blocker;
  ASSERT_TRUE(executor.Submit(99, blocker.Work()).ok());
  std::mutex mutex;
  std::vector<std::string> order;
  auto record = [&](std::string label) {
    return [&, label](bool cancelled) {
      std::lock_guard<std::mutex> lock(mutex);
      order.push_back(cancelled ? "cancelled " + label : label);
    };
  };
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(executor.Submit(1, record("a" + std::to_string(i))).ok());
  for (int i = 1; i <= 2; ++i)
    ASSERT_TRUE(executor.Submit(2, record("b" + std::to_string(i))).ok());
  blocker.Release();
  ASSERT_TRUE(executor.WaitIdle(absl::Now() + absl::Seconds(10)));
  EXPECT_THAT(order, ElementsAre("a1", "b1", "a2", "b2", "a3"));
}

TEST(ComputeExecutorTest, ContinuationsGoBehindOtherKeys) {
  ComputeExecutor executor({100, 1});
  std::mutex mutex;
  std::vector<std::string> order;
  Blocker blocker;
  ASSERT_TRUE(executor.Submit(9, blocker.Work()).ok());
  // Key 1 is a "long job" of three items, each queuing the next; key 2 has two calls.
  std::function<void(int)> job = [&](int part) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      order.push_back("job" + std::to_string(part));
    }
    if (part < 3) executor.Continue(1, [&, part](bool) { job(part + 1); });
  };
  ASSERT_TRUE(executor.Submit(1, [&](bool) { job(1); }).ok());
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(executor
                    .Submit(2,
                            [&, i](bool) {
                              std::lock_guard<std::mutex> lock(mutex);
                              order.push_back("call" + std::to_string(i));
                            })
                    .ok());
  }
  blocker.Release();
  ASSERT_TRUE(executor.WaitIdle(absl::Now() + absl::Seconds(10)));
  EXPECT_THAT(order, ElementsAre("job1", "call1", "job2", "call2", "job3"));
}

TEST(ComputeExecutorTest, FullQueueIsRefusedAtOnceNamingTheLimit) {
  ComputeExecutor executor({/*max_queue=*/2, 1});
  Blocker blocker;
  ASSERT_TRUE(executor.Submit(1, blocker.Work()).ok());
  blocker.WaitStarted();
  std::atomic<int> ran{0};
  ASSERT_TRUE(executor.Submit(2, [&](bool c) { ran += c ? 0 : 1; }).ok());
  ASSERT_TRUE(executor.Submit(3, [&](bool c) { ran += c ? 0 : 1; }).ok());
  const absl::Status refused = executor.Submit(4, [&](bool) { ran += 100; });
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("--max-queue is 2"));
  executor.Continue(5, [&](bool c) { ran += c ? 0 : 1; });  // Continuations always fit.
  blocker.Release();
  ASSERT_TRUE(executor.WaitIdle(absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(ran.load(), 3);
  EXPECT_TRUE(executor.Submit(4, [](bool) {}).ok());
}

TEST(ComputeExecutorTest, CancelAnswersQueuedWorkOfTheKeyOnly) {
  ComputeExecutor executor({100, 1});
  Blocker blocker;
  ASSERT_TRUE(executor.Submit(1, blocker.Work()).ok());
  std::atomic<int> ran{0}, cancelled{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(executor.Submit(7, [&](bool c) { (c ? cancelled : ran)++; }).ok());
    ASSERT_TRUE(executor.Submit(8, [&](bool c) { (c ? cancelled : ran)++; }).ok());
  }
  executor.Cancel(7);
  EXPECT_EQ(cancelled.load(), 3);
  blocker.Release();
  ASSERT_TRUE(executor.WaitIdle(absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(cancelled.load(), 3);
}

TEST(ComputeExecutorTest, StopCancelsWhatIsLeftAndRefusesNewWork) {
  auto executor = std::make_unique<ComputeExecutor>(ComputeExecutor::Options{100, 1});
  Blocker blocker;
  ASSERT_TRUE(executor->Submit(1, blocker.Work()).ok());
  std::atomic<int> cancelled{0};
  ASSERT_TRUE(executor->Submit(2, [&](bool c) { cancelled += c ? 1 : 0; }).ok());
  std::thread stopper([&] { executor->Stop(); });
  absl::SleepFor(absl::Milliseconds(50));
  blocker.Release();
  stopper.join();
  EXPECT_EQ(cancelled.load(), 1);
  EXPECT_EQ(executor->Submit(3, [](bool) {}).code(), absl::StatusCode::kUnavailable);
}

TEST(ComputeExecutorTest, RunAndWaitRunsOnTheExecutorThread) {
  ComputeExecutor executor({100, 1});
  std::thread::id executor_thread;
  ASSERT_TRUE(executor.RunAndWait(0, [&] { executor_thread = std::this_thread::get_id(); }));
  EXPECT_NE(executor_thread, std::this_thread::get_id());
  std::thread::id again;
  ASSERT_TRUE(executor.RunAndWait(5, [&] { again = std::this_thread::get_id(); }));
  EXPECT_EQ(again, executor_thread);
}

double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9;
}

TEST(ComputeExecutorTest, SpinningExecutorRunsWorkInOrderThenSleeps) {
  ComputeExecutor executor({100, 1, absl::Milliseconds(20)});
  std::mutex mutex;
  std::vector<int> order;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(executor
                      .Submit(1,
                              [&, i, round](bool cancelled) {
                                std::lock_guard<std::mutex> lock(mutex);
                                order.push_back(cancelled ? -1 : round * 4 + i);
                              })
                      .ok());
    }
    // Submitted while the executor polls (within its 20 ms) and after it went to sleep.
    absl::SleepFor(absl::Milliseconds(round == 1 ? 100 : 2));
  }
  ASSERT_TRUE(executor.WaitIdle(absl::Now() + absl::Seconds(10)));
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));

  // Idle past its spin, the executor sleeps: half a second costs the process almost no CPU.
  absl::SleepFor(absl::Milliseconds(50));
  const double before = ProcessCpuSeconds();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_LT(ProcessCpuSeconds() - before, 0.05);
}

}  // namespace
}  // namespace mlpd

namespace mlpd {
namespace {

TEST(ComputeExecutorTest, TryRunInlineOnlyWhenIdleAndExcludesTheExecutor) {
  ComputeExecutor executor({100, 1});
  bool ran = false;
  ASSERT_TRUE(executor.TryRunInline([&] { ran = true; }));
  EXPECT_TRUE(ran);

  // Busy executor: inline work is refused, so it cannot overtake queued work.
  Blocker blocker;
  ASSERT_TRUE(executor.Submit(1, blocker.Work()).ok());
  blocker.WaitStarted();
  EXPECT_FALSE(executor.TryRunInline([] {}));
  blocker.Release();
  ASSERT_TRUE(executor.WaitIdle(absl::Now() + absl::Seconds(10)));

  // While inline work runs, queued work waits for it.
  std::atomic<bool> inline_running{false};
  std::atomic<bool> overlapped{false};
  std::promise<void> submitted;
  std::thread caller([&] {
    executor.TryRunInline([&] {
      inline_running = true;
      submitted.get_future().wait();
      absl::SleepFor(absl::Milliseconds(50));
      inline_running = false;
    });
  });
  while (!inline_running) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(executor.Submit(2, [&](bool) { overlapped = inline_running.load(); }).ok());
  submitted.set_value();
  caller.join();
  ASSERT_TRUE(executor.WaitIdle(absl::Now() + absl::Seconds(10)));
  EXPECT_FALSE(overlapped.load());
}

}  // namespace
}  // namespace mlpd
