// timing.h: how every mlpd benchmark times a call: warm up, then time single calls until a
// minimum time and a minimum count have passed, and report order statistics.
//
//   std::vector<double> times = TimeCalls([&] { model->TrainStep(x, y); }, 1.0, 10);
//   double median = Percentile(times, 0.5);
#ifndef MLPD_BENCH_TIMING_H_
#define MLPD_BENCH_TIMING_H_

#include <algorithm>
#include <chrono>
#include <vector>

namespace mlpd::bench {

// TimeCalls runs `fn` `warmup` times, then times single calls until `min_seconds` have passed
// and at least `min_runs` calls were made; returns every call's seconds, sorted.
template <typename Fn>
std::vector<double> TimeCalls(Fn&& fn, double min_seconds, int min_runs, int warmup = 5) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> times;
  const Clock::time_point start = Clock::now();
  while (true) {
    const Clock::time_point before = Clock::now();
    fn();
    const Clock::time_point after = Clock::now();
    times.push_back(std::chrono::duration<double>(after - before).count());
    if (static_cast<int>(times.size()) >= min_runs &&
        std::chrono::duration<double>(after - start).count() >= min_seconds) {
      break;
    }
  }
  std::sort(times.begin(), times.end());
  return times;
}

// Percentile of sorted times: fraction 0.5 is the median, 0.99 the p99.
inline double Percentile(const std::vector<double>& sorted, double fraction) {
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(fraction * sorted.size()));
  return sorted[index];
}

}  // namespace mlpd::bench

#endif  // MLPD_BENCH_TIMING_H_
