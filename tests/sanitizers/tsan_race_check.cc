// Keeps the ThreadSanitizer build honest (tests/CMakeLists.txt runs each case as a test):
//   Handoffs             hands data between threads in every way mlpd uses Abseil for
//                        (MutexLock, ReaderMutexLock, CondVar, Await, Notification, an inline
//                        HasBeenNotified()): must run without a report, or absl_sync_tsan.cc
//                        misses an edge;
//   UnsynchronisedWrite  two threads write one int with nothing between them;
//   UnguardedRead        a field written under its mutex is read without it;
//   ReadUnderOtherMutex  a field written under one mutex is read under another;
// each of the last three must be reported, so neither the annotations nor tsan.supp can hide
// a race between accesses that do not share a lock.
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

struct Guarded {
  absl::Mutex mutex;
  absl::Mutex other;
  int value ABSL_GUARDED_BY(mutex) = 0;
};

// volatile keeps the compiler from folding these accesses away.
void Write(int* target, int value) { *static_cast<volatile int*>(target) = value; }
int Read(const int* source) { return *static_cast<const volatile int*>(source); }

void UnsynchronisedWrite() {
  int shared = 0;
  std::thread first([&] { Write(&shared, 1); });
  std::thread second([&] { Write(&shared, 2); });
  first.join();
  second.join();
}

void UnguardedRead() {
  Guarded guarded;
  std::thread writer([&] {
    absl::MutexLock lock(&guarded.mutex);
    Write(&guarded.value, 1);
  });
  std::thread reader(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { std::printf("read %d\n", Read(&guarded.value)); });
  writer.join();
  reader.join();
}

void ReadUnderOtherMutex() {
  Guarded guarded;
  std::thread writer([&] {
    absl::MutexLock lock(&guarded.mutex);
    Write(&guarded.value, 1);
  });
  std::thread reader([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    absl::MutexLock lock(&guarded.other);
    std::printf("read %d\n", Read(&guarded.value));
  });
  writer.join();
  reader.join();
}

// Each handoff writes plain memory on one thread and reads it on another, ordered only by the
// Abseil primitive under test; the threads are started before the write so that thread
// creation orders nothing.
void Handoffs() {
  Guarded guarded;
  {  // Mutex: both threads add under the lock.
    auto add = [&] {
      for (int i = 0; i < 1000; ++i) {
        absl::MutexLock lock(&guarded.mutex);
        Write(&guarded.value, Read(&guarded.value) + 1);
      }
    };
    std::thread first(add), second(add);
    first.join();
    second.join();
  }
  {  // Await waits for a value written under the lock; ReaderMutexLock reads one.
    std::thread awaiting([&] {
      absl::MutexLock lock(&guarded.mutex);
      guarded.mutex.Await(absl::Condition(
          +[](int* value) { return Read(value) == 3000; }, &guarded.value));
    });
    std::thread reading([&] {
      for (bool seen = false; !seen;) {
        absl::ReaderMutexLock lock(&guarded.mutex);
        seen = Read(&guarded.value) == 4000;
      }
    });
    {
      absl::MutexLock lock(&guarded.mutex);
      Write(&guarded.value, 3000);
    }
    awaiting.join();
    {
      absl::MutexLock lock(&guarded.mutex);
      Write(&guarded.value, 4000);
    }
    reading.join();
  }
  {  // CondVar: the waiter sees what the signaller wrote.
    absl::CondVar changed;
    int payload = 0;
    bool ready = false;
    std::thread waiter([&] {
      absl::MutexLock lock(&guarded.mutex);
      while (!ready) changed.Wait(&guarded.mutex);
      Read(&payload);
    });
    {
      absl::MutexLock lock(&guarded.mutex);
      Write(&payload, 7);
      ready = true;
    }
    changed.Signal();
    waiter.join();
  }
  {  // Notification, waited for and polled through the inline HasBeenNotified().
    int payload = 0;
    absl::Notification done;
    std::thread waiter([&] {
      done.WaitForNotification();
      Read(&payload);
    });
    int polled = 0;
    absl::Notification polled_done;
    std::thread poller([&] {
      while (!polled_done.HasBeenNotified()) std::this_thread::yield();
      Read(&polled);
    });
    Write(&payload, 1);
    done.Notify();
    Write(&polled, 1);
    polled_done.Notify();
    waiter.join();
    poller.join();
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* name = argc == 2 ? argv[1] : "";
  if (std::strcmp(name, "Handoffs") == 0) {
    Handoffs();
  } else if (std::strcmp(name, "UnsynchronisedWrite") == 0) {
    UnsynchronisedWrite();
  } else if (std::strcmp(name, "UnguardedRead") == 0) {
    UnguardedRead();
  } else if (std::strcmp(name, "ReadUnderOtherMutex") == 0) {
    ReadUnderOtherMutex();
  } else {
    std::fprintf(stderr,
                 "usage: %s Handoffs|UnsynchronisedWrite|UnguardedRead|ReadUnderOtherMutex\n",
                 argv[0]);
    return 2;
  }
  std::printf("%s: done\n", name);
  return 0;
}
