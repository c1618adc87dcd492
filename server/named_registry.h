// named_registry.h: a thread-safe name -> shared object map with a size limit and paging.
//
// Sessions and datasets are both found by name from any handler thread and listed in name
// order a page at a time. A handler takes a shared_ptr, so an entry removed meanwhile stays
// alive until the work holding it ends.
//
//   NamedRegistry<Session> sessions("session", /*max_entries=*/10000, "--max-sessions");
//   MLPD_RETURN_IF_ERROR(sessions.Add("a", session));
//   absl::StatusOr<std::shared_ptr<Session>> found = sessions.Find("a");
#ifndef MLPD_SERVER_NAMED_REGISTRY_H_
#define MLPD_SERVER_NAMED_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace mlpd {

template <typename T>
class NamedRegistry {
 public:
  // `kind` names entries in messages ("session"); `limit_flag` names the flag of max_entries.
  NamedRegistry(std::string kind, int64_t max_entries, std::string limit_flag)
      : kind_(std::move(kind)), max_entries_(max_entries), limit_flag_(std::move(limit_flag)) {}

  // Add inserts `entry`: ALREADY_EXISTS when the name is taken, RESOURCE_EXHAUSTED at the limit.
  absl::Status Add(const std::string& name, std::shared_ptr<T> entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.count(name) != 0) {
      return absl::AlreadyExistsError(absl::StrFormat("%s \"%s\" already exists", kind_, name));
    }
    if (max_entries_ > 0 && static_cast<int64_t>(entries_.size()) >= max_entries_) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("the server holds %d %ss, the limit %s is %d", entries_.size(), kind_,
                          limit_flag_, max_entries_));
    }
    entries_.emplace(name, std::move(entry));
    return absl::OkStatus();
  }

  // Find returns the entry or NOT_FOUND naming it.
  absl::StatusOr<std::shared_ptr<T>> Find(absl::string_view name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) return NotFound(name);
    return it->second;
  }

  // Remove takes the entry out and returns it, or NOT_FOUND.
  absl::StatusOr<std::shared_ptr<T>> Remove(absl::string_view name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) return NotFound(name);
    std::shared_ptr<T> entry = std::move(it->second);
    entries_.erase(it);
    return entry;
  }

  // RemoveIf removes `name` only while it still maps to `entry` (undoing a failed creation).
  void RemoveIf(const std::string& name, const T* entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(name);
    if (it != entries_.end() && it->second.get() == entry) entries_.erase(it);
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
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = page_token.empty() ? entries_.begin() : entries_.upper_bound(page_token);
    page->clear();
    next_token->clear();
    for (; it != entries_.end() && page->size() < size; ++it) page->push_back(it->second);
    if (it != entries_.end() && !page->empty()) {
      *next_token = std::prev(it)->first;
    }
    return absl::OkStatus();
  }

  // All returns every entry in name order.
  std::vector<std::shared_ptr<T>> All() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::shared_ptr<T>> all;
    all.reserve(entries_.size());
    for (const auto& [name, entry] : entries_) all.push_back(entry);
    return all;
  }

  int64_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int64_t>(entries_.size());
  }

 private:
  absl::Status NotFound(absl::string_view name) const {
    return absl::NotFoundError(absl::StrFormat("%s \"%s\" does not exist", kind_, name));
  }

  const std::string kind_;
  const int64_t max_entries_;  // 0: no limit.
  const std::string limit_flag_;

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<T>> entries_;  // Guarded by mutex_.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_NAMED_REGISTRY_H_
