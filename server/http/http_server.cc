#include "server/http/http_server.h"

#include <sys/socket.h>

#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
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

// Reply sends the RPC's answer, or its error with the matching HTTP status.
void Reply(const grpc::Status& status, const google::protobuf::Message& answer,
           httplib::Response& response) {
  status.ok() ? SendJson(answer, response) : SendError(status, response);
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

  // Each API path calls one RPC with the token (when there is one) and prints its answer.
  const auto call = [this](auto rpc) {
    return [this, rpc](const httplib::Request& request, httplib::Response& response) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + kApiDeadline);
      if (!options_.token.empty()) {
        context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
      }
      v1::Mlpd::Stub stub(channel_);
      rpc(stub, context, request, response);
    };
  };
  server_->Get("/api/sessions",
               call([](v1::Mlpd::Stub& stub, grpc::ClientContext& context,
                       const httplib::Request& request, httplib::Response& response) {
                 v1::ListSessionsRequest list;
                 list.set_page_size(kListPageSize);
                 list.set_page_token(request.get_param_value("page_token"));
                 v1::ListSessionsResponse answer;
                 Reply(stub.ListSessions(&context, list, &answer), answer, response);
               }));
  server_->Get("/api/session",
               call([](v1::Mlpd::Stub& stub, grpc::ClientContext& context,
                       const httplib::Request& request, httplib::Response& response) {
                 v1::GetSessionRequest get;
                 get.set_name(request.get_param_value("name"));
                 v1::SessionInfo answer;
                 Reply(stub.GetSession(&context, get, &answer), answer, response);
               }));
  server_->Get("/api/datasets",
               call([](v1::Mlpd::Stub& stub, grpc::ClientContext& context,
                       const httplib::Request& request, httplib::Response& response) {
                 v1::ListDatasetsRequest list;
                 list.set_page_size(kListPageSize);
                 list.set_page_token(request.get_param_value("page_token"));
                 v1::ListDatasetsResponse answer;
                 Reply(stub.ListDatasets(&context, list, &answer), answer, response);
               }));
}

}  // namespace mlpd
