// The client library's training calls: Train, training jobs and a session's learning curve.
#include <algorithm>
#include <iterator>
#include <utility>

#include "client/client.h"
#include "client/client_call.h"

namespace mlpd {

absl::StatusOr<v1::TrainSummary> Client::Train(const v1::TrainRequest& request,
                                               const TrainProgressCallback& on_progress,
                                               const CallOptions& call) {
  TrainEvents events;
  events.on_progress = on_progress;
  return Train(request, events, call);
}

absl::StatusOr<v1::TrainSummary> Client::Train(const v1::TrainRequest& request,
                                               const TrainEvents& events, const CallOptions& call) {
  return ReadTrainStream(
      [&](grpc::ClientContext* context) { return stub_->Train(context, request); }, request.name(),
      events, call, "Train");
}

absl::StatusOr<v1::Job> Client::StartTraining(const v1::TrainRequest& request,
                                              const CallOptions& call) {
  v1::Job job;
  absl::Status status = Unary(&v1::Mlpd::Stub::StartTraining, request.name(), request, &job, call);
  if (!status.ok()) return status;
  return job;
}

absl::StatusOr<v1::Job> Client::GetJob(const std::string& id, const CallOptions& call) {
  v1::GetJobRequest request;
  request.set_id(id);
  v1::Job job;
  absl::Status status = Unary(&v1::Mlpd::Stub::GetJob, std::string(), request, &job, call);
  if (!status.ok()) return status;
  return job;
}

absl::StatusOr<v1::ListJobsResponse> Client::ListJobsPage(const JobFilter& filter,
                                                          int32_t page_size,
                                                          const std::string& page_token,
                                                          const CallOptions& call) {
  v1::ListJobsRequest request;
  request.set_page_size(page_size);
  request.set_page_token(page_token);
  request.set_session(filter.session);
  request.set_state(filter.state);
  v1::ListJobsResponse response;
  absl::Status status = Unary(&v1::Mlpd::Stub::ListJobs, filter.session, request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<std::vector<v1::Job>> Client::ListJobs(const JobFilter& filter, int64_t limit,
                                                      const CallOptions& call) {
  // The server caps a page at 1000 jobs.
  constexpr int64_t kLargestPage = 1000;
  std::vector<v1::Job> jobs;
  std::string page_token;
  do {
    const int64_t wanted = limit > 0 ? limit - static_cast<int64_t>(jobs.size()) : kLargestPage;
    absl::StatusOr<v1::ListJobsResponse> page = ListJobsPage(
        filter, static_cast<int32_t>(std::min(wanted, kLargestPage)), page_token, call);
    if (!page.ok()) return page.status();
    for (v1::Job& job : *page->mutable_jobs()) {
      if (limit > 0 && static_cast<int64_t>(jobs.size()) == limit) break;
      jobs.push_back(std::move(job));
    }
    page_token = page->next_page_token();
  } while (!page_token.empty() && (limit <= 0 || static_cast<int64_t>(jobs.size()) < limit));
  return jobs;
}

absl::StatusOr<v1::Job> Client::CancelJob(const std::string& id, const CallOptions& call) {
  v1::CancelJobRequest request;
  request.set_id(id);
  v1::Job job;
  absl::Status status = Unary(&v1::Mlpd::Stub::CancelJob, std::string(), request, &job, call);
  if (!status.ok()) return status;
  return job;
}

absl::StatusOr<v1::TrainSummary> Client::WatchJob(const std::string& id, const TrainEvents& events,
                                                  const CallOptions& call) {
  v1::WatchJobRequest request;
  request.set_id(id);
  return ReadTrainStream(
      [&](grpc::ClientContext* context) { return stub_->WatchJob(context, request); },
      std::string(), events, call, "WatchJob");
}

absl::StatusOr<std::vector<v1::HistoryPoint>> Client::GetHistory(const std::string& name,
                                                                 int64_t from_step,
                                                                 int32_t max_points,
                                                                 const CallOptions& call) {
  v1::GetHistoryRequest request;
  request.set_name(name);
  request.set_from_step(from_step);
  request.set_max_points(max_points);
  v1::GetHistoryResponse response;
  absl::Status status = Unary(&v1::Mlpd::Stub::GetHistory, name, request, &response, call);
  if (!status.ok()) return status;
  return std::vector<v1::HistoryPoint>(std::make_move_iterator(response.mutable_points()->begin()),
                                       std::make_move_iterator(response.mutable_points()->end()));
}

}  // namespace mlpd
