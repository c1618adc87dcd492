// progress_display.h: how mlpctl shows a training run as it goes and when it ends.
//
// train and watch show the same thing: a bar redrawn on a terminal's stderr, a plain line per
// report when piped, or a JSON line per report with --json; then the run's summary. watch
// learns the run's epochs and start time from the job event that opens its stream, so a
// re-attached watch shows the same bar and ETA as the train that started the job.
//
//   ProgressDisplay display(request.epochs(), json);
//   TrainEvents events;
//   events.on_job = [&](const v1::Job& job) { display.ShowJob(job); };
//   events.on_progress = [&](const v1::TrainProgress& progress) { display.Show(progress); };
//   absl::StatusOr<v1::TrainSummary> summary = client.WatchJob(id, events);
//   display.Finish(summary);
//   if (summary.ok()) PrintSummary(name, *summary, json);
#ifndef MLPD_CLIENT_MLPCTL_PROGRESS_DISPLAY_H_
#define MLPD_CLIENT_MLPCTL_PROGRESS_DISPLAY_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd::mlpctl {

class ProgressDisplay {
 public:
  // `epochs` until a job event says otherwise; the bar goes to stderr only when it is a
  // terminal and `json` is off.
  ProgressDisplay(int64_t epochs, bool json);

  // ShowJob takes the epochs and the start time of the job's run, and shows its last progress
  // when it has one (a watch attached mid-run shows where the run is at once).
  void ShowJob(const v1::Job& job);
  // Show shows one progress report.
  void Show(const v1::TrainProgress& progress);
  // Finish ends the bar, if one was drawn, at what was done: the last report may predate the
  // last steps.
  void Finish(const absl::StatusOr<v1::TrainSummary>& summary);

 private:
  double ElapsedSeconds() const;

  int64_t epochs_;
  const bool json_;
  const bool terminal_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool bar_drawn_ = false;
  double last_samples_per_second_ = 0;
};

// SummaryText: "trained NAME: 15 steps, 3 epochs in 0.2s, last loss 0.1, session step 15",
// then the eval figures, why the run stopped early and which step's parameters were kept.
std::string SummaryText(const std::string& name, const v1::TrainSummary& summary);

// PrintSummary prints SummaryText, or the summary's JSON line with `json`, to stdout.
void PrintSummary(const std::string& name, const v1::TrainSummary& summary, bool json);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_PROGRESS_DISPLAY_H_
