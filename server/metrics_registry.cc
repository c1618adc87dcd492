#include "server/metrics_registry.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "server/metrics_text_format.h"

namespace mlpd {
namespace {

uint64_t BitsOf(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

double DoubleOf(uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// CheckNames aborts on a name Prometheus would refuse: families are registered by our own code
// with constant names, so a bad one is a bug to catch in the first test that starts a server.
void CheckNames(const std::string& name, const std::vector<std::string>& label_names,
                MetricType type) {
  ABSL_RAW_CHECK(IsValidMetricName(name), ("invalid metric name: " + name).c_str());
  for (const std::string& label : label_names) {
    ABSL_RAW_CHECK(IsValidLabelName(label), ("invalid label name: " + label).c_str());
    ABSL_RAW_CHECK(!(type == MetricType::kHistogram && label == "le"),
                   "a histogram may not have a label named le");
  }
}

// CallbackFamily reads its samples at scrape time.
class CallbackFamily final : public MetricFamily {
 public:
  CallbackFamily(std::string name, std::string help, MetricType type,
                 std::vector<std::string> label_names,
                 std::function<std::vector<MetricSample>()> read)
      : MetricFamily(std::move(name), std::move(help), type, std::move(label_names)),
        read_(std::move(read)) {}

  void AppendSamples(std::string& out) const override {
    for (const MetricSample& sample : read_()) {
      AppendSampleLine(name(), label_names(), sample.label_values, sample.value, out);
    }
  }

 private:
  const std::function<std::vector<MetricSample>()> read_;
};

void AppendSeries(const std::string& name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, const Counter& counter,
                  std::string& out) {
  AppendSampleLine(name, label_names, label_values, counter.Value(), out);
}

void AppendSeries(const std::string& name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, const Gauge& gauge,
                  std::string& out) {
  AppendSampleLine(name, label_names, label_values, gauge.Value(), out);
}

void AppendSeries(const std::string& name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, const Histogram& histogram,
                  std::string& out) {
  // Read the buckets first and derive the count from them, so _count always equals the +Inf
  // bucket even while observations land during the scrape.
  const std::vector<uint64_t> counts = histogram.BucketCounts();
  const std::string bucket_name = name + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const std::string bound = i < histogram.upper_bounds().size()
                                  ? FormatMetricValue(histogram.upper_bounds()[i])
                                  : "+Inf";
    AppendSampleLine(bucket_name, label_names, label_values, static_cast<double>(cumulative), out,
                     "le", bound);
  }
  AppendSampleLine(name + "_sum", label_names, label_values, histogram.Sum(), out);
  AppendSampleLine(name + "_count", label_names, label_values, static_cast<double>(cumulative),
                   out);
}

}  // namespace

void AtomicDouble::Add(double delta) {
  uint64_t expected = bits_.load(std::memory_order_relaxed);
  while (!bits_.compare_exchange_weak(expected, BitsOf(DoubleOf(expected) + delta),
                                      std::memory_order_relaxed)) {
  }
}

void AtomicDouble::Set(double value) { bits_.store(BitsOf(value), std::memory_order_relaxed); }

double AtomicDouble::Get() const { return DoubleOf(bits_.load(std::memory_order_relaxed)); }

void Counter::Increment(double amount) {
  if (amount > 0) value_.Add(amount);
}

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : upper_bounds_(upper_bounds), buckets_(new std::atomic<uint64_t>[upper_bounds.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  // The first bound >= value is the bucket (le is "less than or equal").
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.Add(value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> counts(upper_bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

MetricFamily::MetricFamily(std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

template <typename Series>
SeriesFamily<Series>::SeriesFamily(std::string name, std::string help, MetricType type,
                                   std::vector<std::string> label_names, int max_series,
                                   std::function<std::unique_ptr<Series>()> make_series)
    : MetricFamily(std::move(name), std::move(help), type, std::move(label_names)),
      max_series_(std::max(max_series, 2)),
      make_series_(std::move(make_series)) {
  if (this->label_names().empty()) WithLabels({});
}

template <typename Series>
Series& SeriesFamily<Series>::WithLabels(const std::vector<std::string>& label_values) {
  // A call with the wrong number of values is our bug; count it as overflow rather than crash.
  const bool well_formed = label_values.size() == label_names().size();
  absl::MutexLock lock(&mutex_);
  if (well_formed) {
    auto found = series_.find(label_values);
    if (found != series_.end()) return *found->second;
  }
  std::vector<std::string> key = label_values;
  // The last free place is kept for the overflow series, so the cap is never exceeded.
  if (!well_formed || static_cast<int>(series_.size()) >= max_series_ - 1) {
    key.assign(label_names().size(), std::string(kOverflowLabelValue));
    auto found = series_.find(key);
    if (found != series_.end()) return *found->second;
  }
  auto inserted = series_.emplace(std::move(key), make_series_());
  order_.push_back(&inserted.first->first);
  return *inserted.first->second;
}

template <typename Series>
int SeriesFamily<Series>::SeriesCount() const {
  absl::MutexLock lock(&mutex_);
  return static_cast<int>(series_.size());
}

template <typename Series>
void SeriesFamily<Series>::AppendSamples(std::string& out) const {
  absl::MutexLock lock(&mutex_);
  for (const std::vector<std::string>* label_values : order_) {
    AppendSeries(name(), label_names(), *label_values, *series_.at(*label_values), out);
  }
}

template class SeriesFamily<Counter>;
template class SeriesFamily<Gauge>;
template class SeriesFamily<Histogram>;

template <typename Family>
Family& MetricsRegistry::Add(std::unique_ptr<Family> family) {
  CheckNames(family->name(), family->label_names(), family->type());
  Family& added = *family;
  absl::MutexLock lock(&mutex_);
  for (const std::unique_ptr<MetricFamily>& existing : families_) {
    ABSL_RAW_CHECK(existing->name() != added.name(),
                   ("metric registered twice: " + added.name()).c_str());
  }
  families_.push_back(std::move(family));
  return added;
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names, int max_series) {
  return Add(std::make_unique<CounterFamily>(std::move(name), std::move(help), MetricType::kCounter,
                                             std::move(label_names), max_series,
                                             [] { return std::make_unique<Counter>(); }));
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help,
                                       std::vector<std::string> label_names, int max_series) {
  return Add(std::make_unique<GaugeFamily>(std::move(name), std::move(help), MetricType::kGauge,
                                           std::move(label_names), max_series,
                                           [] { return std::make_unique<Gauge>(); }));
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> upper_bounds, int max_series) {
  ABSL_RAW_CHECK(std::is_sorted(upper_bounds.begin(), upper_bounds.end()),
                 "histogram bounds must be sorted");
  return Add(std::make_unique<HistogramFamily>(
      std::move(name), std::move(help), MetricType::kHistogram, std::move(label_names), max_series,
      [upper_bounds = std::move(upper_bounds)] {
        return std::make_unique<Histogram>(upper_bounds);
      }));
}

void MetricsRegistry::AddCallback(std::string name, std::string help, MetricType type,
                                  std::vector<std::string> label_names,
                                  std::function<std::vector<MetricSample>()> read) {
  ABSL_RAW_CHECK(type != MetricType::kHistogram, "callback families are counters or gauges");
  Add(std::make_unique<CallbackFamily>(std::move(name), std::move(help), type,
                                       std::move(label_names), std::move(read)));
}

std::string MetricsRegistry::TextExposition() const {
  std::string out;
  absl::MutexLock lock(&mutex_);
  for (const std::unique_ptr<MetricFamily>& family : families_) {
    AppendFamilyHeader(family->name(), family->help(), TypeName(family->type()), out);
    family->AppendSamples(out);
  }
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  bounds.reserve(count);
  for (double bound = start; static_cast<int>(bounds.size()) < count; bound *= factor) {
    bounds.push_back(bound);
  }
  return bounds;
}

}  // namespace mlpd
