// Tests of the job registry: one live job per session, listing with filters and pages,
// cancellation requests, watchers, records saved on every change, and old done jobs forgotten.
#include "server/job_registry.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::TrainRequest RequestFor(const std::string& session) {
  v1::TrainRequest request;
  request.set_name(session);
  request.set_dataset("d");
  request.set_epochs(1);
  return request;
}

struct Recorder : JobWatcher {
  void OnEvent(const v1::TrainResponse& event) override { events.push_back(event); }
  void OnDone(const v1::Job& job) override { done.push_back(job); }
  std::vector<v1::TrainResponse> events;
  std::vector<v1::Job> done;
};

struct Disk {
  JobRegistry::Persistence persistence() {
    return {[this](const v1::Job& job) { saved.push_back(job); },
            [this](const std::string& id) { removed.push_back(id); }};
  }
  std::vector<v1::Job> saved;
  std::vector<std::string> removed;
};

std::vector<std::string> Ids(const v1::ListJobsResponse& response) {
  std::vector<std::string> ids;
  for (const v1::Job& job : response.jobs()) ids.push_back(job.id());
  return ids;
}

TEST(JobRegistryTest, ASessionHasOneLiveJobAndASecondIsRefusedNamingIt) {
  Disk disk;
  JobRegistry jobs(disk.persistence());
  absl::StatusOr<v1::Job> first = jobs.Admit(RequestFor("a"), 10, 100, 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(first->start_step(), 10);
  EXPECT_EQ(first->steps_total(), 100);
  ASSERT_EQ(disk.saved.size(), 1u);

  absl::StatusOr<v1::Job> second = jobs.Admit(RequestFor("a"), 10, 100, 1001);
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status()));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(first->id()));
  EXPECT_TRUE(jobs.Admit(RequestFor("b"), 0, 5, 1002).ok());  // Other sessions are free.

  jobs.Finish(first->id(), v1::JOB_STATE_CANCELLED, nullptr, absl::CancelledError("stop"), 1003);
  EXPECT_TRUE(jobs.Admit(RequestFor("a"), 12, 100, 1004).ok());  // Done: a new one may start.
}

TEST(JobRegistryTest, ListFiltersNewestFirstInPages) {
  JobRegistry jobs({});
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<v1::Job> job =
        jobs.Admit(RequestFor(i % 2 == 0 ? "even" : "odd"), 0, 1, 1000 + i);
    ASSERT_TRUE(job.ok());
    ids.push_back(job->id());
    if (i < 3)
      jobs.Finish(job->id(), v1::JOB_STATE_SUCCEEDED, &v1::TrainSummary::default_instance(),
                  absl::OkStatus(), 2000);
  }
  v1::ListJobsRequest request;
  request.set_page_size(2);
  v1::ListJobsResponse page = *jobs.List(request);
  EXPECT_THAT(Ids(page), ElementsAre(ids[4], ids[3]));
  request.set_page_token(page.next_page_token());
  page = *jobs.List(request);
  EXPECT_THAT(Ids(page), ElementsAre(ids[2], ids[1]));
  request.set_page_token(page.next_page_token());
  page = *jobs.List(request);
  EXPECT_THAT(Ids(page), ElementsAre(ids[0]));
  EXPECT_TRUE(page.next_page_token().empty());

  v1::ListJobsRequest filtered;
  filtered.set_session("even");
  EXPECT_THAT(Ids(*jobs.List(filtered)), ElementsAre(ids[4], ids[2], ids[0]));
  filtered.set_state(v1::JOB_STATE_QUEUED);
  EXPECT_THAT(Ids(*jobs.List(filtered)), ElementsAre(ids[4]));
  filtered.set_page_size(-1);
  EXPECT_TRUE(absl::IsInvalidArgument(jobs.List(filtered).status()));
}

TEST(JobRegistryTest, WatchersGetEventsThenTheEndAndUnwatchedOnesNothing) {
  Disk disk;
  JobRegistry jobs(disk.persistence());
  const v1::Job job = *jobs.Admit(RequestFor("a"), 0, 10, 1000);
  Recorder stays, leaves;
  EXPECT_EQ(jobs.Watch(job.id(), &stays)->state(), v1::JOB_STATE_QUEUED);
  ASSERT_TRUE(jobs.Watch(job.id(), &leaves).ok());
  v1::TrainResponse event;
  event.mutable_progress()->set_steps_done(5);
  jobs.Update(
      job.id(), [](v1::Job* j) { j->set_steps_done(5); }, &event);
  jobs.Unwatch(job.id(), &leaves);
  jobs.Update(
      job.id(), [](v1::Job* j) { j->set_steps_done(6); }, &event);
  v1::TrainSummary summary;
  summary.set_steps(10);
  jobs.Finish(job.id(), v1::JOB_STATE_SUCCEEDED, &summary, absl::OkStatus(), 1100);

  EXPECT_EQ(stays.events.size(), 2u);
  ASSERT_EQ(stays.done.size(), 1u);
  EXPECT_TRUE(stays.done[0].done());
  EXPECT_EQ(stays.done[0].summary().steps(), 10);
  EXPECT_EQ(leaves.events.size(), 1u);
  EXPECT_TRUE(leaves.done.empty());
  // Every change reached the disk, the last one final; updates after the end are ignored.
  EXPECT_EQ(disk.saved.size(), 4u);
  EXPECT_EQ(disk.saved.back().state(), v1::JOB_STATE_SUCCEEDED);
  jobs.Update(
      job.id(), [](v1::Job* j) { j->set_steps_done(99); }, nullptr);
  EXPECT_EQ(jobs.Get(job.id())->steps_done(), 6);
  // Watching a done job gives it at once, with no subscription.
  Recorder late;
  EXPECT_TRUE(jobs.Watch(job.id(), &late)->done());
  EXPECT_TRUE(absl::IsNotFound(jobs.Watch("job-nope", &late).status()));
}

TEST(JobRegistryTest, CancelRecordsTheFirstReasonAndLeavesDoneJobsAlone) {
  JobRegistry jobs({});
  const v1::Job job = *jobs.Admit(RequestFor("a"), 0, 10, 1000);
  EXPECT_TRUE(jobs.CancelReason(job.id()).empty());
  ASSERT_TRUE(jobs.RequestCancel(job.id(), "by CancelJob").ok());
  ASSERT_TRUE(jobs.RequestCancel(job.id(), "again").ok());
  EXPECT_EQ(jobs.CancelReason(job.id()), "by CancelJob");
  jobs.Finish(job.id(), v1::JOB_STATE_CANCELLED, nullptr, absl::CancelledError("by CancelJob"),
              1001);
  const v1::Job done = *jobs.RequestCancel(job.id(), "late");
  EXPECT_EQ(done.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(done.error().code(), static_cast<int>(absl::StatusCode::kCancelled));
  EXPECT_EQ(done.error().message(), "by CancelJob");
  EXPECT_TRUE(absl::IsNotFound(jobs.RequestCancel("job-x", "why").status()));
}

TEST(JobRegistryTest, CountByStateNamesEveryStateAndFollowsTheJobs) {
  using Counts = std::vector<std::pair<std::string, int64_t>>;
  JobRegistry jobs({}, /*max_done=*/2);
  EXPECT_EQ(
      jobs.CountByState(),
      (Counts{{"queued", 0}, {"running", 0}, {"succeeded", 0}, {"failed", 0}, {"cancelled", 0}}));
  const v1::Job a = *jobs.Admit(RequestFor("a"), 0, 10, 1000);
  const v1::Job b = *jobs.Admit(RequestFor("b"), 0, 10, 1001);
  const v1::Job c = *jobs.Admit(RequestFor("c"), 0, 10, 1002);
  jobs.Update(
      b.id(), [](v1::Job* job) { job->set_state(v1::JOB_STATE_RUNNING); }, nullptr);
  EXPECT_EQ(
      jobs.CountByState(),
      (Counts{{"queued", 2}, {"running", 1}, {"succeeded", 0}, {"failed", 0}, {"cancelled", 0}}));
  v1::TrainSummary summary;
  jobs.Finish(a.id(), v1::JOB_STATE_SUCCEEDED, &summary, absl::OkStatus(), 1003);
  jobs.Finish(b.id(), v1::JOB_STATE_FAILED, nullptr, absl::NotFoundError("gone"), 1004);
  EXPECT_EQ(
      jobs.CountByState(),
      (Counts{{"queued", 1}, {"running", 0}, {"succeeded", 1}, {"failed", 1}, {"cancelled", 0}}));
  // A third done job makes the registry forget the oldest: counts are of the jobs held.
  jobs.Finish(c.id(), v1::JOB_STATE_CANCELLED, nullptr, absl::CancelledError("stop"), 1005);
  EXPECT_EQ(
      jobs.CountByState(),
      (Counts{{"queued", 0}, {"running", 0}, {"succeeded", 0}, {"failed", 1}, {"cancelled", 1}}));
}

TEST(JobRegistryTest, RestoredLiveJobsKeepTheirSessionAndOldDoneJobsAreForgotten) {
  Disk disk;
  JobRegistry jobs(disk.persistence(), /*max_done=*/2);
  std::vector<v1::Job> loaded;
  for (int i = 0; i < 4; ++i) {
    v1::Job job;
    job.set_id("job-000000000000" + std::to_string(i) + "-0000");
    job.set_session(i == 3 ? "live" : "old");
    job.set_state(i == 3 ? v1::JOB_STATE_RUNNING : v1::JOB_STATE_SUCCEEDED);
    job.set_done(i != 3);
    loaded.push_back(job);
  }
  jobs.Restore(loaded);
  EXPECT_THAT(disk.removed, ElementsAre(loaded[0].id()));  // 3 done, 2 kept.
  ASSERT_EQ(jobs.LiveJobs().size(), 1u);
  EXPECT_EQ(jobs.LiveJobs()[0].id(), loaded[3].id());
  EXPECT_TRUE(absl::IsFailedPrecondition(jobs.Admit(RequestFor("live"), 0, 1, 5000).status()));
}

}  // namespace
}  // namespace mlpd
