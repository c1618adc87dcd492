#include "server/serial_worker.h"

#include <utility>

namespace mlpd {

SerialWorker::SerialWorker() : thread_([this] { Loop(); }) {}

SerialWorker::~SerialWorker() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  changed_.SignalAll();
  thread_.join();
}

void SerialWorker::Post(std::function<void()> task) {
  {
    absl::MutexLock lock(&mutex_);
    tasks_.push_back(std::move(task));
  }
  changed_.SignalAll();
}

void SerialWorker::Flush() {
  absl::MutexLock lock(&mutex_);
  while (!tasks_.empty() || running_task_) changed_.Wait(&mutex_);
}

void SerialWorker::Loop() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    while (!stopping_ && tasks_.empty()) changed_.Wait(&mutex_);
    if (tasks_.empty()) return;  // Stopping with nothing left to run.
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    running_task_ = true;
    mutex_.Unlock();
    task();
    task = nullptr;  // Release the captures off the lock.
    mutex_.Lock();
    running_task_ = false;
    changed_.SignalAll();
  }
}

}  // namespace mlpd
