// http_server.h: mlpd's HTTP port: /metrics for Prometheus and a read-only dashboard (the page,
// its scripts, and JSON endpoints for what it shows), served by cpp-httplib.
//
// The dashboard reads through the gRPC API itself, over the server's in-process channel, so it
// sees exactly what mlpctl sees (same checks, same locks, same answers) and needs nothing from
// the service's insides. With a token, every path asks for it, as `Authorization: Bearer <t>`
// or as the password of HTTP Basic authentication (what a browser prompts for);
// `metrics_without_token` leaves /metrics open for scrapers that carry no token.
//
//   HttpServerOptions options;
//   options.listen = "127.0.0.1:9464";
//   HttpServer http(options, [&registry] { return registry.TextExposition(); },
//                   server->InProcessChannel(grpc::ChannelArguments()));
//   absl::StatusOr<int> port = http.Start();
//   ...
//   http.Stop();
//
// Paths: /metrics, / (the page), /assets/chart.min.js, /assets/dashboard.js,
// /api/sessions, /api/session?name=N, /api/datasets, /api/jobs, /api/history?session=N (each
// the answer of one mlpd.v1.Mlpd method in proto3 JSON with the .proto field names). Methods
// are called by name through the API compiled in, so the jobs and history paths answer 501
// in a build whose API has no ListJobs or GetHistory, and work as soon as it has them.
#ifndef MLPD_SERVER_HTTP_HTTP_SERVER_H_
#define MLPD_SERVER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"

namespace google::protobuf {
class Struct;
}
namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace mlpd {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9464";  // host:port, [v6]:port; port 0 picks a free one.
  std::string token;                      // Empty: no authentication.
  bool metrics_without_token = false;     // With a token: /metrics still open.
};

// ParseHostPort splits "host:port" or "[v6 host]:port"; INVALID_ARGUMENT naming --http-listen.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(absl::string_view listen);

// BearerOrBasicTokenMatches says whether an Authorization header value carries `token`, as
// "Bearer <token>" or as Basic credentials whose password is `token` (any user name). The
// scheme is case-insensitive; the comparison takes time independent of the token.
bool BearerOrBasicTokenMatches(absl::string_view authorization, absl::string_view token);

class HttpServer {
 public:
  // `metrics_text` returns the exposition at each scrape; `channel` reaches the mlpd.v1 API
  // (both may be called from several HTTP threads at once).
  HttpServer(HttpServerOptions options, std::function<std::string()> metrics_text,
             std::shared_ptr<grpc::Channel> channel);
  ~HttpServer();  // Stops.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Start binds and serves on its own threads; returns the bound port. FAILED_PRECONDITION
  // when the address is taken or cannot be bound.
  absl::StatusOr<int> Start();

  // Stop closes the port and waits for the threads; idempotent.
  void Stop();

 private:
  void Route();
  // CallApi calls mlpd.v1.Mlpd/`method` with a request holding `fields` (proto3 JSON names and
  // values) and answers with its response as JSON, or its error.
  void CallApi(const std::string& method, const google::protobuf::Struct& fields,
               httplib::Response& response) const;

  const HttpServerOptions options_;
  const std::function<std::string()> metrics_text_;
  const std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};  // Set by thread_ when the listening loop ends.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_HTTP_HTTP_SERVER_H_
