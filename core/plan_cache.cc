#include "core/plan_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace mlpd {
namespace {

// Plans one thread's cache keeps: enough for a few sessions' training, partial and evaluation
// batch sizes.
constexpr size_t kMaxPlans = 32;

}  // namespace

const dnnl::engine& CpuEngine() {
  // Never destroyed: thread-local caches may outlive static destruction at exit.
  static const dnnl::engine* const engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

PlanCache& PlanCache::ForThisThread() {
  thread_local PlanCache cache;
  return cache;
}

PlanCache::PlanCache() : stream_(CpuEngine()) {}

std::string PlanCache::ShapeKey(const ModelSpec& spec) {
  std::string key = absl::StrCat(spec.input_size);
  for (const LayerSpec& layer : spec.layers) {
    absl::StrAppend(&key, "-", layer.units, ActivationName(layer.activation));
  }
  return key;
}

absl::StatusOr<OnednnPlan*> PlanCache::Get(const ModelSpec& spec, const std::string& shape_key,
                                           int64_t rows, int threads) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->rows == rows && it->threads == threads && it->shape_key == shape_key) {
      entries_.splice(entries_.begin(), entries_, it);
      return entries_.front().plan.get();
    }
  }
  MLPD_ASSIGN_OR_RETURN(std::unique_ptr<OnednnPlan> plan,
                        OnednnPlan::Create(spec, rows, CpuEngine()));
  entries_.push_front(Entry{shape_key, rows, threads, std::move(plan)});
  // Backward buffers are added on first training use; counting at insertion is close enough
  // for a bound.
  Recount();
  while (entries_.size() > 1 && (entries_.size() > kMaxPlans || bytes_ > kMaxBytes)) {
    bytes_ -= entries_.back().plan->ApproximateBytes();
    entries_.pop_back();
  }
  return entries_.front().plan.get();
}

void PlanCache::Trim(int64_t max_bytes) {
  Recount();  // A plan's backward buffers are added after Get counted it.
  while (!entries_.empty() && bytes_ > max_bytes) {
    bytes_ -= entries_.back().plan->ApproximateBytes();
    entries_.pop_back();
  }
}

void PlanCache::Drop(const std::string& shape_key) {
  entries_.remove_if([&](const Entry& entry) { return entry.shape_key == shape_key; });
  Recount();
}

void PlanCache::Recount() {
  bytes_ = 0;
  for (const Entry& entry : entries_) bytes_ += entry.plan->ApproximateBytes();
}

}  // namespace mlpd
