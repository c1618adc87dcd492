#include "client/mlpctl/job_output.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/train_progress.h"

namespace mlpd::mlpctl {
namespace {

// TimeText is "2026-11-30 12:00:01 UTC", or "-" for a time not reached (0).
std::string TimeText(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

// CodeName is the gRPC code's name ("CANCELLED"), as mlpctl prints a refusal.
std::string CodeName(int32_t code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// LastLoss is the loss of the job's summary, else of its last report; "-" before either.
std::string LastLoss(const v1::Job& job) {
  if (job.has_summary()) return absl::StrFormat("%.6g", job.summary().last_loss());
  if (job.has_last_progress()) return absl::StrFormat("%.6g", job.last_progress().loss());
  return "-";
}

std::string ErrorText(const v1::JobError& error) {
  return absl::StrCat(CodeName(error.code()), ": ", error.message());
}

}  // namespace

std::string JobStateName(v1::JobState state) {
  if (state == v1::JOB_STATE_UNSPECIFIED || !v1::JobState_IsValid(state)) return "unspecified";
  return absl::AsciiStrToLower(absl::StripPrefix(v1::JobState_Name(state), "JOB_STATE_"));
}

nlohmann::json JobJson(const v1::Job& job) {
  nlohmann::json line = {{"id", job.id()},
                         {"session", job.session()},
                         {"dataset", job.dataset()},
                         {"eval_dataset", job.request().eval_dataset()},
                         {"state", JobStateName(job.state())},
                         {"done", job.done()},
                         {"steps_done", job.steps_done()},
                         {"steps_total", job.steps_total()},
                         {"epoch", job.epoch()},
                         {"epochs", job.request().epochs()},
                         {"start_step", job.start_step()},
                         {"resumes", job.resumes()},
                         {"create_time_unix_ms", job.create_time_unix_ms()},
                         {"start_time_unix_ms", job.start_time_unix_ms()},
                         {"update_time_unix_ms", job.update_time_unix_ms()},
                         {"end_time_unix_ms", job.end_time_unix_ms()}};
  if (job.has_last_progress()) {
    line["last_progress"] = nlohmann::json::parse(ProgressJsonLine(job.last_progress(), {}));
    line["last_progress"].erase("event");
    line["last_progress"].erase("eta_seconds");
    line["last_progress"].erase("epochs");
  }
  nlohmann::json evals = nlohmann::json::array();
  for (const v1::JobEval& eval : job.evals()) {
    nlohmann::json point = {{"step", eval.step()}, {"loss", eval.result().loss()}};
    if (eval.result().has_error_rate()) point["error_rate"] = eval.result().error_rate();
    evals.push_back(point);
  }
  line["evals"] = evals;
  if (job.has_summary()) {
    line["summary"] = nlohmann::json::parse(SummaryJsonLine(job.summary()));
    line["summary"].erase("event");
  }
  if (job.has_error()) {
    line["error"] = {{"code", CodeName(job.error().code())}, {"message", job.error().message()}};
  }
  return line;
}

std::string JobLine(const v1::Job& job) {
  return absl::StrFormat("%s %s: session %s, step %d/%d, epoch %d/%d\n", job.id(),
                         JobStateName(job.state()), job.session(), job.steps_done(),
                         job.steps_total(), job.epoch(), job.request().epochs());
}

std::string JobText(const v1::Job& job) {
  std::string text =
      absl::StrCat("id:        ", job.id(), "\n", "state:     ", JobStateName(job.state()));
  if (job.resumes() > 0) absl::StrAppend(&text, " (resumed ", job.resumes(), "x after restarts)");
  absl::StrAppend(&text, "\nsession:   ", job.session(), " (from step ", job.start_step(), ")\n",
                  "dataset:   ", job.dataset());
  if (!job.request().eval_dataset().empty()) {
    absl::StrAppend(&text, ", eval ", job.request().eval_dataset());
  }
  absl::StrAppendFormat(&text, "\nsteps:     %d/%d, epoch %d/%d\nloss:      %s\n", job.steps_done(),
                        job.steps_total(), job.epoch(), job.request().epochs(), LastLoss(job));
  if (job.evals_size() > 0) {
    const v1::JobEval& last = job.evals(job.evals_size() - 1);
    absl::StrAppendFormat(&text, "evals:     %d, last at step %d: loss %.6g", job.evals_size(),
                          last.step(), last.result().loss());
    if (last.result().has_error_rate()) {
      absl::StrAppendFormat(&text, " error_rate %.4f", last.result().error_rate());
    }
    absl::StrAppend(&text, "\n");
  }
  absl::StrAppend(&text, "created:   ", TimeText(job.create_time_unix_ms()), "\n",
                  "started:   ", TimeText(job.start_time_unix_ms()), "\n",
                  "ended:     ", TimeText(job.end_time_unix_ms()), "\n");
  if (job.has_summary()) {
    const v1::TrainSummary& summary = job.summary();
    absl::StrAppendFormat(&text, "result:    %s after %d steps in %.3fs",
                          StopReasonName(summary.stop_reason()), summary.steps(),
                          summary.seconds());
    if (summary.has_best()) {
      absl::StrAppendFormat(&text, ", best eval loss %.6g at step %d",
                            summary.best().result().loss(), summary.best().step());
    }
    absl::StrAppendFormat(&text, ", session keeps step %d's parameters\n", summary.kept_step());
  }
  if (job.has_error()) absl::StrAppend(&text, "error:     ", ErrorText(job.error()), "\n");
  return text;
}

std::string JobTable(const std::vector<v1::Job>& jobs) {
  std::string table = absl::StrFormat("%-28s %-10s %-20s %-16s %15s %9s %s\n", "ID", "STATE",
                                      "SESSION", "DATASET", "STEPS", "EPOCH", "LOSS");
  for (const v1::Job& job : jobs) {
    absl::StrAppendFormat(&table, "%-28s %-10s %-20s %-16s %15s %9s %s\n", job.id(),
                          JobStateName(job.state()), job.session(), job.dataset(),
                          absl::StrCat(job.steps_done(), "/", job.steps_total()),
                          absl::StrCat(job.epoch(), "/", job.request().epochs()), LastLoss(job));
  }
  return table;
}

}  // namespace mlpd::mlpctl
