#include "core/thread_choice.h"

#include <algorithm>

namespace mlpd {
namespace {

// Weight of the newest step in the moving averages: a few steps follow a change of load, one
// preempted step does not flip the choice.
constexpr double kNewest = 0.25;

// The losing setting is retried once every kExplorePeriod steps, times how many times slower it
// was (capped), so a setting 10x slower costs ~3% of the steps' time in retries.
constexpr int64_t kExplorePeriod = 32;
constexpr int64_t kMaxLossFactor = 16;

}  // namespace

int ThreadChoice::Preferred(int available) const {
  if (one_ > 0.0 && all_ > 0.0 && one_ < all_) return 1;
  return available;
}

int ThreadChoice::Next(int available) {
  ++steps_;
  // Both settings are measured first (all cores, then one; each twice, since a setting's first
  // step also builds its primitives), then the faster runs.
  if (all_runs_ < 2) return available;
  if (one_runs_ < 2) return 1;
  const int preferred = Preferred(available);
  const double slower = std::max(one_, all_) / std::min(one_, all_);
  const int64_t period =
      kExplorePeriod * std::min<int64_t>(kMaxLossFactor, static_cast<int64_t>(slower) + 1);
  if (steps_ % period == 0) return preferred == 1 ? available : 1;
  return preferred;
}

void ThreadChoice::Record(int threads, double seconds) {
  int64_t& runs = threads == 1 ? one_runs_ : all_runs_;
  double& average = threads == 1 ? one_ : all_;
  ++runs;
  if (runs == 1) return;  // Built the setting's primitives: not a step's time.
  average = average == 0.0 ? seconds : (1.0 - kNewest) * average + kNewest * seconds;
}

}  // namespace mlpd
