// The train command: epochs over an uploaded dataset, with a live progress display and a
// clean stop on Ctrl-C (the steps already applied stay applied); or, with --detach, a job the
// server runs on its own (see jobs.cc for watching and cancelling it).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <limits>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/data_options.h"
#include "client/mlpctl/flag_checks.h"
#include "client/mlpctl/interrupt.h"
#include "client/mlpctl/job_output.h"
#include "client/mlpctl/output.h"
#include "client/mlpctl/progress_display.h"
#include "client/mlpctl/requests.h"
#include "client/mlpctl/train_data.h"
#include "nlohmann/json.hpp"

namespace mlpd::mlpctl {
namespace {

// TrainStop is what Ctrl-C does to a running train: once the server named the call's job, it
// asks the server to stop that job between mini-batches and lets the call run to its end, so
// the step count read afterwards is final; before that (or with a server that names no job) it
// cancels the call. Stop runs on the interrupt thread, SetJob on the calling one.
class TrainStop {
 public:
  TrainStop(Client* client, Cancellation* cancellation, std::string session)
      : client_(client), cancellation_(cancellation), session_(std::move(session)) {}

  void SetJob(const std::string& id) {
    absl::MutexLock lock(&mutex_);
    job_id_ = id;
  }

  void Stop() {
    std::string id;
    {
      absl::MutexLock lock(&mutex_);
      requested_ = true;
      id = job_id_;
    }
    if (id.empty()) {
      cancellation_->Cancel();
      return;
    }
    CallOptions call;
    call.routing_session = session_;
    // A job that ended meanwhile is NOT_FOUND: the call then ends with its summary anyway.
    (void)client_->CancelJob(id, call);
  }

  bool requested() const {
    absl::MutexLock lock(&mutex_);
    return requested_;
  }
  // server_stopped: the stop went to the job, so the call's end came after its last step.
  bool server_stopped() const {
    absl::MutexLock lock(&mutex_);
    return requested_ && !job_id_.empty();
  }

 private:
  Client* const client_;
  Cancellation* const cancellation_;
  const std::string session_;
  mutable absl::Mutex mutex_;
  std::string job_id_ ABSL_GUARDED_BY(mutex_);
  bool requested_ ABSL_GUARDED_BY(mutex_) = false;
};

// ReportCancelled says how many steps a train stopped by Ctrl-C applied. When the server ended
// the call after the job's last step (TrainStop), one read of the session is final; after a
// cancelled call the server stops at its next mini-batch, so it waits until the session's step
// count stops moving.
int ReportCancelled(Client& client, const std::string& name, const v1::SessionInfo& before,
                    bool server_stopped, bool json) {
  absl::StatusOr<v1::SessionInfo> after = client.GetSession(name);
  for (int attempt = 0; !server_stopped && attempt < 50 && after.ok(); ++attempt) {
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

class TrainCommand : public Command {
 public:
  explicit TrainCommand(CLI::App& app)
      : Command(app, "train", "Train a session over an uploaded dataset") {
    cli().add_option("NAME", flags_.name, "Session name")->required();
    cli().add_option("--dataset", flags_.dataset, "Training dataset")->required();
    // --csv or --idx-*: upload the data as --dataset to the session's server unless it is there.
    AddDataOptions(&cli(), &data_, /*preprocessing=*/true);
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
                     "Dataset evaluated at each report (or --eval-every) and at the end");
    cli()
        .add_option("--report-every", flags_.report_every,
                    "Report progress every N steps (default: once per epoch)")
        ->transform(IntegerFlag(0));
    cli()
        .add_option("--eval-every", flags_.eval_every,
                    "Evaluate on --eval every N steps (default: at each report)")
        ->transform(IntegerFlag(1));
    cli()
        .add_option("--patience", flags_.patience,
                    "Stop early after N evaluations without improvement of the eval loss")
        ->transform(IntegerFlag(1));
    cli().add_option("--min-delta", flags_.min_delta,
                     "With --patience: the smallest eval loss decrease that counts (default 0)");
    cli().add_flag("--keep-best", flags_.keep_best,
                   "At the end, keep the parameters of the lowest eval loss, not the last");
    cli().add_flag("--detach", detach_,
                   "Start a job the server runs on its own, print its id and return");
    cli().footer(
        Example("  mlpctl train practical --dataset train --epochs 1000 --batch-size full \\\n"
                "      --report-every 100 --eval test\n"
                "  id=$(mlpctl train digits --dataset train --epochs 50 --eval test \\\n"
                "      --patience 3 --keep-best --detach)\n"
                "  mlpctl watch \"$id\"\n"
                "  mlpctl train iris --dataset iris --csv iris.csv --label-column --epochs 100\n"
                "With --csv or --idx-images the data is uploaded as --dataset to the session's\n"
                "server first, unless that server has a dataset of that name already.\n"
                "Ctrl-C stops between mini-batches; the steps already applied stay applied.\n"
                "A --detach job outlives mlpctl and server restarts: see 'mlpctl jobs'."));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::TrainRequest> request = TrainRequestFromFlags(flags_);
    if (!request.ok()) return UsageError(request.status().message());
    const bool json = context.global.json;
    if (HasTrainData(data_)) {
      const int placed = PlaceTrainData(context, flags_.name, flags_.dataset, data_);
      if (placed != kExitOk) return placed;
    }
    if (detach_) return StartDetached(context, *request);
    // The step count before training tells how many steps a cancelled call applied.
    absl::StatusOr<v1::SessionInfo> before = context.client.GetSession(flags_.name);
    if (!before.ok()) return Refused(before.status());

    ProgressDisplay display(flags_.epochs, json);
    Cancellation cancellation;
    CallOptions call = TrainCallOptions(context.global);
    call.cancellation = &cancellation;
    TrainStop stop(&context.client, &cancellation, flags_.name);
    TrainEvents events;
    events.on_job_id = [&stop](const std::string& id) { stop.SetJob(id); };
    events.on_progress = [&display](const v1::TrainProgress& progress) { display.Show(progress); };
    absl::StatusOr<v1::TrainSummary> summary;
    {
      InterruptWatcher watcher([&stop] { stop.Stop(); });
      summary = context.client.Train(*request, events, call);
    }
    display.Finish(summary);
    // A run that ended on its own before the stop reached it has its summary.
    if (!summary.ok() && stop.requested() &&
        (cancellation.cancelled() || absl::IsCancelled(summary.status()))) {
      return ReportCancelled(context.client, flags_.name, *before, stop.server_stopped(), json);
    }
    if (!summary.ok()) return Refused(summary.status());
    PrintSummary(flags_.name, *summary, json);
    return kExitOk;
  }

 private:
  // StartDetached starts the job and prints its id alone on stdout, for scripts to keep.
  static int StartDetached(const CommandContext& context, const v1::TrainRequest& request) {
    absl::StatusOr<v1::Job> job = context.client.StartTraining(request);
    if (!job.ok()) return Refused(job.status());
    Print(context.global.json, JobJson(*job), absl::StrCat(job->id(), "\n"));
    if (!context.global.json && isatty(STDERR_FILENO)) {
      std::cerr << "started job " << job->id() << " (" << JobStateName(job->state())
                << "); 'mlpctl watch " << job->id() << "' follows it, 'mlpctl cancel " << job->id()
                << "' stops it\n";
    }
    return kExitOk;
  }

  TrainFlags flags_;
  DataFlags data_;
  bool detach_ = false;
};

const RegisterCommand<TrainCommand> kTrain(/*help_order=*/80);

}  // namespace
}  // namespace mlpd::mlpctl
