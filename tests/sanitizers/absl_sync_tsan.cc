// Linked into every executable of the ThreadSanitizer build (MLPD_SANITIZE=thread) only.
//
// Debian's Abseil is not built with ThreadSanitizer, so absl::Mutex's own synchronisation and
// its ABSL_TSAN_MUTEX_* annotations are invisible to it: every access made under a lock looks
// like a race. This file defines the exported entry points of absl::Mutex, absl::CondVar and
// absl::Notification that take or release a lock or wait; an executable's definition wins over
// the shared library's for every call through the PLT, the libraries' own (gRPC's gpr_mu is an
// absl::Mutex) included. Each one forwards to the library's function and tells ThreadSanitizer
// what that call did, with the public annotations of <sanitizer/tsan_interface.h>, on that
// mutex's address only:
//  - Lock, TryLock (when it succeeded), ReaderLock, LockWhen...: a lock, an acquire;
//  - Unlock, ReaderUnlock: an unlock, a release;
//  - CondVar::Wait..., Mutex::Await...: the mutex is released, then held again on return;
//  - Notification: Notify releases, a wait that saw the notification (or an inline
//    HasBeenNotified() that returned true) acquires.
// No other edge is added, so a race between accesses that do not hold the same mutex, or that
// are not ordered by a Notification, is still reported (tests/sanitizers/tsan_race_check.cc
// keeps that true). Between the pre_ and post_ annotations ThreadSanitizer ignores the
// thread's accesses: that covers the conditions Abseil evaluates while it holds the mutex.
// The *WithTimeout functions call their *WithDeadline twins through the PLT, so only the
// latter are annotated. CondVar::Wait and Await assume the mutex is held exclusively.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

static_assert(ABSL_OPTION_USE_INLINE_NAMESPACE == 1, "mangled names below assume absl::<ns>::");
#define MLPD_STRING(name) #name
#define MLPD_EXPANDED_STRING(name) MLPD_STRING(name)

namespace {

// The library's definition of the function whose Itanium mangled name is
// "_Z" + qualifier + "4absl" + <inline namespace> + rest; aborts when the library has none, so
// an Abseil whose names differ fails loudly instead of running unannotated.
template <typename Function>
Function Real(const char* qualifier, const char* rest) {
  const std::string ns = MLPD_EXPANDED_STRING(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name =
      std::string("_Z") + qualifier + "4absl" + std::to_string(ns.size()) + ns + rest;
  void* symbol = dlsym(RTLD_NEXT, name.c_str());
  if (symbol == nullptr) {
    std::fprintf(stderr, "absl_sync_tsan: no %s in the loaded Abseil\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Function>(symbol);
}

// HasBeenNotified() is inline in the header and reads the flag with an acquire load, which
// ThreadSanitizer pairs with a release on the flag's address: every Notification edge is there.
void* Address(const std::atomic<bool>& flag) { return const_cast<std::atomic<bool>*>(&flag); }

// Tells ThreadSanitizer that `mu`, held exclusively, is released and then taken again by
// `wait`, which returns what `wait` returns.
template <typename Wait>
auto Reacquiring(absl::Mutex* mu, Wait wait) {
  __tsan_mutex_pre_unlock(mu, 0);
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
  auto result = wait();
  __tsan_mutex_post_lock(mu, 0, 0);
  return result;
}

// Tells ThreadSanitizer that `lock` takes `mu` (flags: __tsan_mutex_read_lock or 0).
template <typename Lock>
auto Locking(absl::Mutex* mu, unsigned flags, Lock lock) {
  __tsan_mutex_pre_lock(mu, flags);
  auto result = lock();
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

bool TryLocking(absl::Mutex* mu, unsigned flags, bool (*try_lock)(absl::Mutex*)) {
  flags |= __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(mu, flags);
  const bool locked = try_lock(mu);
  __tsan_mutex_post_lock(mu, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

void Unlocking(absl::Mutex* mu, unsigned flags, void (*unlock)(absl::Mutex*)) {
  __tsan_mutex_pre_unlock(mu, flags);
  unlock(mu);
  __tsan_mutex_post_unlock(mu, flags);
}

using MutexCall = void (*)(absl::Mutex*);
using MutexTry = bool (*)(absl::Mutex*);
using MutexWhen = void (*)(absl::Mutex*, const absl::Condition&);
using MutexUntil = bool (*)(absl::Mutex*, const absl::Condition&, absl::Time);

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexCall>("N", "5Mutex4LockEv");
  Locking(this, 0, [&] { return real(this), true; });
}

void Mutex::ReaderLock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexCall>("N", "5Mutex10ReaderLockEv");
  Locking(this, __tsan_mutex_read_lock, [&] { return real(this), true; });
}

bool Mutex::TryLock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexTry>("N", "5Mutex7TryLockEv");
  return TryLocking(this, 0, real);
}

bool Mutex::ReaderTryLock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexTry>("N", "5Mutex13ReaderTryLockEv");
  return TryLocking(this, __tsan_mutex_read_lock, real);
}

void Mutex::Unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexCall>("N", "5Mutex6UnlockEv");
  Unlocking(this, 0, real);
}

void Mutex::ReaderUnlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexCall>("N", "5Mutex12ReaderUnlockEv");
  Unlocking(this, __tsan_mutex_read_lock, real);
}

void Mutex::LockWhen(const Condition& cond) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexWhen>("N", "5Mutex8LockWhenERKNS0_9ConditionE");
  Locking(this, 0, [&] { return real(this, cond), true; });
}

void Mutex::ReaderLockWhen(const Condition& cond) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real = Real<MutexWhen>("N", "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Locking(this, __tsan_mutex_read_lock, [&] { return real(this, cond), true; });
}

// Returns whether `cond` holds; the mutex is held either way.
bool Mutex::LockWhenWithDeadline(const Condition& cond,
                                 Time deadline) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real =
      Real<MutexUntil>("N", "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking(this, 0, [&] { return real(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond,
                                       Time deadline) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const auto real =
      Real<MutexUntil>("N", "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking(this, __tsan_mutex_read_lock, [&] { return real(this, cond, deadline); });
}

void Mutex::Await(const Condition& cond) {
  static const auto real = Real<MutexWhen>("N", "5Mutex5AwaitERKNS0_9ConditionE");
  Reacquiring(this, [&] { return real(this, cond), true; });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real =
      Real<MutexUntil>("N", "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Reacquiring(this, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = Real<void (*)(CondVar*, Mutex*)>("N", "7CondVar4WaitEPNS0_5MutexE");
  Reacquiring(mu, [&] { return real(this, mu), true; });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      "N", "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Reacquiring(mu, [&] { return real(this, mu, deadline); });
}

void Notification::Notify() {
  static const auto real = Real<void (*)(Notification*)>("N", "12Notification6NotifyEv");
  __tsan_release(Address(notified_yet_));
  real(this);
}

void Notification::WaitForNotification() const {
  static const auto real =
      Real<void (*)(const Notification*)>("NK", "12Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(Address(notified_yet_));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static const auto real = Real<bool (*)(const Notification*, Duration)>(
      "NK", "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(Address(notified_yet_));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static const auto real = Real<bool (*)(const Notification*, Time)>(
      "NK", "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(Address(notified_yet_));
  return notified;
}

// What the library's destructor does (wait until a Notify() still inside mutex_ is done), and
// the flag's address forgets its history.
Notification::~Notification() {
  MutexLock lock(&mutex_);
  __tsan_mutex_destroy(Address(notified_yet_), 0);
}

ABSL_NAMESPACE_END
}  // namespace absl
