// plan_cache.h: the calling thread's oneDNN plans, shared by every model of the same shape.
//
// A plan binds the parameters on each call, so models with the same layers and batch size can
// share one. Keeping plans per thread (not per model) makes an idle model cost only its
// parameters and optimizer state (the server hosts thousands of small sessions) and keeps each
// primitive on a single thread, as oneDNN requires. The cache is bounded (least recently used
// plans are dropped) and lives until its thread exits.
//
//   PlanCache& cache = PlanCache::ForThisThread();
//   absl::StatusOr<OnednnPlan*> plan = cache.Get(spec, PlanCache::ShapeKey(spec), rows, threads);
//   (*plan)->Forward(cache.stream(), x, parameters);
#ifndef MLPD_CORE_PLAN_CACHE_H_
#define MLPD_CORE_PLAN_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/model_spec.h"
#include "core/onednn_plan.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace mlpd {

class PlanCache {
 public:
  // kMaxBytes bounds one thread's cache (besides the newest plan, until Trim): small enough
  // that dropped sessions do not pin much memory.
  static constexpr int64_t kMaxBytes = int64_t{256} << 20;

  // ForThisThread is the calling thread's cache.
  static PlanCache& ForThisThread();

  // ShapeKey names the layers of `spec` that a plan depends on; callers compute it once.
  static std::string ShapeKey(const ModelSpec& spec);

  // Get returns the plan for `spec`'s layers (whose ShapeKey is `shape_key`) at `rows` rows
  // built with `threads` OpenMP threads, building it on first use. The pointer stays valid
  // until the next Get on this thread.
  absl::StatusOr<OnednnPlan*> Get(const ModelSpec& spec, const std::string& shape_key, int64_t rows,
                                  int threads);

  // Drop frees this thread's plans for the layers named by `shape_key`: a deleted session's,
  // once no other session has its layers, so its buffers do not outlive it.
  void Drop(const std::string& shape_key);

  // Trim frees the least recently used plans until the cache holds at most `max_bytes` (all
  // of them if need be). Get keeps the newest plan whatever its size, for the call that asked
  // for it; the server trims after each call, so the cache keeps within what the sessions'
  // memory limit leaves it.
  void Trim(int64_t max_bytes);

  dnnl::stream& stream() { return stream_; }

  // CachedBytes is the size of the cached plans' buffers.
  int64_t CachedBytes() const { return bytes_; }

 private:
  PlanCache();
  // Recount sets bytes_ from the plans' buffers as they are now.
  void Recount();

  struct Entry {
    std::string shape_key;
    int64_t rows;
    int threads;
    std::unique_ptr<OnednnPlan> plan;
  };

  dnnl::stream stream_;
  std::list<Entry> entries_;  // Most recently used first.
  int64_t bytes_ = 0;
};

// CpuEngine is the process's oneDNN CPU engine.
const dnnl::engine& CpuEngine();

}  // namespace mlpd

#endif  // MLPD_CORE_PLAN_CACHE_H_
