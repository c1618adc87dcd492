#include "server/job_runner.h"

#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/job_run.h"
#include "server/log.h"
#include "server/wire.h"

namespace mlpd {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace

// Run is one job being run: its targets and its JobRun (executor only after Queue).
class JobRunner::Run {
 public:
  Run(v1::Job job, JobTargets targets, TrainingRuns::Lease lease, int64_t steps_done,
      std::vector<v1::JobEval> evals)
      : job(std::move(job)),
        targets(std::move(targets)),
        lease(std::move(lease)),
        run(this->job.request(), *this->targets.train, this->targets.eval, steps_done,
            std::move(evals)) {
    run.SetEvaluationChunks(this->targets.evaluation_chunks);
  }

  const v1::Job job;
  const JobTargets targets;
  TrainingRuns::Lease lease;  // Given back when the run ends here.
  JobRun run;
  bool started = false;
  absl::Time last_save = absl::InfinitePast();
  const absl::Time queued_at = absl::Now();  // Queued on this server (its log's duration).
};

JobRunner::JobRunner(ComputeExecutor* executor, JobRegistry* jobs, JobHost* host, Storage storage,
                     TrainingRuns* runs)
    : executor_(executor), jobs_(jobs), host_(host), storage_(storage), runs_(runs) {}

HistoryPoint JobRunner::HistoryPointOf(const v1::TrainProgress& progress, int64_t now_unix_ms) {
  HistoryPoint point;
  point.step = progress.step();
  point.time_unix_ms = now_unix_ms;
  point.train_loss = progress.loss();
  point.samples_per_second = progress.samples_per_second();
  point.has_eval = progress.has_eval();
  point.eval_loss = progress.eval().loss();
  point.eval_has_error_rate = progress.eval().has_error_rate();
  point.eval_error_rate = progress.eval().error_rate();
  return point;
}

absl::StatusOr<v1::Job> JobRunner::Start(const v1::TrainRequest& request) {
  absl::StatusOr<JobTargets> targets = host_->Resolve(request);
  if (!targets.ok()) return targets.status();
  TrainingRuns::Lease lease;
  if (runs_ != nullptr) {
    absl::StatusOr<TrainingRuns::Lease> opened = runs_->Open(targets->cost);
    if (!opened.ok()) return opened.status();
    lease = *std::move(opened);
  }
  const int64_t steps_total = JobRun::StepsTotal(request, targets->train->rows());
  absl::StatusOr<v1::Job> job = jobs_->Admit(request, targets->step_count, steps_total, NowMs());
  if (!job.ok()) return job.status();
  Queue(std::make_shared<Run>(*job, *std::move(targets), std::move(lease), 0,
                              std::vector<v1::JobEval>{}));
  return job;
}

void JobRunner::ResumeAll() {
  for (v1::Job& job : jobs_->LiveJobs()) {
    absl::StatusOr<JobTargets> targets = host_->Resolve(job.request());
    if (!targets.ok()) {
      End(job.id(), v1::JOB_STATE_FAILED,
          absl::FailedPreconditionError(
              absl::StrFormat("cannot resume after the restart: %s", targets.status().message())));
      continue;
    }
    // The session's snapshot says how far the job got; steps after it are redone.
    const int64_t steps_done = targets->step_count - job.start_step();
    if (steps_done < 0 || steps_done > job.steps_total()) {
      End(job.id(), v1::JOB_STATE_FAILED,
          absl::FailedPreconditionError(absl::StrFormat(
              "cannot resume after the restart: session \"%s\" is at step %d, the job started "
              "at step %d and runs %d steps",
              job.session(), targets->step_count, job.start_step(), job.steps_total())));
      continue;
    }
    std::vector<v1::JobEval> evals;
    for (const v1::JobEval& eval : job.evals()) {
      if (eval.step() <= targets->step_count) evals.push_back(eval);
    }
    jobs_->Update(
        job.id(),
        [&](v1::Job* record) {
          record->set_resumes(record->resumes() + 1);
          record->set_steps_done(steps_done);
          record->set_state(v1::JOB_STATE_QUEUED);
          *record->mutable_evals() = {evals.begin(), evals.end()};
          record->set_update_time_unix_ms(NowMs());
        },
        nullptr);
    TrainingRuns::Lease lease = ResumedLease(job, targets->cost);
    auto run = std::make_shared<Run>(*jobs_->Get(job.id()), *std::move(targets), std::move(lease),
                                     steps_done, std::move(evals));
    if (storage_.store != nullptr && job.request().keep_best()) {
      absl::StatusOr<v1::Checkpoint> best = storage_.store->LoadBest(job.id());
      if (best.ok()) {
        run->run.SetBestParameters(
            best->step_count(),
            std::vector<float>(best->parameters().begin(), best->parameters().end()));
      }
    }
    LogEvent("job_resumed")
        .Job(job.id())
        .Session(job.session())
        .Message(absl::StrFormat("job %s resumes at step %d of %d (session \"%s\" at step %d)",
                                 job.id(), steps_done, job.steps_total(), job.session(),
                                 run->targets.step_count))
        .Write();
    Queue(std::move(run));
  }
}

TrainingRuns::Lease JobRunner::ResumedLease(const v1::Job& job, const RunCost& cost) {
  if (runs_ == nullptr) return {};
  std::string over;
  TrainingRuns::Lease lease = runs_->OpenPastLimits(cost, &over);
  if (!over.empty()) {
    LogEvent("job_resumed_past_limits")
        .Level(LogLevel::kWarning)
        .Job(job.id())
        .Session(job.session())
        .Message(absl::StrFormat("job %s resumes past the limits (new runs are refused until "
                                 "enough end): %s",
                                 job.id(), over))
        .Write();
  }
  return lease;
}

void JobRunner::Queue(std::shared_ptr<Run> run) {
  ++running_;
  executor_->Continue(run->targets.key, [this, run](bool cancelled) { Step(run, cancelled); });
}

void JobRunner::MarkRunning(Run& run, const Model& model) {
  run.started = true;
  const std::string& id = run.job.id();
  // A fresh job counts from the session's step count when its first mini-batch runs (calls
  // queued before it ran first); a resumed one keeps the count it started from.
  const int64_t start_step = model.step_count() - run.run.steps_done();
  const bool fresh = run.run.steps_done() == 0;
  jobs_->Update(
      id,
      [&](v1::Job* job) {
        job->set_state(v1::JOB_STATE_RUNNING);
        if (fresh) job->set_start_step(start_step);
        if (job->start_time_unix_ms() == 0) job->set_start_time_unix_ms(NowMs());
        job->set_update_time_unix_ms(NowMs());
      },
      nullptr);
  run.last_save = absl::Now();
}

bool JobRunner::ApplyStep(const std::shared_ptr<Run>& run, Model* model) {
  const std::string& id = run->job.id();
  absl::StatusOr<JobRun::StepResult> result = run->run.Step(*model);
  if (!result.ok()) {
    EndRun(run, v1::JOB_STATE_FAILED, result.status());
    return false;
  }
  if (result->new_best && run->job.request().keep_best() && storage_.store != nullptr &&
      storage_.writer != nullptr) {
    // Posted before the record that names this best, so the disk never names a best it lacks.
    storage_.writer->Post([store = storage_.store, id, step = model->step_count(),
                           parameters = run->run.best_parameters()] {
      absl::Status saved = store->SaveBest(id, step, parameters);
      if (!saved.ok()) LogLine(absl::StrFormat("job %s: %s", id, saved.message()));
    });
  }
  if (result->report.has_value()) {
    const int64_t now = NowMs();
    // The curve has the point before watchers hear of it, so a watcher that asks finds it.
    if (run->targets.record) run->targets.record(HistoryPointOf(*result->report, now));
    v1::TrainResponse event;
    *event.mutable_progress() = *result->report;
    const absl::Time now_time = absl::Now();
    const bool save = result->eval.has_value() || now_time - run->last_save >= kSaveInterval;
    if (save) run->last_save = now_time;
    jobs_->Update(
        id,
        [&](v1::Job* job) {
          job->set_steps_done(run->run.steps_done());
          job->set_epoch(run->run.epoch());
          *job->mutable_last_progress() = *result->report;
          *job->mutable_evals() = {run->run.evals().begin(), run->run.evals().end()};
          job->set_update_time_unix_ms(now);
        },
        &event, save);
  }
  run->targets.after_steps();
  return true;
}

void JobRunner::Step(const std::shared_ptr<Run>& run, bool cancelled) {
  const std::string& id = run->job.id();
  absl::Status gone = run->targets.gone();
  if (!gone.ok()) {
    EndRun(
        run, v1::JOB_STATE_FAILED,
        absl::Status(gone.code(), absl::StrFormat("%s, after %d of %d steps", gone.message(),
                                                  run->run.steps_done(), run->run.steps_total())));
    return;
  }
  if (cancelled || stopping_) {
    // The server is stopping: the job stays live on disk and resumes at the next start.
    jobs_->Release(id, absl::UnavailableError(absl::StrFormat(
                           "the server is shutting down; job %s stopped after %d of %d steps and "
                           "resumes when the server starts again",
                           id, run->run.steps_done(), run->run.steps_total())));
    run->lease.Release();
    --running_;
    return;
  }
  if (const std::string reason = jobs_->CancelReason(id); !reason.empty()) {
    EndRun(run, v1::JOB_STATE_CANCELLED,
           absl::CancelledError(absl::StrFormat("%s, after %d of %d steps (they are kept)", reason,
                                                run->run.steps_done(), run->run.steps_total())));
    return;
  }
  Model* model = run->targets.model();
  if (!run->started) MarkRunning(*run, *model);
  if (!run->run.over() && !ApplyStep(run, model)) return;
  if (!run->run.over()) {
    executor_->Continue(run->targets.key, [this, run](bool cancelled) { Step(run, cancelled); });
    return;
  }
  absl::StatusOr<v1::TrainSummary> summary = run->run.Finish(*model);
  if (!summary.ok()) {
    EndRun(run, v1::JOB_STATE_FAILED, summary.status());
    return;
  }
  if (summary->kept_step() != summary->step()) run->targets.snapshot();
  EndRun(run, v1::JOB_STATE_SUCCEEDED, absl::OkStatus(), &*summary);
}

void JobRunner::EndRun(const std::shared_ptr<Run>& run, v1::JobState state,
                       const absl::Status& status, const v1::TrainSummary* summary) {
  // Every end is logged (a job is long; its end is news), failures as warnings.
  LogEvent("job_ended")
      .Level(status.ok() ? LogLevel::kInfo : LogLevel::kWarning)
      .Job(run->job.id())
      .Session(run->job.session())
      .Code(StatusCodeName(status.code()))
      .Duration(absl::Now() - run->queued_at)
      .Message(absl::StrFormat("job %s (session \"%s\") ended %s after %d of %d steps%s%s",
                               run->job.id(), run->job.session(), JobStateLabel(state),
                               run->run.steps_done(), run->run.steps_total(),
                               status.ok() ? "" : ": ", status.message()))
      .Write();
  if (run->run.steps_done() > 0) {
    jobs_->Update(
        run->job.id(),
        [&](v1::Job* job) {
          job->set_steps_done(run->run.steps_done());
          job->set_epoch(run->run.epoch());
          *job->mutable_evals() = {run->run.evals().begin(), run->run.evals().end()};
        },
        nullptr, /*save=*/false);
  }
  // Given back before the watchers hear the end, so a run they start next finds the room.
  run->lease.Release();
  End(run->job.id(), state, status, summary);
  --running_;
}

void JobRunner::End(const std::string& id, v1::JobState state, const absl::Status& status,
                    const v1::TrainSummary* summary) {
  jobs_->Finish(id, state, summary, status, NowMs());
}

}  // namespace mlpd
