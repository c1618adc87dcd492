// Internal to the client library: what every call of client.cc and client_jobs.cc shares, the
// cancellation scope and the two call shapes (Unary, ReadTrainStream) as member templates.
#ifndef MLPD_CLIENT_CLIENT_CALL_H_
#define MLPD_CLIENT_CLIENT_CALL_H_

#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/grpc_status.h"

namespace mlpd {
namespace client_internal {

// CallScope ties a call's context to its Cancellation for the duration of the call.
class CallScope {
 public:
  CallScope(Cancellation* cancellation, grpc::ClientContext* context)
      : cancellation_(cancellation),
        cancelled_(cancellation != nullptr && !cancellation->Attach(context)) {}
  ~CallScope() {
    if (cancellation_ != nullptr && !cancelled_) cancellation_->Detach();
  }
  // cancelled_before_start: the call must not start at all.
  bool cancelled_before_start() const { return cancelled_; }

 private:
  Cancellation* const cancellation_;
  const bool cancelled_;
};

inline absl::Status CancelledBeforeStart() {
  return absl::CancelledError("the call was cancelled before it started");
}

}  // namespace client_internal

template <typename Stub, typename Request, typename Response>
absl::Status Client::Unary(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                        Response*),
                           const std::string& session, const Request& request, Response* response,
                           const CallOptions& call) {
  grpc::ClientContext context;
  PrepareContext(call, session, &context);
  client_internal::CallScope scope(call.cancellation, &context);
  if (scope.cancelled_before_start()) return client_internal::CancelledBeforeStart();
  Stub* stub = nullptr;
  if constexpr (std::is_same_v<Stub, grpc::health::v1::Health::Stub>) {
    stub = health_stub_.get();
  } else {
    stub = stub_.get();
  }
  return ToAbslStatus((stub->*method)(&context, request, response));
}

template <typename Start>
absl::StatusOr<v1::TrainSummary> Client::ReadTrainStream(const Start& start,
                                                         const std::string& session,
                                                         const TrainEvents& events,
                                                         const CallOptions& call,
                                                         const char* what) {
  grpc::ClientContext context;
  PrepareContext(call, session, &context, /*default_deadline=*/false);
  client_internal::CallScope scope(call.cancellation, &context);
  if (scope.cancelled_before_start()) return client_internal::CancelledBeforeStart();
  std::unique_ptr<grpc::ClientReader<v1::TrainResponse>> reader = start(&context);
  if (events.on_job_id) {
    // The server sends its initial metadata as the run starts, before any progress.
    reader->WaitForInitialMetadata();
    const auto& metadata = context.GetServerInitialMetadata();
    if (auto id = metadata.find(kJobIdHeader); id != metadata.end()) {
      events.on_job_id(std::string(id->second.data(), id->second.size()));
    }
  }
  v1::TrainResponse event;
  v1::TrainSummary summary;
  bool has_summary = false;
  while (reader->Read(&event)) {
    if (event.has_progress()) {
      if (events.on_progress) events.on_progress(event.progress());
    } else if (event.has_job()) {
      if (events.on_job) events.on_job(event.job());
    } else if (event.has_summary()) {
      summary = event.summary();
      has_summary = true;
    }
  }
  absl::Status status = ToAbslStatus(reader->Finish());
  if (!status.ok()) return status;
  if (!has_summary) {
    return absl::InternalError(absl::StrCat("the ", what, " stream ended without a summary"));
  }
  return summary;
}

}  // namespace mlpd

#endif  // MLPD_CLIENT_CLIENT_CALL_H_
