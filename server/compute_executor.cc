#include "server/compute_executor.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace mlpd {
ComputeExecutor::ComputeExecutor(Options options)
    : options_(options), thread_([this] { Loop(); }) {}

ComputeExecutor::~ComputeExecutor() { Stop(); }

void ComputeExecutor::Enqueue(uint64_t key, Item item) {
  std::deque<Item>& queue = queues_[key];
  if (queue.empty()) ready_keys_.push_back(key);
  admitted_waiting_ += item.admitted ? 1 : 0;
  queue.push_back(std::move(item));
  ++queued_;
  submissions_.fetch_add(1, std::memory_order_release);
}

absl::Status ComputeExecutor::Submit(uint64_t key, Work work) {
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) {
      return absl::UnavailableError("the server is shutting down; no new work is accepted");
    }
    if (admitted_waiting_ >= options_.max_queue) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("the compute queue is full: --max-queue is %d and %d items are "
                          "waiting; retry later",
                          options_.max_queue, admitted_waiting_));
    }
    Enqueue(key, Item{std::move(work), /*admitted=*/true});
  }
  changed_.SignalAll();
  return absl::OkStatus();
}

void ComputeExecutor::Continue(uint64_t key, Work work) {
  {
    absl::MutexLock lock(&mutex_);
    if (!stopping_) {
      Enqueue(key, Item{std::move(work), /*admitted=*/false});
      work = nullptr;
    }
  }
  if (work != nullptr) {
    work(/*cancelled=*/true);
    return;
  }
  changed_.SignalAll();
}

void ComputeExecutor::Cancel(uint64_t key) {
  std::deque<Item> cancelled;
  {
    absl::MutexLock lock(&mutex_);
    auto it = queues_.find(key);
    if (it == queues_.end()) return;
    cancelled = std::move(it->second);
    queues_.erase(it);
    ready_keys_.erase(std::remove(ready_keys_.begin(), ready_keys_.end(), key), ready_keys_.end());
    queued_ -= static_cast<int64_t>(cancelled.size());
    for (const Item& item : cancelled) admitted_waiting_ -= item.admitted ? 1 : 0;
  }
  changed_.SignalAll();
  for (Item& item : cancelled) item.work(/*cancelled=*/true);
}

bool ComputeExecutor::TryRunInline(const std::function<void()>& work) {
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_ || running_ || queued_ > 0) return false;
    running_ = true;
  }
  omp_set_num_threads(1);
  const absl::Time started = absl::Now();
  work();
  if (options_.on_item_run) options_.on_item_run(absl::ZeroDuration(), absl::Now() - started);
  {
    absl::MutexLock lock(&mutex_);
    running_ = false;
  }
  changed_.SignalAll();
  return true;
}

bool ComputeExecutor::RunAndWait(uint64_t key, std::function<void()> work) {
  // Shared with the work: Abseil 20220623's WaitForNotification can return while Notify still
  // holds the notification's mutex, so the waiter must not be the one that destroys it.
  auto done = std::make_shared<absl::Notification>();
  bool ran = false;
  Continue(key, [done, &ran, &work](bool cancelled) {
    if (!cancelled) work();
    ran = !cancelled;
    done->Notify();
  });
  done->WaitForNotification();
  return ran;
}

bool ComputeExecutor::WaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&mutex_);
  while (queued_ > 0 || running_) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    changed_.WaitWithTimeout(&mutex_, std::min(left, absl::Milliseconds(50)));
  }
  return true;
}

void ComputeExecutor::Stop() {
  std::vector<Work> cancelled;
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  changed_.SignalAll();
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock lock(&mutex_);
    for (auto& [key, queue] : queues_) {
      for (Item& item : queue) cancelled.push_back(std::move(item.work));
    }
    queues_.clear();
    ready_keys_.clear();
    queued_ = 0;
    admitted_waiting_ = 0;
  }
  for (Work& work : cancelled) work(/*cancelled=*/true);
}

int64_t ComputeExecutor::queued() const {
  absl::MutexLock lock(&mutex_);
  return queued_;
}

void ComputeExecutor::SpinForWork() {
  const uint64_t seen = submissions_.load(std::memory_order_acquire);
  const absl::Time until = absl::Now() + options_.spin;
  while (submissions_.load(std::memory_order_acquire) == seen && absl::Now() < until) {
    // On a machine with few cores the gRPC threads that are receiving the next request may
    // need this core: give it to them rather than burning it.
    sched_yield();
  }
}

void ComputeExecutor::Loop() {
  // Named so that top -H, perf and gdb show which thread computes.
  pthread_setname_np(pthread_self(), "mlpd-compute");
  // The executor owns the cores: its OpenMP team is the only one that computes. A team never
  // gets more than OMP_THREAD_LIMIT threads, and work split for threads that never start is
  // never done (oneDNN's matmul left its share unwritten: nan losses), so stay within it.
  const int wanted = options_.threads > 0 ? options_.threads : omp_get_num_procs();
  omp_set_num_threads(std::min(wanted, omp_get_thread_limit()));
  absl::MutexLock lock(&mutex_);
  while (true) {
    if (ready_keys_.empty() && !stopping_ && options_.spin > absl::ZeroDuration()) {
      mutex_.Unlock();
      SpinForWork();
      mutex_.Lock();
    }
    while (!stopping_ && (ready_keys_.empty() || running_)) changed_.Wait(&mutex_);
    if (stopping_) return;
    const uint64_t key = ready_keys_.front();
    ready_keys_.pop_front();
    auto it = queues_.find(key);
    Item item = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) {
      queues_.erase(it);
    } else {
      ready_keys_.push_back(key);  // Take turns: the key's next item waits for the others.
    }
    --queued_;
    admitted_waiting_ -= item.admitted ? 1 : 0;
    running_ = true;
    mutex_.Unlock();
    const absl::Time started = absl::Now();
    item.work(/*cancelled=*/false);
    item.work = nullptr;  // Release captures off the lock.
    if (options_.on_item_run) options_.on_item_run(started - item.queued_at, absl::Now() - started);
    mutex_.Lock();
    running_ = false;
    changed_.SignalAll();
  }
}

}  // namespace mlpd
