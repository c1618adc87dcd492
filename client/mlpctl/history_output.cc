#include "client/mlpctl/history_output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace mlpd::mlpctl {
namespace {

// Exact is the shortest text that parses back to `value` (JSON's own rendering).
std::string Exact(double value) { return nlohmann::json(value).dump(); }

}  // namespace

std::string HistoryTable(const std::vector<v1::HistoryPoint>& points) {
  std::string table = absl::StrFormat("%10s  %-19s  %-12s %-12s %-10s %10s\n", "STEP", "TIME (UTC)",
                                      "TRAIN_LOSS", "EVAL_LOSS", "EVAL_ERROR", "SAMPLES/S");
  for (const v1::HistoryPoint& point : points) {
    std::string eval_loss = "-", eval_error = "-";
    if (point.has_eval()) {
      eval_loss = absl::StrFormat("%.6g", point.eval().loss());
      if (point.eval().has_error_rate()) {
        eval_error = absl::StrFormat("%.2f%%", 100 * point.eval().error_rate());
      }
    }
    absl::StrAppendFormat(
        &table, "%10d  %-19s  %-12.6g %-12s %-10s %10.0f\n", point.step(),
        absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(point.time_unix_ms()),
                         absl::UTCTimeZone()),
        point.train_loss(), eval_loss, eval_error, point.samples_per_second());
  }
  return table;
}

std::string HistoryCsv(const std::vector<v1::HistoryPoint>& points) {
  std::string csv = "step,time_unix_ms,train_loss,eval_loss,eval_error_rate,samples_per_second\n";
  for (const v1::HistoryPoint& point : points) {
    std::string eval_loss, eval_error;
    if (point.has_eval()) {
      eval_loss = Exact(point.eval().loss());
      if (point.eval().has_error_rate()) eval_error = Exact(point.eval().error_rate());
    }
    absl::StrAppend(&csv, point.step(), ",", point.time_unix_ms(), ",", Exact(point.train_loss()),
                    ",", eval_loss, ",", eval_error, ",", Exact(point.samples_per_second()), "\n");
  }
  return csv;
}

nlohmann::json HistoryJson(const std::vector<v1::HistoryPoint>& points) {
  nlohmann::json all = nlohmann::json::array();
  for (const v1::HistoryPoint& point : points) {
    nlohmann::json line = {{"step", point.step()},
                           {"time_unix_ms", point.time_unix_ms()},
                           {"train_loss", point.train_loss()},
                           {"samples_per_second", point.samples_per_second()}};
    if (point.has_eval()) {
      line["eval_loss"] = point.eval().loss();
      if (point.eval().has_error_rate()) line["eval_error_rate"] = point.eval().error_rate();
    }
    all.push_back(line);
  }
  return all;
}

}  // namespace mlpd::mlpctl
