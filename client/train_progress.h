// train_progress.h: how mlpctl shows a running Train call.
//
// Three renderings of the same TrainProgress report: a one-line bar redrawn in place on a
// terminal, a plain line per report when the output is piped, and a JSON object per line for
// scripts. All carry epoch, step, loss, samples/s and the estimated time left.
//
//   TrainProgressView view{/*epochs=*/10, /*elapsed_seconds=*/3.2};
//   std::cerr << "\r" << ProgressBarLine(progress, view) << std::flush;
#ifndef MLPD_CLIENT_TRAIN_PROGRESS_H_
#define MLPD_CLIENT_TRAIN_PROGRESS_H_

#include <cstdint>
#include <string>

#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

struct TrainProgressView {
  int64_t epochs = 0;            // Epochs requested.
  double elapsed_seconds = 0.0;  // Since the call started, measured by the client.
  int bar_width = 24;            // Characters of the bar itself.
};

// EtaSeconds extrapolates the elapsed time over the steps left; -1 when unknown.
double EtaSeconds(const v1::TrainProgress& progress, double elapsed_seconds);

// FormatDuration is "42s", "3m05s" or "1h02m03s"; "?" for a negative duration.
std::string FormatDuration(double seconds);

// ProgressBarLine: "epoch 2/10 [#####-----]  20% step 40/200 loss 0.1234 8.1k samples/s ETA 12s".
std::string ProgressBarLine(const v1::TrainProgress& progress, const TrainProgressView& view);

// ProgressPlainLine: "epoch=2/10 step=40/200 loss=0.1234 samples_per_second=8100 eta=12s ...".
std::string ProgressPlainLine(const v1::TrainProgress& progress, const TrainProgressView& view);

// ProgressJsonLine: {"event":"progress","epoch":2,...} without a trailing newline.
std::string ProgressJsonLine(const v1::TrainProgress& progress, const TrainProgressView& view);

// SummaryJsonLine: {"event":"summary","steps":...,"seconds":...}, with "stop_reason" and
// "kept_step" from a server that says why the run stopped, and "best_eval_loss"/"best_step"
// when the run evaluated.
std::string SummaryJsonLine(const v1::TrainSummary& summary);

// StopReasonName: "completed", "early_stopped" or "unspecified".
std::string StopReasonName(v1::StopReason reason);

}  // namespace mlpd

#endif  // MLPD_CLIENT_TRAIN_PROGRESS_H_
