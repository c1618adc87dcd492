// compute_executor.h: the one thread that runs every engine call of the server.
//
// oneDNN here runs on OpenMP, and every thread calling a primitive starts its own OpenMP team;
// computing on many gRPC threads at once would oversubscribe the cores. So handlers only
// validate and enqueue, and this executor runs the work on one thread that owns the cores.
// Work is queued per key (a session's id): items of one key run in the order submitted, and
// keys take turns one item at a time, so a long Train (one item per mini-batch, each one
// re-submitting the next with Continue) never starves the other sessions.
//
// Waking a sleeping thread costs tens of microseconds here (measured 60-90 us on a 2-core VM),
// paid on every request of a client that calls again as soon as it has its answer. So after
// each item the executor polls for new work for `spin` (yielding the core to any other
// runnable thread between polls) before it sleeps. An idle server still uses no CPU.
//
//   ComputeExecutor executor({/*max_queue=*/1024, /*threads=*/2, absl::Microseconds(500)});
//   absl::Status queued = executor.Submit(session_id, [](bool cancelled) { ... });
//   executor.Cancel(session_id);  // queued items of the session run with cancelled == true
#ifndef MLPD_SERVER_COMPUTE_EXECUTOR_H_
#define MLPD_SERVER_COMPUTE_EXECUTOR_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mlpd {

class ComputeExecutor {
 public:
  // Work runs once: on the executor with cancelled == false, or with cancelled == true when
  // its key is cancelled or the executor stops before running it (then it must only answer
  // its caller, never compute).
  using Work = std::function<void(bool cancelled)>;

  struct Options {
    int64_t max_queue = 1024;  // Items waiting (not counting continuations) before rejecting.
    int threads = 0;           // OpenMP threads of the executor thread; 0: all cores.
    absl::Duration spin = absl::ZeroDuration();  // Polling for new work before sleeping.
    // Called on the executor after each item with its wait in the queue and its run time (the
    // metrics); may be empty.
    std::function<void(absl::Duration waited, absl::Duration ran)> on_item_run = nullptr;
  };

  explicit ComputeExecutor(Options options);
  // The destructor cancels whatever is still queued and joins the thread.
  ~ComputeExecutor();
  ComputeExecutor(const ComputeExecutor&) = delete;
  ComputeExecutor& operator=(const ComputeExecutor&) = delete;

  // Submit queues `work` behind the key's earlier items. RESOURCE_EXHAUSTED at once, naming
  // the limit, when max_queue items are already waiting.
  absl::Status Submit(uint64_t key, Work work);
  // Continue queues work that was already admitted (the next mini-batch of a Train, the
  // deletion of a session): it is never refused.
  void Continue(uint64_t key, Work work);
  // Cancel removes every queued item of `key` and runs each with cancelled == true on the
  // calling thread. An item already running finishes normally.
  void Cancel(uint64_t key);

  // TryRunInline runs `work` at once on the calling thread when the executor is idle (nothing
  // queued, nothing running) and returns true; otherwise it returns false and does nothing.
  // While it runs, the calling thread is the executor: nothing else computes. The caller's
  // OpenMP team is set to one thread, as only tiny work is worth running this way (a thread
  // hand-off would cost more than the work).
  bool TryRunInline(const std::function<void()>& work);

  // RunAndWait runs `work` on the executor under `key` and returns when it has run (true) or
  // was cancelled (false). For start-up and shutdown, never from the executor thread.
  bool RunAndWait(uint64_t key, std::function<void()> work);

  // WaitIdle waits until nothing is queued or running, or until `deadline`; true when idle.
  bool WaitIdle(absl::Time deadline);
  // Stop cancels what is queued and joins the thread; later submissions are refused.
  void Stop();

  int64_t queued() const;
  const Options& options() const { return options_; }

 private:
  struct Item {
    Work work;
    bool admitted;  // Counts against max_queue (a Submit, not a Continue).
    absl::Time queued_at = absl::Now();
  };

  void Loop();
  // SpinForWork polls, with mutex_ released, until an item is submitted or `spin` has passed.
  void SpinForWork() ABSL_LOCKS_EXCLUDED(mutex_);
  // Enqueue appends `item` to the key's FIFO.
  void Enqueue(uint64_t key, Item item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Options options_;

  mutable absl::Mutex mutex_;
  // Signalled when work is queued, when an item has run and at stop.
  absl::CondVar changed_;
  // Per-key FIFOs, the keys with work in round-robin order, counters.
  absl::flat_hash_map<uint64_t, std::deque<Item>> queues_ ABSL_GUARDED_BY(mutex_);
  std::deque<uint64_t> ready_keys_ ABSL_GUARDED_BY(mutex_);
  int64_t queued_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t admitted_waiting_ ABSL_GUARDED_BY(mutex_) = 0;  // Queued items with admitted == true.
  bool running_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  // Items ever queued; read without the lock by SpinForWork.
  std::atomic<uint64_t> submissions_{0};

  std::thread thread_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_COMPUTE_EXECUTOR_H_
