// serial_worker.h: one background thread running posted tasks in order.
//
// The server writes snapshot and dataset files on a SerialWorker so the compute executor never
// waits for a disk: the executor copies the parameters, posts the write and moves on. Tasks
// run in the order posted, which keeps every file's writes and deletions in order.
//
//   SerialWorker writer;
//   writer.Post([checkpoint] { store.SaveSession("a", *checkpoint); });
//   writer.Flush();  // every task posted so far has run
#ifndef MLPD_SERVER_SERIAL_WORKER_H_
#define MLPD_SERVER_SERIAL_WORKER_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mlpd {

class SerialWorker {
 public:
  SerialWorker();
  // The destructor runs the tasks still queued, then joins the thread.
  ~SerialWorker();
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  // Post queues `task`; it runs on the worker thread after every task posted before it.
  void Post(std::function<void()> task);
  // Flush returns once every task posted before the call has run.
  void Flush();

 private:
  void Loop();

  absl::Mutex mutex_;
  absl::CondVar changed_;  // Signalled when a task is posted or has run, and at stop.
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mutex_);
  bool running_task_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SERIAL_WORKER_H_
