#include "server/metrics_grpc.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"

namespace mlpd {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

// The series cap of the per-method families: ~25 methods of ours, the health and reflection
// services, and room for names nobody serves.
constexpr int kMaxMethodSeries = 200;
// handled_total has one series per method and code.
constexpr int kMaxHandledSeries = kMaxMethodSeries * 17;
// Past this many distinct methods, the lookup table stops growing and unknown names are counted
// as one method named kOverflowLabelValue.
constexpr size_t kMaxMethods = kMaxMethodSeries - 1;

absl::string_view TypeLabel(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

// SplitMethod turns "/pkg.Service/Method" into {"pkg.Service", "Method"}.
std::pair<std::string, std::string> SplitMethod(absl::string_view full_method) {
  absl::ConsumePrefix(&full_method, "/");
  const size_t slash = full_method.rfind('/');
  if (slash == absl::string_view::npos) return {"unknown", std::string(full_method)};
  return {std::string(full_method.substr(0, slash)), std::string(full_method.substr(slash + 1))};
}

// CallMetrics counts one call; gRPC creates it when the call starts and deletes it at its end.
class CallMetrics final : public grpc::experimental::Interceptor {
 public:
  explicit CallMetrics(GrpcServerMetrics::Method& method) : method_(method), start_(absl::Now()) {
    method_.started->Increment();
  }

  ~CallMetrics() override {
    // A call that ends without a status (cancelled before its handler answered) counts as
    // Canceled, as go-grpc-prometheus reports it.
    if (!handled_) Handled(grpc::StatusCode::CANCELLED);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {  // nullptr: the client closed its stream.
      method_.received->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      method_.sent->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && !handled_) {
      Handled(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Handled(grpc::StatusCode code) {
    handled_ = true;
    const int index = static_cast<int>(code);
    method_.handled[index >= 0 && index < 17 ? index : grpc::StatusCode::UNKNOWN]->Increment();
    method_.handling_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start_));
  }

  GrpcServerMetrics::Method& method_;
  const absl::Time start_;
  bool handled_ = false;  // Hooks of one call never run concurrently.
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(GrpcServerMetrics& metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new CallMetrics(metrics_.MethodSeries(info->method(), info->type()));
  }

 private:
  GrpcServerMetrics& metrics_;
};

}  // namespace

absl::string_view GrpcCodeName(grpc::StatusCode code) {
  static constexpr absl::string_view kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "Unknown";
}

const std::vector<double>& GrpcHandlingSecondsBounds() {
  static const std::vector<double> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                             0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                             5,      10,      30,     60,    300};
  return bounds;
}

GrpcServerMetrics::GrpcServerMetrics(MetricsRegistry& registry,
                                     const std::vector<std::string>& services)
    : started_(registry.AddCounter("grpc_server_started_total",
                                   "Total number of RPCs started on the server.",
                                   {"grpc_type", "grpc_service", "grpc_method"}, kMaxMethodSeries)),
      handled_(registry.AddCounter(
          "grpc_server_handled_total",
          "Total number of RPCs completed on the server, regardless of success or failure.",
          {"grpc_type", "grpc_service", "grpc_method", "grpc_code"}, kMaxHandledSeries)),
      handling_seconds_(registry.AddHistogram(
          "grpc_server_handling_seconds",
          "Histogram of response latency (seconds) of gRPC that had been application-level "
          "handled by the server.",
          {"grpc_type", "grpc_service", "grpc_method"}, GrpcHandlingSecondsBounds(),
          kMaxMethodSeries)),
      received_(registry.AddCounter("grpc_server_msg_received_total",
                                    "Total number of RPC stream messages received on the server.",
                                    {"grpc_type", "grpc_service", "grpc_method"},
                                    kMaxMethodSeries)),
      sent_(registry.AddCounter("grpc_server_msg_sent_total",
                                "Total number of gRPC stream messages sent by the server.",
                                {"grpc_type", "grpc_service", "grpc_method"}, kMaxMethodSeries)) {
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  absl::MutexLock lock(&mutex_);
  for (const std::string& service_name : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(service_name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      ServerRpcInfo::Type type = ServerRpcInfo::Type::UNARY;
      if (method->client_streaming() && method->server_streaming()) {
        type = ServerRpcInfo::Type::BIDI_STREAMING;
      } else if (method->client_streaming()) {
        type = ServerRpcInfo::Type::CLIENT_STREAMING;
      } else if (method->server_streaming()) {
        type = ServerRpcInfo::Type::SERVER_STREAMING;
      }
      Create(absl::StrCat("/", service_name, "/", method->name()), type);
    }
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcServerMetrics::NewInterceptorFactory() {
  return std::make_unique<Factory>(*this);
}

GrpcServerMetrics::Method& GrpcServerMetrics::MethodSeries(absl::string_view full_method,
                                                           ServerRpcInfo::Type type) {
  const std::string key = absl::StrCat(TypeLabel(type), full_method);
  {
    absl::ReaderMutexLock lock(&mutex_);
    auto found = methods_.find(key);
    if (found != methods_.end()) return *found->second;
  }
  absl::MutexLock lock(&mutex_);
  auto found = methods_.find(key);
  if (found != methods_.end()) return *found->second;
  if (methods_.size() >= kMaxMethods) {
    return Create(absl::StrCat("/", kOverflowLabelValue, "/", kOverflowLabelValue), type);
  }
  return Create(full_method, type);
}

GrpcServerMetrics::Method& GrpcServerMetrics::Create(absl::string_view full_method,
                                                     ServerRpcInfo::Type type) {
  const std::string key = absl::StrCat(TypeLabel(type), full_method);
  auto found = methods_.find(key);
  if (found != methods_.end()) return *found->second;
  const auto [service, method_name] = SplitMethod(full_method);
  const std::vector<std::string> labels = {std::string(TypeLabel(type)), service, method_name};
  auto method = std::make_unique<Method>();
  method->started = &started_.WithLabels(labels);
  method->received = &received_.WithLabels(labels);
  method->sent = &sent_.WithLabels(labels);
  method->handling_seconds = &handling_seconds_.WithLabels(labels);
  for (int code = 0; code < 17; ++code) {
    std::vector<std::string> with_code = labels;
    with_code.emplace_back(GrpcCodeName(static_cast<grpc::StatusCode>(code)));
    method->handled[code] = &handled_.WithLabels(with_code);
  }
  Method& created = *method;
  methods_.emplace(key, std::move(method));
  return created;
}

}  // namespace mlpd
