#include "client/train_progress.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace mlpd {
namespace {

std::string CompactRate(double rate) {
  if (rate >= 1e6) return absl::StrFormat("%.1fM", rate / 1e6);
  if (rate >= 1e4) return absl::StrFormat("%.1fk", rate / 1e3);
  return absl::StrFormat("%.0f", rate);
}

std::string EvalText(const v1::TrainProgress& progress, absl::string_view separator) {
  if (!progress.has_eval()) return "";
  std::string text = absl::StrFormat(" eval_loss%s%.6g", separator, progress.eval().loss());
  if (progress.eval().has_error_rate()) {
    absl::StrAppendFormat(&text, " eval_error%s%.2f%%", separator,
                          100.0 * progress.eval().error_rate());
  }
  return text;
}

}  // namespace

double EtaSeconds(const v1::TrainProgress& progress, double elapsed_seconds) {
  if (progress.steps_done() <= 0 || progress.steps_total() <= 0 || elapsed_seconds <= 0) {
    return -1;
  }
  const int64_t left = std::max<int64_t>(0, progress.steps_total() - progress.steps_done());
  return elapsed_seconds * static_cast<double>(left) / static_cast<double>(progress.steps_done());
}

std::string FormatDuration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "?";
  const int64_t total = static_cast<int64_t>(std::llround(seconds));
  const int64_t hours = total / 3600, minutes = (total / 60) % 60, rest = total % 60;
  if (hours > 0) return absl::StrFormat("%dh%02dm%02ds", hours, minutes, rest);
  if (minutes > 0) return absl::StrFormat("%dm%02ds", minutes, rest);
  return absl::StrFormat("%ds", rest);
}

std::string ProgressBarLine(const v1::TrainProgress& progress, const TrainProgressView& view) {
  const double fraction =
      progress.steps_total() > 0
          ? std::clamp(static_cast<double>(progress.steps_done()) / progress.steps_total(), 0.0,
                       1.0)
          : 0.0;
  const int filled = static_cast<int>(fraction * view.bar_width);
  std::string bar(filled, '#');
  bar.append(view.bar_width - filled, '-');
  return absl::StrFormat(
      "epoch %d/%d [%s] %3.0f%% step %d/%d loss %.6g %s samples/s ETA %s%s", progress.epoch(),
      view.epochs, bar, 100 * fraction, progress.steps_done(), progress.steps_total(),
      progress.loss(), CompactRate(progress.samples_per_second()),
      FormatDuration(EtaSeconds(progress, view.elapsed_seconds)), EvalText(progress, " "));
}

std::string ProgressPlainLine(const v1::TrainProgress& progress, const TrainProgressView& view) {
  return absl::StrFormat(
      "epoch=%d/%d step=%d steps_done=%d/%d loss=%.6g samples_per_second=%.0f eta=%s%s",
      progress.epoch(), view.epochs, progress.step(), progress.steps_done(), progress.steps_total(),
      progress.loss(), progress.samples_per_second(),
      FormatDuration(EtaSeconds(progress, view.elapsed_seconds)), EvalText(progress, "="));
}

std::string ProgressJsonLine(const v1::TrainProgress& progress, const TrainProgressView& view) {
  nlohmann::json line = {{"event", "progress"},
                         {"epoch", progress.epoch()},
                         {"epochs", view.epochs},
                         {"step", progress.step()},
                         {"steps_done", progress.steps_done()},
                         {"steps_total", progress.steps_total()},
                         {"loss", progress.loss()},
                         {"samples_per_second", progress.samples_per_second()},
                         {"eta_seconds", EtaSeconds(progress, view.elapsed_seconds)}};
  if (progress.has_eval()) {
    line["eval_loss"] = progress.eval().loss();
    if (progress.eval().has_error_rate()) line["eval_error_rate"] = progress.eval().error_rate();
  }
  return line.dump();
}

std::string SummaryJsonLine(const v1::TrainSummary& summary) {
  nlohmann::json line = {
      {"event", "summary"},     {"steps", summary.steps()},         {"epochs", summary.epochs()},
      {"step", summary.step()}, {"last_loss", summary.last_loss()}, {"seconds", summary.seconds()}};
  if (summary.has_eval()) {
    line["eval_loss"] = summary.eval().loss();
    if (summary.eval().has_error_rate()) line["eval_error_rate"] = summary.eval().error_rate();
  }
  if (summary.stop_reason() != v1::STOP_REASON_UNSPECIFIED) {
    line["stop_reason"] = StopReasonName(summary.stop_reason());
    line["kept_step"] = summary.kept_step();
  }
  if (summary.has_best()) {
    line["best_eval_loss"] = summary.best().result().loss();
    line["best_step"] = summary.best().step();
  }
  return line.dump();
}

std::string StopReasonName(v1::StopReason reason) {
  switch (reason) {
    case v1::STOP_REASON_COMPLETED:
      return "completed";
    case v1::STOP_REASON_EARLY_STOPPED:
      return "early_stopped";
    default:
      return "unspecified";
  }
}

}  // namespace mlpd
