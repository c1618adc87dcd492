// The job commands: jobs (list), job (describe), watch (follow, re-attachable) and cancel. A job
// is a train run the server owns (`mlpctl train ... --detach` starts one): it outlives mlpctl,
// and its id is all another terminal needs to follow or stop it.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/flag_checks.h"
#include "client/mlpctl/interrupt.h"
#include "client/mlpctl/job_output.h"
#include "client/mlpctl/output.h"
#include "client/mlpctl/progress_display.h"
#include "client/mlpctl/requests.h"

namespace mlpd::mlpctl {
namespace {

// A job id names no session; behind a proxy that routes on the session header (see deploy/),
// --session sends the call to the server holding the job's session.
constexpr const char* kJobRouteHelp =
    "Route the call to the server holding this session (behind a proxy)";

// JobId is the ID argument and the --session route of job, watch and cancel.
struct JobId {
  std::string id;
  CallOptions call;

  void AddOptions(CLI::App& cli) {
    cli.add_option("ID", id, "Job id, as train --detach or jobs printed it")->required();
    cli.add_option("--session", call.routing_session, kJobRouteHelp);
  }
};

// Watched is how a watch ended: the job's summary or its error, or Ctrl-C (interrupted).
struct Watched {
  absl::StatusOr<v1::TrainSummary> summary;
  bool interrupted = false;
  std::string session;  // From the job event that opens the stream.
};

// WatchUntilDone watches job `id` until it ends, showing its progress on `display` (may be
// null). Ctrl-C ends the watch only: the server leaves the job running.
Watched WatchUntilDone(const CommandContext& context, const std::string& id, CallOptions call,
                       ProgressDisplay* display) {
  Watched watched;
  TrainEvents events;
  events.on_job = [&](const v1::Job& job) {
    watched.session = job.session();
    if (display != nullptr) display->ShowJob(job);
  };
  if (display != nullptr) {
    events.on_progress = [display](const v1::TrainProgress& progress) { display->Show(progress); };
  }
  Cancellation cancellation;
  call.timeout = TrainCallOptions(context.global).timeout;
  call.cancellation = &cancellation;
  {
    InterruptWatcher watcher(&cancellation);
    watched.summary = context.client.WatchJob(id, events, call);
  }
  watched.interrupted = !watched.summary.ok() && cancellation.cancelled();
  return watched;
}

// StoppedWatching says the job goes on without the watcher; exit 130 as any Ctrl-C.
int StoppedWatching(const std::string& id, bool json) {
  if (json) {
    std::cout << nlohmann::json{{"event", "stopped_watching"}, {"job", id}}.dump() << std::endl;
  } else {
    std::cerr << "stopped watching job " << id << "; it goes on ('mlpctl watch " << id
              << "' re-attaches, 'mlpctl cancel " << id << "' stops it)\n";
  }
  return kExitInterrupted;
}

class JobsCommand : public Command {
 public:
  explicit JobsCommand(CLI::App& app) : Command(app, "jobs", "List training jobs, newest first") {
    cli().add_option("--session", filter_.session, "Only this session's jobs");
    cli().add_option("--state", state_,
                     "Only jobs in this state: queued, running, succeeded, "
                     "failed or cancelled");
    cli().add_option("--limit", limit_, "At most N jobs (default: all)")->transform(IntegerFlag(1));
    cli().footer(Example("  mlpctl jobs\n  mlpctl jobs --session digits --state running --json"));
  }

  int Run(const CommandContext& context) override {
    if (!state_.empty()) {
      absl::StatusOr<v1::JobState> state = ParseJobState(state_);
      if (!state.ok()) return UsageError(state.status().message());
      filter_.state = *state;
    }
    absl::StatusOr<std::vector<v1::Job>> jobs = context.client.ListJobs(filter_, limit_);
    if (!jobs.ok()) return Refused(jobs.status());
    nlohmann::json all = nlohmann::json::array();
    for (const v1::Job& job : *jobs) all.push_back(JobJson(job));
    Print(context.global.json, all, JobTable(*jobs));
    return kExitOk;
  }

 private:
  JobFilter filter_;
  std::string state_;
  int64_t limit_ = 0;
};

class JobCommand : public Command {
 public:
  explicit JobCommand(CLI::App& app) : Command(app, "job", "Describe a training job") {
    job_.AddOptions(cli());
    cli().footer(Example("  mlpctl job job-1764504000000-1\n  mlpctl job \"$id\" --json"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::Job> job = context.client.GetJob(job_.id, job_.call);
    if (!job.ok()) return Refused(job.status());
    Print(context.global.json, JobJson(*job), JobText(*job));
    return kExitOk;
  }

 private:
  JobId job_;
};

class WatchCommand : public Command {
 public:
  explicit WatchCommand(CLI::App& app)
      : Command(app, "watch", "Follow a training job's progress until it ends") {
    job_.AddOptions(cli());
    cli().footer(
        Example("  mlpctl watch job-1764504000000-1\n"
                "Shows the progress as train does. Ctrl-C stops watching, not the job; any\n"
                "number of terminals may watch one job. Exits 0 when the job succeeds, 1 when\n"
                "it failed or was cancelled (its reason printed as the server's refusal)."));
  }

  int Run(const CommandContext& context) override {
    ProgressDisplay display(/*epochs=*/0, context.global.json);
    Watched watched = WatchUntilDone(context, job_.id, job_.call, &display);
    display.Finish(watched.summary);
    if (watched.interrupted) return StoppedWatching(job_.id, context.global.json);
    if (!watched.summary.ok()) return Refused(watched.summary.status());
    PrintSummary(watched.session, *watched.summary, context.global.json);
    return kExitOk;
  }

 private:
  JobId job_;
};

class CancelCommand : public Command {
 public:
  explicit CancelCommand(CLI::App& app)
      : Command(app, "cancel", "Stop a training job between mini-batches") {
    job_.AddOptions(cli());
    cli().add_flag("--wait", wait_, "Return once the job has stopped, printing its final state");
    cli().footer(
        Example("  mlpctl cancel job-1764504000000-1 --wait\n"
                "The steps the job applied stay applied. Cancelling a job that is done changes\n"
                "nothing and is not an error."));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::Job> job = context.client.CancelJob(job_.id, job_.call);
    if (!job.ok()) return Refused(job.status());
    if (wait_ && !job->done()) {
      // The watch ends when the job does (CANCELLED, or with its summary if it finished
      // first); the job's final record is read back after.
      Watched watched = WatchUntilDone(context, job_.id, job_.call, /*display=*/nullptr);
      if (watched.interrupted) return StoppedWatching(job_.id, context.global.json);
      job = context.client.GetJob(job_.id, job_.call);
      if (!job.ok()) return Refused(job.status());
      if (!job->done()) return Refused(watched.summary.status());
    }
    Print(context.global.json, JobJson(*job),
          job->done() ? JobLine(*job) : absl::StrCat("cancelling ", JobLine(*job)));
    return kExitOk;
  }

 private:
  JobId job_;
  bool wait_ = false;
};

const RegisterCommand<JobsCommand> kJobs(/*help_order=*/82);
const RegisterCommand<JobCommand> kJob(/*help_order=*/84);
const RegisterCommand<WatchCommand> kWatch(/*help_order=*/86);
const RegisterCommand<CancelCommand> kCancel(/*help_order=*/88);

}  // namespace
}  // namespace mlpd::mlpctl
