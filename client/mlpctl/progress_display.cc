#include "client/mlpctl/progress_display.h"

#include <unistd.h>

#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/train_progress.h"

namespace mlpd::mlpctl {

ProgressDisplay::ProgressDisplay(int64_t epochs, bool json)
    : epochs_(epochs), json_(json), terminal_(!json && isatty(STDERR_FILENO)) {}

double ProgressDisplay::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressDisplay::ShowJob(const v1::Job& job) {
  if (job.request().epochs() > 0) epochs_ = job.request().epochs();
  // The ETA extrapolates from the run's own start, not from when this watch attached.
  if (job.start_time_unix_ms() > 0) {
    const int64_t running_ms = absl::ToUnixMillis(absl::Now()) - job.start_time_unix_ms();
    if (running_ms > 0)
      start_ = std::chrono::steady_clock::now() - std::chrono::milliseconds(running_ms);
  }
  if (job.has_last_progress()) Show(job.last_progress());
}

void ProgressDisplay::Show(const v1::TrainProgress& progress) {
  TrainProgressView view;
  view.epochs = epochs_;
  view.elapsed_seconds = ElapsedSeconds();
  if (json_) {
    std::cout << ProgressJsonLine(progress, view) << std::endl;
  } else if (terminal_) {
    std::cerr << "\r\033[K" << ProgressBarLine(progress, view) << std::flush;
    bar_drawn_ = true;
    last_samples_per_second_ = progress.samples_per_second();
  } else {
    std::cout << ProgressPlainLine(progress, view) << std::endl;
  }
}

void ProgressDisplay::Finish(const absl::StatusOr<v1::TrainSummary>& summary) {
  if (!bar_drawn_) return;
  if (summary.ok()) {
    v1::TrainProgress done;
    done.set_epoch(summary->epochs());
    done.set_step(summary->step());
    done.set_steps_done(summary->steps());
    done.set_steps_total(summary->steps());
    done.set_loss(summary->last_loss());
    done.set_samples_per_second(last_samples_per_second_);
    TrainProgressView view;
    view.epochs = epochs_;
    view.elapsed_seconds = summary->seconds();
    std::cerr << "\r\033[K" << ProgressBarLine(done, view);
  }
  std::cerr << "\n";
}

std::string SummaryText(const std::string& name, const v1::TrainSummary& summary) {
  std::string text = absl::StrFormat(
      "trained %s: %d steps, %d epochs in %.3fs, last loss %.6g, session step %d", name,
      summary.steps(), summary.epochs(), summary.seconds(), summary.last_loss(), summary.step());
  if (summary.has_eval()) {
    absl::StrAppendFormat(&text, ", eval loss %.6g", summary.eval().loss());
    if (summary.eval().has_error_rate()) {
      absl::StrAppendFormat(&text, " error_rate %.4f", summary.eval().error_rate());
    }
  }
  if (summary.stop_reason() == v1::STOP_REASON_EARLY_STOPPED) {
    absl::StrAppend(&text, ", stopped early (no eval improvement)");
  }
  if (summary.has_best()) {
    absl::StrAppendFormat(&text, ", best eval loss %.6g at step %d", summary.best().result().loss(),
                          summary.best().step());
  }
  if (summary.kept_step() != 0 && summary.kept_step() != summary.step()) {
    absl::StrAppendFormat(&text, ", kept the parameters of step %d", summary.kept_step());
  }
  return text + "\n";
}

void PrintSummary(const std::string& name, const v1::TrainSummary& summary, bool json) {
  if (json) {
    std::cout << SummaryJsonLine(summary) << std::endl;
  } else {
    std::cout << SummaryText(name, summary);
  }
}

}  // namespace mlpd::mlpctl
