// Tests of how mlpctl prints jobs, learning curves and a run's summary: the job table, the
// description and the JSON scripts read, the history as a table, CSV and JSON (a point without
// an evaluation, numbers that parse back exactly), and why a run stopped.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/mlpctl/history_output.h"
#include "client/mlpctl/job_output.h"
#include "client/mlpctl/progress_display.h"
#include "client/train_progress.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace mlpd::mlpctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

v1::Job RunningJob() {
  v1::Job job;
  job.set_id("job-1764504000000-7");
  job.set_session("digits");
  job.set_dataset("train");
  job.mutable_request()->set_name("digits");
  job.mutable_request()->set_dataset("train");
  job.mutable_request()->set_eval_dataset("test");
  job.mutable_request()->set_epochs(10);
  job.set_state(v1::JOB_STATE_RUNNING);
  job.set_steps_done(40);
  job.set_steps_total(200);
  job.set_epoch(3);
  job.set_start_step(5);
  job.set_create_time_unix_ms(1764504000000);  // 2025-11-30 12:00:00 UTC.
  job.set_start_time_unix_ms(1764504001000);
  job.mutable_last_progress()->set_loss(0.25);
  job.mutable_last_progress()->set_steps_done(40);
  v1::JobEval* eval = job.add_evals();
  eval->set_step(45);
  eval->mutable_result()->set_loss(0.5);
  eval->mutable_result()->set_error_rate(0.125);
  return job;
}

v1::Job CancelledJob() {
  v1::Job job = RunningJob();
  job.set_id("job-1764504000000-8");
  job.set_state(v1::JOB_STATE_CANCELLED);
  job.set_done(true);
  job.set_end_time_unix_ms(1764504002000);
  job.mutable_error()->set_code(1);  // CANCELLED
  job.mutable_error()->set_message("cancelled by CancelJob at step 45");
  return job;
}

v1::Job SucceededJob() {
  v1::Job job = RunningJob();
  job.set_state(v1::JOB_STATE_SUCCEEDED);
  job.set_done(true);
  v1::TrainSummary* summary = job.mutable_summary();
  summary->set_steps(120);
  summary->set_epochs(6);
  summary->set_step(125);
  summary->set_last_loss(0.0625);
  summary->set_stop_reason(v1::STOP_REASON_EARLY_STOPPED);
  summary->mutable_best()->set_step(85);
  summary->mutable_best()->mutable_result()->set_loss(0.375);
  summary->set_kept_step(85);
  return job;
}

TEST(JobOutputTest, StatesAreLowerCaseAsJobsStateTakesThem) {
  EXPECT_EQ(JobStateName(v1::JOB_STATE_QUEUED), "queued");
  EXPECT_EQ(JobStateName(v1::JOB_STATE_RUNNING), "running");
  EXPECT_EQ(JobStateName(v1::JOB_STATE_SUCCEEDED), "succeeded");
  EXPECT_EQ(JobStateName(v1::JOB_STATE_FAILED), "failed");
  EXPECT_EQ(JobStateName(v1::JOB_STATE_CANCELLED), "cancelled");
  EXPECT_EQ(JobStateName(v1::JOB_STATE_UNSPECIFIED), "unspecified");
  EXPECT_EQ(JobStateName(static_cast<v1::JobState>(99)), "unspecified");
}

TEST(JobOutputTest, TheTableHasAJobARowWithItsStepsEpochAndLoss) {
  const std::vector<std::string> lines =
      absl::StrSplit(JobTable({RunningJob(), SucceededJob()}), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr("ID"));
  EXPECT_THAT(lines[0], HasSubstr("STATE"));
  std::vector<std::string> running = absl::StrSplit(lines[1], ' ', absl::SkipEmpty());
  EXPECT_THAT(running, ElementsAre("job-1764504000000-7", "running", "digits", "train", "40/200",
                                   "3/10", "0.25"));
  std::vector<std::string> done = absl::StrSplit(lines[2], ' ', absl::SkipEmpty());
  // A finished job shows its summary's loss, not its last report's.
  EXPECT_EQ(done.back(), "0.0625");
  EXPECT_EQ(done[1], "succeeded");
}

TEST(JobOutputTest, JsonCarriesNumbersStatesAndTheErrorByName) {
  nlohmann::json running = JobJson(RunningJob());
  EXPECT_EQ(running["id"], "job-1764504000000-7");
  EXPECT_EQ(running["state"], "running");
  EXPECT_EQ(running["done"], false);
  EXPECT_EQ(running["steps_done"], 40);
  EXPECT_EQ(running["steps_total"], 200);
  EXPECT_EQ(running["epochs"], 10);
  EXPECT_EQ(running["eval_dataset"], "test");
  EXPECT_EQ(running["last_progress"]["loss"], 0.25);
  ASSERT_EQ(running["evals"].size(), 1u);
  EXPECT_EQ(running["evals"][0]["step"], 45);
  EXPECT_EQ(running["evals"][0]["error_rate"], 0.125);
  EXPECT_FALSE(running.contains("summary"));
  EXPECT_FALSE(running.contains("error"));

  nlohmann::json cancelled = JobJson(CancelledJob());
  EXPECT_EQ(cancelled["state"], "cancelled");
  EXPECT_EQ(cancelled["error"]["code"], "CANCELLED");
  EXPECT_EQ(cancelled["error"]["message"], "cancelled by CancelJob at step 45");

  nlohmann::json succeeded = JobJson(SucceededJob());
  EXPECT_EQ(succeeded["summary"]["stop_reason"], "early_stopped");
  EXPECT_EQ(succeeded["summary"]["kept_step"], 85);
  EXPECT_EQ(succeeded["summary"]["best_step"], 85);
  EXPECT_FALSE(succeeded["summary"].contains("event"));
}

TEST(JobOutputTest, TheDescriptionSaysWhereTheJobIsAndHowItEnded) {
  const std::string running = JobText(RunningJob());
  EXPECT_THAT(running, HasSubstr("state:     running\n"));
  EXPECT_THAT(running, HasSubstr("session:   digits (from step 5)\n"));
  EXPECT_THAT(running, HasSubstr("dataset:   train, eval test\n"));
  EXPECT_THAT(running, HasSubstr("steps:     40/200, epoch 3/10\n"));
  EXPECT_THAT(running, HasSubstr("evals:     1, last at step 45: loss 0.5 error_rate 0.1250\n"));
  EXPECT_THAT(running, HasSubstr("created:   2025-11-30 12:00:00 UTC\n"));
  EXPECT_THAT(running, HasSubstr("ended:     -\n"));
  EXPECT_THAT(running, Not(HasSubstr("error:")));

  EXPECT_THAT(JobText(CancelledJob()),
              HasSubstr("error:     CANCELLED: cancelled by CancelJob at step 45\n"));
  v1::Job resumed = RunningJob();
  resumed.set_resumes(2);
  EXPECT_THAT(JobText(resumed), HasSubstr("state:     running (resumed 2x after restarts)\n"));
  EXPECT_THAT(JobText(SucceededJob()),
              HasSubstr("result:    early_stopped after 120 steps in 0.000s, best eval loss "
                        "0.375 at step 85, session keeps step 85's parameters\n"));
  EXPECT_EQ(JobLine(RunningJob()),
            "job-1764504000000-7 running: session digits, step 40/200, epoch 3/10\n");
}

TEST(SummaryTextTest, SaysWhyTheRunStoppedAndWhichStepWasKept) {
  v1::TrainSummary summary = SucceededJob().summary();
  EXPECT_EQ(SummaryText("digits", summary),
            "trained digits: 120 steps, 6 epochs in 0.000s, last loss 0.0625, session step 125, "
            "stopped early (no eval improvement), best eval loss 0.375 at step 85, kept the "
            "parameters of step 85\n");
  // A run that completed and kept its last step says neither.
  summary.set_stop_reason(v1::STOP_REASON_COMPLETED);
  summary.clear_best();
  summary.set_kept_step(125);
  EXPECT_EQ(SummaryText("digits", summary),
            "trained digits: 120 steps, 6 epochs in 0.000s, last loss 0.0625, session step 125\n");
  nlohmann::json line = nlohmann::json::parse(SummaryJsonLine(summary));
  EXPECT_EQ(line["stop_reason"], "completed");
  EXPECT_EQ(line["kept_step"], 125);
  EXPECT_FALSE(line.contains("best_step"));
  // A summary from a server that predates the stop reason carries none.
  EXPECT_FALSE(nlohmann::json::parse(SummaryJsonLine(v1::TrainSummary())).contains("stop_reason"));
}

std::vector<v1::HistoryPoint> TwoPoints() {
  v1::HistoryPoint plain;
  plain.set_step(10);
  plain.set_time_unix_ms(1764504000000);
  plain.set_train_loss(0.1);
  plain.set_samples_per_second(1234.25);
  v1::HistoryPoint evaluated = plain;
  evaluated.set_step(20);
  evaluated.set_train_loss(1.0 / 3.0);
  evaluated.mutable_eval()->set_loss(2.0 / 3.0);
  evaluated.mutable_eval()->set_error_rate(0.0625);
  return {plain, evaluated};
}

TEST(HistoryOutputTest, CsvHasAHeaderEmptyFieldsForNoEvalAndExactNumbers) {
  const std::vector<std::string> lines =
      absl::StrSplit(HistoryCsv(TwoPoints()), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "step,time_unix_ms,train_loss,eval_loss,eval_error_rate,samples_per_second");
  EXPECT_EQ(lines[1], "10,1764504000000,0.1,,,1234.25");
  const std::vector<std::string> fields = absl::StrSplit(lines[2], ',');
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0], "20");
  // Every number reads back as the value the server sent.
  EXPECT_EQ(std::strtod(fields[2].c_str(), nullptr), 1.0 / 3.0);
  EXPECT_EQ(std::strtod(fields[3].c_str(), nullptr), 2.0 / 3.0);
  EXPECT_EQ(fields[4], "0.0625");
}

TEST(HistoryOutputTest, TheTableShowsADashWhereThereWasNoEvaluation) {
  const std::vector<std::string> lines =
      absl::StrSplit(HistoryTable(TwoPoints()), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  std::vector<std::string> header = absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  EXPECT_THAT(header, ElementsAre("STEP", "TIME", "(UTC)", "TRAIN_LOSS", "EVAL_LOSS", "EVAL_ERROR",
                                  "SAMPLES/S"));
  std::vector<std::string> plain = absl::StrSplit(lines[1], ' ', absl::SkipEmpty());
  EXPECT_THAT(plain, ElementsAre("10", "2025-11-30", "12:00:00", "0.1", "-", "-", "1234"));
  std::vector<std::string> evaluated = absl::StrSplit(lines[2], ' ', absl::SkipEmpty());
  EXPECT_THAT(evaluated,
              ElementsAre("20", "2025-11-30", "12:00:00", "0.333333", "0.666667", "6.25%", "1234"));
}

TEST(HistoryOutputTest, JsonLeavesOutWhatAPointLacks) {
  nlohmann::json all = HistoryJson(TwoPoints());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["step"], 10);
  EXPECT_EQ(all[0]["time_unix_ms"], 1764504000000);
  EXPECT_FALSE(all[0].contains("eval_loss"));
  EXPECT_EQ(all[1]["eval_loss"], 2.0 / 3.0);
  EXPECT_EQ(all[1]["eval_error_rate"], 0.0625);
  EXPECT_EQ(HistoryJson({}).dump(), "[]");
}

}  // namespace
}  // namespace mlpd::mlpctl
