// metrics_registry.h: the server's metrics (counters, gauges, histograms with labels) and their
// Prometheus text exposition, served on /metrics.
//
// A family is registered once, at start-up, with its name, help and label names; the request
// path then asks it for the series of some label values and updates that series with atomics.
// Values that already live elsewhere (sessions held, the process's RSS) are read at scrape time
// by a callback family instead of being copied on every change.
//
// Label cardinality is capped per family: once a family holds `max_series` series, a new
// combination of label values is counted in one overflow series whose values are all
// kOverflowLabelValue, so totals stay right and memory stays bounded whatever the callers send.
//
//   MetricsRegistry registry;
//   CounterFamily& steps = registry.AddCounter("mlpd_train_steps_total", "Steps applied.",
//                                              {"session"}, /*max_series=*/100);
//   steps.WithLabels({"mnist"}).Increment();
//   std::string text = registry.TextExposition();  // "# HELP mlpd_train_steps_total ..."
#ifndef MLPD_SERVER_METRICS_REGISTRY_H_
#define MLPD_SERVER_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace mlpd {

// kOverflowLabelValue is the value of every label of a family's overflow series.
inline constexpr absl::string_view kOverflowLabelValue = "_other";

// kDefaultMaxSeries caps a family's series unless its registration says otherwise.
inline constexpr int kDefaultMaxSeries = 1000;

// AtomicDouble is a double updated without a lock (compare-and-swap on its bits).
class AtomicDouble {
 public:
  void Add(double delta);
  void Set(double value);
  double Get() const;

 private:
  std::atomic<uint64_t> bits_{0};  // 0 is the bit pattern of +0.0.
};

// Counter only goes up; Increment with a negative amount is ignored.
class Counter {
 public:
  void Increment(double amount = 1);
  double Value() const { return value_.Get(); }

 private:
  AtomicDouble value_;
};

// Gauge goes up and down.
class Gauge {
 public:
  void Set(double value) { value_.Set(value); }
  void Add(double delta) { value_.Add(delta); }
  double Value() const { return value_.Get(); }

 private:
  AtomicDouble value_;
};

// Histogram counts observations into cumulative buckets by upper bound, plus their sum.
class Histogram {
 public:
  // `upper_bounds` must be sorted ascending; +Inf is implicit.
  explicit Histogram(const std::vector<double>& upper_bounds);

  void Observe(double value);

  // BucketCounts returns the non-cumulative count of each bound, then of +Inf.
  std::vector<uint64_t> BucketCounts() const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.Get(); }
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // One per bound, then +Inf.
  std::atomic<uint64_t> count_{0};
  AtomicDouble sum_;
};

// MetricSample is one value of a callback family: its label values (in the family's label
// order) and the value.
struct MetricSample {
  std::vector<std::string> label_values;
  double value = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

// MetricFamily is what the exposition sees of every family.
class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names);
  virtual ~MetricFamily() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // AppendSamples appends this family's sample lines (no HELP/TYPE) to `out`.
  virtual void AppendSamples(std::string& out) const = 0;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// SeriesFamily holds one Series (Counter, Gauge or Histogram) per combination of label values.
template <typename Series>
class SeriesFamily final : public MetricFamily {
 public:
  // A family without labels starts with its one series, so it is exposed before any update.
  SeriesFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names, int max_series,
               std::function<std::unique_ptr<Series>()> make_series);

  // WithLabels returns the series of `label_values` (one per label name, in order), creating it
  // on first use, or the overflow series when the family is full. The reference stays valid as
  // long as the family, so hot paths may keep it.
  Series& WithLabels(const std::vector<std::string>& label_values);

  // SeriesCount is how many series exist, the overflow series included.
  int SeriesCount() const;

  void AppendSamples(std::string& out) const override;

 private:
  const int max_series_;
  const std::function<std::unique_ptr<Series>()> make_series_;
  mutable absl::Mutex mutex_;
  // node_hash_map: a series never moves, so references handed out stay valid.
  absl::node_hash_map<std::vector<std::string>, std::unique_ptr<Series>> series_
      ABSL_GUARDED_BY(mutex_);
  std::vector<const std::vector<std::string>*> order_ ABSL_GUARDED_BY(mutex_);  // Creation order.
};

using CounterFamily = SeriesFamily<Counter>;
using GaugeFamily = SeriesFamily<Gauge>;
using HistogramFamily = SeriesFamily<Histogram>;

// MetricsRegistry owns the families and writes the exposition. Registration is for start-up
// (names are checked and must be unique: a bad or repeated name is a bug and aborts); updates
// and TextExposition may run on any thread at any time.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {},
                            int max_series = kDefaultMaxSeries);
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {},
                        int max_series = kDefaultMaxSeries);
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names,
                                std::vector<double> upper_bounds,
                                int max_series = kDefaultMaxSeries);

  // AddCallback registers a counter or gauge family whose samples `read` returns at each
  // scrape; `read` runs on the scraping thread and must be safe there.
  void AddCallback(std::string name, std::string help, MetricType type,
                   std::vector<std::string> label_names,
                   std::function<std::vector<MetricSample>()> read);

  // TextExposition is every family in the Prometheus text format 0.0.4, in registration order.
  std::string TextExposition() const;

 private:
  template <typename Family>
  Family& Add(std::unique_ptr<Family> family);

  mutable absl::Mutex mutex_;
  std::vector<std::unique_ptr<MetricFamily>> families_ ABSL_GUARDED_BY(mutex_);
};

// kPrometheusTextContentType is the Content-Type of TextExposition.
inline constexpr absl::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// ExponentialBuckets returns `count` upper bounds start, start*factor, start*factor^2, ...
std::vector<double> ExponentialBuckets(double start, double factor, int count);

}  // namespace mlpd

#endif  // MLPD_SERVER_METRICS_REGISTRY_H_
