// named_registry.h: a thread-safe name -> shared object map with limits and paging.
//
// Sessions and datasets are both found by name from any handler thread and listed in name
// order a page at a time. A handler takes a shared_ptr, so an entry removed meanwhile stays
// alive until the work holding it ends. Besides the number of entries, the registry can limit
// the memory they hold together: each entry is added with its size in bytes, and memory held on
// the entries' behalf for a while (a training run's shuffle order) is reserved against the same
// limit.
//
//   NamedRegistry<Session> sessions("session", {10000, "--max-sessions"},
//                                   {int64_t{4} << 30, "--max-sessions-mb"});
//   MLPD_RETURN_IF_ERROR(sessions.Add("a", session, session->memory_bytes));
//   absl::StatusOr<std::shared_ptr<Session>> found = sessions.Find("a");
#ifndef MLPD_SERVER_NAMED_REGISTRY_H_
#define MLPD_SERVER_NAMED_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace mlpd {

// RegistryLimit is one limit and the flag that sets it, named in RESOURCE_EXHAUSTED messages.
struct RegistryLimit {
  int64_t max = 0;  // 0: no limit.
  std::string flag;
};

template <typename T>
class NamedRegistry {
 public:
  // What Add does at a limit: refuse (new entries), or add and let the total pass it (entries
  // read back from disk at start-up, which a lowered limit must not lose).
  enum class AtLimit { kRefuse, kAdd };

  // `kind` names entries in messages ("session"); `bytes` limits the sum of the entries' sizes.
  NamedRegistry(std::string kind, RegistryLimit entries, RegistryLimit bytes = {})
      : kind_(std::move(kind)), max_entries_(std::move(entries)), max_bytes_(std::move(bytes)) {}

  // Add inserts `entry`, which holds `bytes` of memory: ALREADY_EXISTS when the name is taken,
  // RESOURCE_EXHAUSTED when either limit would be passed (unless `at_limit` is kAdd).
  absl::Status Add(const std::string& name, std::shared_ptr<T> entry, int64_t bytes = 0,
                   AtLimit at_limit = AtLimit::kRefuse) {
    absl::MutexLock lock(&mutex_);
    if (entries_.count(name) != 0) {
      return absl::AlreadyExistsError(absl::StrFormat("%s \"%s\" already exists", kind_, name));
    }
    if (at_limit == AtLimit::kRefuse && max_entries_.max > 0 &&
        static_cast<int64_t>(entries_.size()) >= max_entries_.max) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("the server holds %d %ss, the limit %s is %d", entries_.size(), kind_,
                          max_entries_.flag, max_entries_.max));
    }
    if (at_limit == AtLimit::kRefuse && max_bytes_.max > 0 &&
        bytes_ + reserved_ + bytes > max_bytes_.max) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("%s \"%s\" needs %.1f MiB and the %ss held take %.1f MiB%s; the limit "
                          "%s is %d",
                          kind_, name, Mib(bytes), kind_, Mib(bytes_ + reserved_), ReservedNote(),
                          max_bytes_.flag, max_bytes_.max >> 20));
    }
    entries_.emplace(name, Held{std::move(entry), bytes});
    bytes_ += bytes;
    return absl::OkStatus();
  }

  // Reserve counts `bytes` held on the entries' behalf (`what` describes them in the refusal)
  // until Unreserve: RESOURCE_EXHAUSTED, counting nothing, when the entries and the reservations
  // would pass the byte limit (unless `at_limit` is kAdd).
  absl::Status Reserve(int64_t bytes, absl::string_view what, AtLimit at_limit = AtLimit::kRefuse) {
    absl::MutexLock lock(&mutex_);
    if (at_limit == AtLimit::kRefuse && max_bytes_.max > 0 &&
        bytes_ + reserved_ + bytes > max_bytes_.max) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("%s needs %.1f MiB and the %ss held take %.1f MiB%s; the limit %s is %d",
                          what, Mib(bytes), kind_, Mib(bytes_ + reserved_), ReservedNote(),
                          max_bytes_.flag, max_bytes_.max >> 20));
    }
    reserved_ += bytes;
    return absl::OkStatus();
  }
  void Unreserve(int64_t bytes) {
    absl::MutexLock lock(&mutex_);
    reserved_ -= bytes;
  }

  // Find returns the entry or NOT_FOUND naming it.
  absl::StatusOr<std::shared_ptr<T>> Find(absl::string_view name) const {
    absl::MutexLock lock(&mutex_);
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) return NotFound(name);
    return it->second.entry;
  }

  // Remove takes the entry out and returns it, or NOT_FOUND.
  absl::StatusOr<std::shared_ptr<T>> Remove(absl::string_view name) {
    absl::MutexLock lock(&mutex_);
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) return NotFound(name);
    std::shared_ptr<T> entry = std::move(it->second.entry);
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    return entry;
  }

  // RemoveIf removes `name` only while it still maps to `entry` (undoing a failed creation),
  // and says whether it did.
  bool RemoveIf(const std::string& name, const T* entry) {
    absl::MutexLock lock(&mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.entry.get() != entry) return false;
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    return true;
  }

  // Page lists up to `page_size` entries (0: 100, capped at 1000) after `page_token` (the
  // last name of the previous page) in name order; `next_token` is empty on the last page.
  absl::Status Page(int32_t page_size, const std::string& page_token,
                    std::vector<std::shared_ptr<T>>* page, std::string* next_token) const {
    if (page_size < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("page_size is %d; expected 0 (default 100) to 1000", page_size));
    }
    const size_t size = page_size == 0 ? 100 : std::min<int32_t>(page_size, 1000);
    absl::MutexLock lock(&mutex_);
    auto it = page_token.empty() ? entries_.begin() : entries_.upper_bound(page_token);
    page->clear();
    next_token->clear();
    for (; it != entries_.end() && page->size() < size; ++it) page->push_back(it->second.entry);
    if (it != entries_.end() && !page->empty()) {
      *next_token = std::prev(it)->first;
    }
    return absl::OkStatus();
  }

  // All returns every entry in name order.
  std::vector<std::shared_ptr<T>> All() const {
    absl::MutexLock lock(&mutex_);
    std::vector<std::shared_ptr<T>> all;
    all.reserve(entries_.size());
    for (const auto& [name, held] : entries_) all.push_back(held.entry);
    return all;
  }

  int64_t size() const {
    absl::MutexLock lock(&mutex_);
    return static_cast<int64_t>(entries_.size());
  }

  // bytes is the sum of the sizes the entries were added with.
  int64_t bytes() const {
    absl::MutexLock lock(&mutex_);
    return bytes_;
  }
  // reserved_bytes is the sum of the reservations not yet given back.
  int64_t reserved_bytes() const {
    absl::MutexLock lock(&mutex_);
    return reserved_;
  }

  // OverLimit describes how the entries pass a limit (possible after AtLimit::kAdd), or is
  // empty.
  std::string OverLimit() const {
    absl::MutexLock lock(&mutex_);
    const int64_t count = static_cast<int64_t>(entries_.size());
    if (max_entries_.max > 0 && count > max_entries_.max) {
      return absl::StrFormat("%d %ss, over the limit %s of %d", count, kind_, max_entries_.flag,
                             max_entries_.max);
    }
    if (max_bytes_.max > 0 && bytes_ > max_bytes_.max) {
      return absl::StrFormat("%ss of %.1f MiB, over the limit %s of %d", kind_, Mib(bytes_),
                             max_bytes_.flag, max_bytes_.max >> 20);
    }
    return "";
  }

 private:
  struct Held {
    std::shared_ptr<T> entry;
    int64_t bytes;
  };

  static double Mib(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

  // ReservedNote says how much of what the entries take is reserved, when any is.
  std::string ReservedNote() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    if (reserved_ == 0) return "";
    return absl::StrFormat(" (%.1f MiB of it reserved for their training runs)", Mib(reserved_));
  }

  absl::Status NotFound(absl::string_view name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return absl::NotFoundError(absl::StrFormat("%s \"%s\" does not exist", kind_, name));
  }

  const std::string kind_;
  const RegistryLimit max_entries_;
  const RegistryLimit max_bytes_;

  mutable absl::Mutex mutex_;
  std::map<std::string, Held> entries_ ABSL_GUARDED_BY(mutex_);
  int64_t bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t reserved_ ABSL_GUARDED_BY(mutex_) = 0;  // By Reserve, not yet given back.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_NAMED_REGISTRY_H_
