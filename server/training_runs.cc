#include "server/training_runs.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace mlpd {

TrainingRuns::Lease& TrainingRuns::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    runs_ = std::exchange(other.runs_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void TrainingRuns::Lease::Release() {
  if (runs_ == nullptr) return;
  std::exchange(runs_, nullptr)->Close(std::exchange(bytes_, 0));
}

TrainingRuns::TrainingRuns(int64_t max_runs, NamedRegistry<Session>* memory)
    : max_runs_(max_runs), memory_(memory) {}

absl::StatusOr<TrainingRuns::Lease> TrainingRuns::Open(const RunCost& cost) {
  absl::MutexLock lock(&mutex_);
  if (max_runs_ > 0 && open_ >= max_runs_) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s is refused: %d training runs (Train calls and jobs) are open, the limit --max-trains "
        "is %d; retry once one ends",
        cost.what, open_, max_runs_));
  }
  if (memory_ != nullptr) {
    const absl::Status reserved =
        memory_->Reserve(cost.bytes, absl::StrFormat("%s (for %s)", cost.what, cost.held));
    if (!reserved.ok()) return reserved;
  }
  ++open_;
  return Lease(this, cost.bytes);
}

TrainingRuns::Lease TrainingRuns::OpenPastLimits(const RunCost& cost, std::string* over) {
  absl::StatusOr<Lease> lease = Open(cost);
  if (lease.ok()) {
    over->clear();
    return *std::move(lease);
  }
  *over = std::string(lease.status().message());
  absl::MutexLock lock(&mutex_);
  if (memory_ != nullptr) {
    memory_->Reserve(cost.bytes, "", NamedRegistry<Session>::AtLimit::kAdd).IgnoreError();
  }
  ++open_;
  return Lease(this, cost.bytes);
}

int64_t TrainingRuns::open() const {
  absl::MutexLock lock(&mutex_);
  return open_;
}

void TrainingRuns::Close(int64_t bytes) {
  if (memory_ != nullptr) memory_->Unreserve(bytes);
  absl::MutexLock lock(&mutex_);
  --open_;
}

}  // namespace mlpd
