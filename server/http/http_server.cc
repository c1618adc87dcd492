#include "server/http/http_server.h"

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "httplib.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "server/http/dashboard_assets.h"

namespace mlpd {
namespace {

// How long a dashboard read may take before it answers 504; the API answers these in
// milliseconds unless the server is overloaded.
constexpr auto kApiDeadline = std::chrono::seconds(5);
// Lists show at most this many rows (the gRPC page cap).
constexpr int kListPageSize = 1000;

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Walk the whole offered value whatever it holds, so timing says nothing about the token.
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i]) ^
                  static_cast<unsigned char>(b.empty() ? 0 : b[i % b.size()]);
  }
  return difference == 0;
}

// HttpStatusOf maps a gRPC code to the HTTP status a browser or curl understands.
int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

void SendJson(const google::protobuf::Message& message, httplib::Response& response) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;     // The .proto's names, as the docs spell them.
  options.always_print_primitive_fields = true;  // A step count of 0 is shown, not left out.
  google::protobuf::util::MessageToJsonString(message, &json, options);
  response.set_content(json, "application/json");
}

void SendError(const grpc::Status& status, httplib::Response& response) {
  response.status = HttpStatusOf(status.error_code());
  google::protobuf::Struct body;
  (*body.mutable_fields())["error"].set_string_value(status.error_message());
  SendJson(body, response);
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(absl::string_view listen) {
  const auto invalid = [listen](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen is \"", listen, "\": ", why, " (expected HOST:PORT)"));
  };
  const size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return invalid("no port");
  absl::string_view host = listen.substr(0, colon);
  int port = -1;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return invalid("the port is not a number from 0 to 65535");
  }
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) {
    return invalid("an IPv6 host opens [ without closing it");
  }
  if (host.empty()) return invalid("no host (use 0.0.0.0 to listen everywhere)");
  return std::make_pair(std::string(host), port);
}

bool BearerOrBasicTokenMatches(absl::string_view authorization, absl::string_view token) {
  authorization = absl::StripAsciiWhitespace(authorization);
  const size_t space = authorization.find(' ');
  if (space == absl::string_view::npos || token.empty()) return false;
  const std::string scheme = absl::AsciiStrToLower(authorization.substr(0, space));
  const absl::string_view credentials =
      absl::StripLeadingAsciiWhitespace(authorization.substr(space));
  if (scheme == "bearer") return ConstantTimeEquals(credentials, token);
  if (scheme != "basic") return false;
  std::string decoded;
  if (!absl::Base64Unescape(credentials, &decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  return ConstantTimeEquals(absl::string_view(decoded).substr(colon + 1), token);
}

HttpServer::HttpServer(HttpServerOptions options, std::function<std::string()> metrics_text,
                       std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      metrics_text_(std::move(metrics_text)),
      channel_(std::move(channel)),
      server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Start() {
  absl::StatusOr<std::pair<std::string, int>> address = ParseHostPort(options_.listen);
  if (!address.ok()) return address.status();
  Route();
  // Few threads: scrapes and a few browser tabs, never enough work to crowd the compute cores.
  server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
  // SO_REUSEADDR alone (a restart may bind at once), not the library's SO_REUSEPORT, with which
  // a second server would silently share the port and split the scrapes.
  server_->set_socket_options([](int socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->set_keep_alive_timeout(5);
  server_->set_read_timeout(std::chrono::seconds(10));
  int port = address->second;
  if (port == 0) {
    port = server_->bind_to_any_port(address->first);
  } else if (!server_->bind_to_port(address->first, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--http-listen ", options_.listen, ": cannot bind (in use, or not an address here)"));
  }
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  // httplib's stop() does nothing until the listening loop has begun; waiting for it here lets
  // a Stop() right after Start() end the loop rather than leave it blocked in accept().
  while (!server_->is_running() && !listen_returned_) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return port;
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

void HttpServer::Route() {
  server_->set_pre_routing_handler([this](const httplib::Request& request,
                                          httplib::Response& response) {
    if (options_.token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (options_.metrics_without_token && request.path == "/metrics") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (BearerOrBasicTokenMatches(request.get_header_value("Authorization"), options_.token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    // Basic lets a browser prompt for the token (as the password) and resend it on every fetch.
    response.status = 401;
    response.set_header("WWW-Authenticate", "Basic realm=\"mlpd\", charset=\"UTF-8\"");
    response.set_content("mlpd: this port needs the token of --auth-token-file\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });

  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics_text_(), "text/plain; version=0.0.4; charset=utf-8");
  });

  server_->Get(R"(/|/assets/[a-z.]+)",
               [](const httplib::Request& request, httplib::Response& response) {
                 const DashboardAsset* asset = FindDashboardAsset(request.path);
                 if (asset == nullptr) {
                   response.status = 404;
                   return;
                 }
                 response.set_content(asset->body.data(), asset->body.size(),
                                      std::string(asset->content_type).c_str());
               });

  // Each API path calls one mlpd.v1.Mlpd method, found by name in the compiled-in API, with a
  // request made of the query's parameters; a method this build lacks answers 501.
  struct ApiPath {
    const char* path;
    const char* method;
    // Request field <- query parameter ("" keeps the field's default) or fixed value.
    std::vector<std::pair<std::string, std::string>> from_query;
    std::vector<std::pair<std::string, std::string>> fixed;
  };
  const std::string page_size = std::to_string(kListPageSize);
  const std::vector<ApiPath> paths = {
      {"/api/sessions", "ListSessions", {{"page_token", "page_token"}}, {{"page_size", page_size}}},
      {"/api/session", "GetSession", {{"name", "name"}}, {}},
      {"/api/datasets", "ListDatasets", {{"page_token", "page_token"}}, {{"page_size", page_size}}},
      {"/api/jobs",
       "ListJobs",
       {{"page_token", "page_token"}, {"session", "session"}},
       {{"page_size", page_size}}},
      {"/api/history", "GetHistory", {{"name", "session"}}, {{"max_points", "2000"}}},
  };
  for (const ApiPath& api : paths) {
    server_->Get(api.path, [this, api](const httplib::Request& request,
                                       httplib::Response& response) {
      google::protobuf::Struct fields;
      for (const auto& [field, parameter] : api.from_query) {
        if (request.has_param(parameter)) {
          (*fields.mutable_fields())[field].set_string_value(request.get_param_value(parameter));
        }
      }
      for (const auto& [field, value] : api.fixed) {
        (*fields.mutable_fields())[field].set_string_value(value);
      }
      CallApi(api.method, fields, response);
    });
  }
}

void HttpServer::CallApi(const std::string& method_name, const google::protobuf::Struct& fields,
                         httplib::Response& response) const {
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrCat(v1::Mlpd::service_full_name(), ".", method_name));
  if (method == nullptr) {
    SendError(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                           absl::StrCat("this mlpd has no ", method_name, " method")),
              response);
    return;
  }
  // The request: the fields as proto3 JSON (numbers may be strings there) into the real type.
  google::protobuf::MessageFactory* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<google::protobuf::Message> call_request(
      factory->GetPrototype(method->input_type())->New());
  std::string request_json;
  google::protobuf::util::MessageToJsonString(fields, &request_json);
  if (const auto parsed =
          google::protobuf::util::JsonStringToMessage(request_json, call_request.get());
      !parsed.ok()) {
    SendError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(parsed.message())),
              response);
    return;
  }
  grpc::ByteBuffer request_bytes;
  bool own_buffer = false;
  grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(
      *call_request, &request_bytes, &own_buffer);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kApiDeadline);
  if (!options_.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
  grpc::GenericStub stub(channel_);
  grpc::ByteBuffer answer_bytes;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, absl::StrCat("/", v1::Mlpd::service_full_name(), "/", method_name),
                 grpc::StubOptions(), &request_bytes, &answer_bytes,
                 [&status, &done](grpc::Status call_status) {
                   status = std::move(call_status);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) {
    SendError(status, response);
    return;
  }
  std::unique_ptr<google::protobuf::Message> answer(
      factory->GetPrototype(method->output_type())->New());
  if (!grpc::GenericDeserialize<grpc::ProtoBufferReader, google::protobuf::Message>(&answer_bytes,
                                                                                    answer.get())
           .ok()) {
    SendError(grpc::Status(grpc::StatusCode::INTERNAL, "the answer did not parse"), response);
    return;
  }
  SendJson(*answer, response);
}

}  // namespace mlpd
