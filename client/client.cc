#include "client/client.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/batch_proto.h"
#include "client/client_call.h"
#include "client/grpc_status.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"

namespace mlpd {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

const char* HealthStatusName(HealthStatus status) {
  // The generated name of a value the enum lacks is empty; HealthStatus has none of those.
  return HealthCheckResponse::ServingStatus_Name(
             static_cast<HealthCheckResponse::ServingStatus>(status))
      .c_str();
}

void Cancellation::Cancel() {
  absl::MutexLock lock(&mutex_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool Cancellation::cancelled() const {
  absl::MutexLock lock(&mutex_);
  return cancelled_;
}

bool Cancellation::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mutex_);
  if (cancelled_) return false;
  context_ = context;
  return true;
}

void Cancellation::Detach() {
  absl::MutexLock lock(&mutex_);
  context_ = nullptr;
}

namespace {

// DatasetRoute is the routing header of a call naming a dataset: the session given, else the
// dataset's own name, so that every call naming it reaches the same server.
const std::string& DatasetRoute(const std::string& dataset, const CallOptions& call) {
  return call.routing_session.empty() ? dataset : call.routing_session;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options.security);
  if (!credentials.ok()) return credentials.status();
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_message_bytes is ", options.max_message_bytes, ", expected > 0"));
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_message_bytes);
  arguments.SetMaxSendMessageSize(options.max_message_bytes);
  if (!options.security.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.security.tls_server_name);
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.target, *credentials, arguments);
  return std::make_unique<Client>(std::move(channel), options);
}

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::Mlpd::NewStub(channel_)),
      health_stub_(grpc::health::v1::Health::NewStub(channel_)) {}

void Client::PrepareContext(const CallOptions& call, const std::string& session,
                            grpc::ClientContext* context, bool default_deadline) const {
  absl::Duration timeout = call.timeout;
  if (timeout == absl::ZeroDuration() && default_deadline) timeout = options_.timeout;
  if (timeout != absl::ZeroDuration() && timeout != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
  const std::string& routing = session.empty() ? call.routing_session : session;
  if (!routing.empty()) context->AddMetadata(kSessionHeader, routing);
}

absl::StatusOr<v1::SessionInfo> Client::CreateSession(const std::string& name,
                                                      const v1::ModelSpec& spec,
                                                      const CallOptions& call) {
  v1::CreateSessionRequest request;
  request.set_name(name);
  *request.mutable_spec() = spec;
  v1::SessionInfo response;
  absl::Status status = Unary(&v1::Mlpd::Stub::CreateSession, name, request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::SessionInfo> Client::GetSession(const std::string& name,
                                                   const CallOptions& call) {
  v1::GetSessionRequest request;
  request.set_name(name);
  v1::SessionInfo response;
  absl::Status status = Unary(&v1::Mlpd::Stub::GetSession, name, request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<std::vector<v1::SessionInfo>> Client::ListSessions(const CallOptions& call) {
  std::vector<v1::SessionInfo> sessions;
  v1::ListSessionsRequest request;
  request.set_page_size(1000);
  do {
    v1::ListSessionsResponse response;
    absl::Status status =
        Unary(&v1::Mlpd::Stub::ListSessions, std::string(), request, &response, call);
    if (!status.ok()) return status;
    for (v1::SessionInfo& info : *response.mutable_sessions()) sessions.push_back(std::move(info));
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return sessions;
}

absl::Status Client::DeleteSession(const std::string& name, const CallOptions& call) {
  v1::DeleteSessionRequest request;
  request.set_name(name);
  v1::DeleteSessionResponse response;
  absl::Status status = Unary(&v1::Mlpd::Stub::DeleteSession, name, request, &response, call);
  return status;
}

absl::StatusOr<int64_t> Client::SaveSession(const std::string& name, const CallOptions& call) {
  v1::SaveSessionRequest request;
  request.set_name(name);
  v1::SaveSessionResponse response;
  absl::Status status = Unary(&v1::Mlpd::Stub::SaveSession, name, request, &response, call);
  if (!status.ok()) return status;
  return response.step_count();
}

absl::StatusOr<v1::TrainStepResponse> Client::TrainStep(const std::string& name,
                                                        const v1::Batch& batch,
                                                        const CallOptions& call,
                                                        std::optional<int64_t> expected_step) {
  v1::TrainStepRequest request;
  request.set_name(name);
  *request.mutable_batch() = batch;
  if (expected_step.has_value()) request.set_expected_step(*expected_step);
  v1::TrainStepResponse response;
  absl::Status status = Unary(&v1::Mlpd::Stub::TrainStep, name, request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::PredictResponse> Client::Predict(const std::string& name, const v1::Tensor& x,
                                                    const CallOptions& call) {
  v1::PredictRequest request;
  request.set_name(name);
  *request.mutable_x() = x;
  v1::PredictResponse response;
  absl::Status status = Unary(&v1::Mlpd::Stub::Predict, name, request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::PredictResponse> Client::PredictRows(const std::string& name, MatrixView x,
                                                        const CallOptions& call) {
  const int64_t row_bytes = static_cast<int64_t>(sizeof(float)) * std::max<int64_t>(x.cols, 1);
  const int64_t rows_per_chunk = std::max<int64_t>(1, options_.upload_chunk_bytes / row_bytes);
  v1::PredictResponse all;
  v1::Tensor chunk;
  int64_t begin = 0;
  do {
    const int64_t end = std::min(x.rows, begin + rows_per_chunk);
    MatrixRowsToTensor(x, begin, end, &chunk);
    absl::StatusOr<v1::PredictResponse> part = Predict(name, chunk, call);
    if (!part.ok()) return part.status();
    if (begin == 0) {
      all = *std::move(part);
    } else {
      all.mutable_outputs()->mutable_data()->MergeFrom(part->outputs().data());
      all.mutable_outputs()->set_shape(0, all.outputs().shape(0) + part->outputs().shape(0));
      all.mutable_classes()->MergeFrom(part->classes());
    }
    begin = end;
  } while (begin < x.rows);
  return all;
}

absl::StatusOr<v1::EvalResult> Client::Evaluate(const std::string& name, const std::string& dataset,
                                                const CallOptions& call) {
  v1::EvaluateRequest request;
  request.set_name(name);
  request.set_dataset(dataset);
  v1::EvalResult response;
  absl::Status status = Unary(&v1::Mlpd::Stub::Evaluate, name, request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::EvalResult> Client::EvaluateBatch(const std::string& name,
                                                     const v1::Batch& batch,
                                                     const CallOptions& call) {
  v1::EvaluateRequest request;
  request.set_name(name);
  *request.mutable_batch() = batch;
  v1::EvalResult response;
  absl::Status status = Unary(&v1::Mlpd::Stub::Evaluate, name, request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::DatasetInfo> Client::UploadDataset(const std::string& name,
                                                      const Dataset& dataset,
                                                      const CallOptions& call) {
  grpc::ClientContext context;
  PrepareContext(call, DatasetRoute(name, call), &context);
  client_internal::CallScope scope(call.cancellation, &context);
  if (scope.cancelled_before_start()) return client_internal::CancelledBeforeStart();
  v1::DatasetInfo info;
  std::unique_ptr<grpc::ClientWriter<v1::UploadDatasetRequest>> writer =
      stub_->UploadDataset(&context, &info);
  const int64_t rows_per_chunk = RowsPerChunk(dataset, options_.upload_chunk_bytes);
  v1::UploadDatasetRequest chunk;
  int64_t begin = 0;
  // An empty dataset still sends one chunk so the server names the problem.
  do {
    const int64_t end = std::min(dataset.rows(), begin + rows_per_chunk);
    chunk.Clear();
    if (begin == 0) {
      chunk.set_name(name);
      chunk.set_total_rows(dataset.rows());
    }
    DatasetRowsToBatch(dataset, begin, end, chunk.mutable_rows());
    // A failed write means the server ended the stream; Finish() carries its reason.
    if (!writer->Write(chunk)) break;
    begin = end;
  } while (begin < dataset.rows());
  writer->WritesDone();
  absl::Status status = ToAbslStatus(writer->Finish());
  if (!status.ok()) return status;
  return info;
}

absl::StatusOr<v1::DatasetInfo> Client::GetDataset(const std::string& name,
                                                   const CallOptions& call) {
  v1::GetDatasetRequest request;
  request.set_name(name);
  v1::DatasetInfo response;
  absl::Status status =
      Unary(&v1::Mlpd::Stub::GetDataset, DatasetRoute(name, call), request, &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<std::vector<v1::DatasetInfo>> Client::ListDatasets(const CallOptions& call) {
  std::vector<v1::DatasetInfo> datasets;
  v1::ListDatasetsRequest request;
  request.set_page_size(1000);
  do {
    v1::ListDatasetsResponse response;
    absl::Status status =
        Unary(&v1::Mlpd::Stub::ListDatasets, std::string(), request, &response, call);
    if (!status.ok()) return status;
    for (v1::DatasetInfo& info : *response.mutable_datasets()) datasets.push_back(std::move(info));
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return datasets;
}

absl::Status Client::DeleteDataset(const std::string& name, const CallOptions& call) {
  v1::DeleteDatasetRequest request;
  request.set_name(name);
  v1::DeleteDatasetResponse response;
  absl::Status status =
      Unary(&v1::Mlpd::Stub::DeleteDataset, DatasetRoute(name, call), request, &response, call);
  return status;
}

absl::StatusOr<std::string> Client::ExportSession(const std::string& name, v1::ExportFormat format,
                                                  const CallOptions& call) {
  grpc::ClientContext context;
  PrepareContext(call, name, &context);
  client_internal::CallScope scope(call.cancellation, &context);
  if (scope.cancelled_before_start()) return client_internal::CancelledBeforeStart();
  v1::ExportSessionRequest request;
  request.set_name(name);
  request.set_format(format);
  std::unique_ptr<grpc::ClientReader<v1::ExportSessionResponse>> reader =
      stub_->ExportSession(&context, request);
  v1::ExportSessionResponse chunk;
  std::string data;
  int64_t chunks = 0, total_bytes = 0;
  while (reader->Read(&chunk)) {
    if (chunks++ == 0) total_bytes = chunk.total_bytes();
    data.append(chunk.data());
  }
  absl::Status status = ToAbslStatus(reader->Finish());
  if (!status.ok()) return status;
  if (static_cast<int64_t>(data.size()) != total_bytes) {
    return absl::InternalError(
        absl::StrFormat("the export stream ended after %d bytes in %d chunks; it announced %d",
                        data.size(), chunks, total_bytes));
  }
  return data;
}

absl::StatusOr<v1::SessionInfo> Client::ImportSession(const std::string& name,
                                                      v1::ExportFormat format,
                                                      const std::string& data,
                                                      const CallOptions& call) {
  grpc::ClientContext context;
  PrepareContext(call, name, &context);
  client_internal::CallScope scope(call.cancellation, &context);
  if (scope.cancelled_before_start()) return client_internal::CancelledBeforeStart();
  v1::SessionInfo info;
  std::unique_ptr<grpc::ClientWriter<v1::ImportSessionRequest>> writer =
      stub_->ImportSession(&context, &info);
  const size_t chunk_bytes = static_cast<size_t>(std::max<int64_t>(1, options_.upload_chunk_bytes));
  v1::ImportSessionRequest chunk;
  size_t offset = 0;
  // Empty data still sends one chunk so the server names the problem.
  do {
    chunk.Clear();
    if (offset == 0) {
      chunk.set_name(name);
      chunk.set_format(format);
      chunk.set_total_bytes(static_cast<int64_t>(data.size()));
    }
    const size_t length = std::min(chunk_bytes, data.size() - offset);
    chunk.mutable_data()->assign(data, offset, length);
    // A failed write means the server ended the stream; Finish() carries its reason.
    if (!writer->Write(chunk)) break;
    offset += length;
  } while (offset < data.size());
  writer->WritesDone();
  absl::Status status = ToAbslStatus(writer->Finish());
  if (!status.ok()) return status;
  return info;
}

absl::StatusOr<v1::ServerInfo> Client::GetServerInfo(const CallOptions& call) {
  v1::ServerInfo response;
  absl::Status status = Unary(&v1::Mlpd::Stub::GetServerInfo, std::string(),
                              v1::GetServerInfoRequest(), &response, call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<HealthStatus> Client::Health(const std::string& service, const CallOptions& call) {
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  absl::Status status =
      Unary(&grpc::health::v1::Health::Stub::Check, std::string(), request, &response, call);
  if (!status.ok()) return status;
  // An open enum: a newer server may send a value this client does not know.
  if (!HealthCheckResponse::ServingStatus_IsValid(response.status())) {
    return absl::InternalError(
        absl::StrCat("health status is ", response.status(), ", expected 0..3"));
  }
  return static_cast<HealthStatus>(response.status());
}

}  // namespace mlpd
