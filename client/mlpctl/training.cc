// The train command: epochs over an uploaded dataset, with a live progress display and a
// clean stop on Ctrl-C (the steps already applied stay applied).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <limits>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/flag_checks.h"
#include "client/mlpctl/interrupt.h"
#include "client/mlpctl/requests.h"
#include "client/train_progress.h"
#include "nlohmann/json.hpp"

namespace mlpd::mlpctl {
namespace {

// ProgressDisplay shows each progress report: a bar redrawn on a terminal's stderr, a plain
// line per report when piped, or a JSON line with --json.
class ProgressDisplay {
 public:
  ProgressDisplay(int64_t epochs, bool json)
      : epochs_(epochs), json_(json), terminal_(!json && isatty(STDERR_FILENO)) {}

  void Show(const v1::TrainProgress& progress) {
    TrainProgressView view;
    view.epochs = epochs_;
    view.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
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

  // Finish ends the bar, if one was drawn, at what was done: the last report may predate the
  // last steps.
  void Finish(const absl::StatusOr<v1::TrainSummary>& summary) {
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

 private:
  const int64_t epochs_;
  const bool json_;
  const bool terminal_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool bar_drawn_ = false;
  double last_samples_per_second_ = 0;
};

// ReportCancelled says how many steps a cancelled train applied. The server stops at its next
// mini-batch boundary, so it first waits until the session's step count stops moving.
int ReportCancelled(Client& client, const std::string& name, const v1::SessionInfo& before,
                    bool json) {
  absl::StatusOr<v1::SessionInfo> after = client.GetSession(name);
  for (int attempt = 0; attempt < 50 && after.ok(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    absl::StatusOr<v1::SessionInfo> again = client.GetSession(name);
    if (!again.ok() || again->step_count() == after->step_count()) break;
    after = std::move(again);
  }
  const int64_t step = after.ok() ? after->step_count() : -1;
  const int64_t applied = after.ok() ? step - before.step_count() : -1;
  if (json) {
    std::cout << nlohmann::json{{"event", "cancelled"}, {"steps", applied}, {"step", step}}.dump()
              << std::endl;
  } else {
    std::cerr << "cancelled: " << applied << " steps applied (session " << name << " is at step "
              << step << ")\n";
  }
  return kExitInterrupted;
}

void PrintSummary(const std::string& name, const v1::TrainSummary& summary, bool json) {
  if (json) {
    std::cout << SummaryJsonLine(summary) << std::endl;
    return;
  }
  std::cout << absl::StrFormat(
      "trained %s: %d steps, %d epochs in %.3fs, last loss %.6g, session step %d", name,
      summary.steps(), summary.epochs(), summary.seconds(), summary.last_loss(), summary.step());
  if (summary.has_eval()) {
    std::cout << absl::StrFormat(", eval loss %.6g", summary.eval_loss());
    if (summary.eval_has_error_rate()) {
      std::cout << absl::StrFormat(" error_rate %.4f", summary.eval_error_rate());
    }
  }
  std::cout << "\n";
}

class TrainCommand : public Command {
 public:
  explicit TrainCommand(CLI::App& app)
      : Command(app, "train", "Train a session over an uploaded dataset") {
    cli().add_option("NAME", flags_.name, "Session name")->required();
    cli().add_option("--dataset", flags_.dataset, "Training dataset")->required();
    cli()
        .add_option("--epochs", flags_.epochs, "Epochs to run")
        ->transform(IntegerFlag(1))
        ->capture_default_str();
    cli()
        .add_option("--batch-size", flags_.batch_size,
                    "Rows per step, or 'full' for the whole dataset")
        ->capture_default_str();
    cli().add_flag("--shuffle", flags_.shuffle, "Reshuffle the rows every epoch");
    cli()
        .add_option("--seed", flags_.seed, "Seed of the shuffle")
        ->transform(IntegerFlag(0, std::numeric_limits<uint64_t>::max()))
        ->capture_default_str();
    cli().add_option("--eval", flags_.eval_dataset,
                     "Dataset evaluated at each report and at the end");
    cli()
        .add_option("--report-every", flags_.report_every,
                    "Report progress every N steps (default: once per epoch)")
        ->transform(IntegerFlag(0));
    cli().footer(
        Example("  mlpctl train practical --dataset train --epochs 1000 --batch-size full \\\n"
                "      --report-every 100 --eval test\n"
                "Ctrl-C stops between mini-batches; the steps already applied stay applied."));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::TrainRequest> request = TrainRequestFromFlags(flags_);
    if (!request.ok()) return UsageError(request.status().message());
    const bool json = context.global.json;
    // The step count before training tells how many steps a cancelled call applied.
    absl::StatusOr<v1::SessionInfo> before = context.client.GetSession(flags_.name);
    if (!before.ok()) return Refused(before.status());

    ProgressDisplay display(flags_.epochs, json);
    Cancellation cancellation;
    CallOptions call = TrainCallOptions(context.global);
    call.cancellation = &cancellation;
    absl::StatusOr<v1::TrainSummary> summary;
    {
      InterruptWatcher watcher(&cancellation);
      summary = context.client.Train(
          *request, [&display](const v1::TrainProgress& progress) { display.Show(progress); },
          call);
    }
    display.Finish(summary);
    if (!summary.ok() && cancellation.cancelled()) {
      return ReportCancelled(context.client, flags_.name, *before, json);
    }
    if (!summary.ok()) return Refused(summary.status());
    PrintSummary(flags_.name, *summary, json);
    return kExitOk;
  }

 private:
  TrainFlags flags_;
};

const RegisterCommand<TrainCommand> kTrain(/*help_order=*/80);

}  // namespace
}  // namespace mlpd::mlpctl
