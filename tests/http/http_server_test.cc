// Tests of the HTTP port: /metrics, the embedded dashboard files, the JSON endpoints read
// through a real gRPC server, and the token check.
#include "server/http/http_server.h"

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "server/security.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

TEST(ParseHostPortTest, ReadsHostAndPort) {
  EXPECT_EQ(*ParseHostPort("127.0.0.1:9464"), std::make_pair(std::string("127.0.0.1"), 9464));
  EXPECT_EQ(*ParseHostPort("[::1]:0"), std::make_pair(std::string("::1"), 0));
  EXPECT_EQ(*ParseHostPort("0.0.0.0:80"), std::make_pair(std::string("0.0.0.0"), 80));
}

TEST(ParseHostPortTest, RefusesWhatIsNotHostColonPort) {
  for (const char* bad : {"9464", ":9464", "localhost:", "localhost:http", "h:70000", "[::1:5"}) {
    absl::StatusOr<std::pair<std::string, int>> parsed = ParseHostPort(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("--http-listen"));
  }
}

TEST(TokenTest, AcceptsBearerOrBasicPasswordInAnyCase) {
  const std::string basic = absl::StrCat("Basic ", absl::Base64Escape("anyone:s3cret"));
  EXPECT_TRUE(BearerOrBasicTokenMatches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(BearerOrBasicTokenMatches("bearer s3cret", "s3cret"));
  EXPECT_TRUE(BearerOrBasicTokenMatches(basic, "s3cret"));
  EXPECT_FALSE(BearerOrBasicTokenMatches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(BearerOrBasicTokenMatches("Bearer s3cretx", "s3cret"));
  EXPECT_FALSE(BearerOrBasicTokenMatches("s3cret", "s3cret"));
  EXPECT_FALSE(BearerOrBasicTokenMatches("Token s3cret", "s3cret"));
  EXPECT_FALSE(BearerOrBasicTokenMatches("Basic !!!", "s3cret"));
  EXPECT_FALSE(
      BearerOrBasicTokenMatches(absl::StrCat("Basic ", absl::Base64Escape("s3cret")), "s3cret"));
  EXPECT_FALSE(BearerOrBasicTokenMatches("Bearer ", ""));
}

// FakeService lists two sessions and one dataset, after the token check when it has one.
class FakeService final : public v1::Mlpd::Service {
 public:
  explicit FakeService(const TokenAuthenticator* authenticator) : authenticator_(authenticator) {}

  grpc::Status ListSessions(grpc::ServerContext* context, const v1::ListSessionsRequest*,
                            v1::ListSessionsResponse* response) override {
    if (grpc::Status allowed = Check(*context); !allowed.ok()) return allowed;
    v1::SessionInfo* a = response->add_sessions();
    a->set_name("alpha");
    a->set_step_count(42);
    a->mutable_spec()->set_input_size(784);
    response->add_sessions()->set_name("beta \"quoted\"");
    return grpc::Status::OK;
  }
  grpc::Status GetSession(grpc::ServerContext* context, const v1::GetSessionRequest* request,
                          v1::SessionInfo* response) override {
    if (grpc::Status allowed = Check(*context); !allowed.ok()) return allowed;
    if (request->name() != "alpha") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no session named " + request->name());
    }
    response->set_name("alpha");
    return grpc::Status::OK;
  }
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest*,
                            v1::ListDatasetsResponse* response) override {
    if (grpc::Status allowed = Check(*context); !allowed.ok()) return allowed;
    v1::DatasetInfo* dataset = response->add_datasets();
    dataset->set_name("mnist");
    dataset->set_rows(60000);
    return grpc::Status::OK;
  }

 private:
  grpc::Status Check(const grpc::ServerContext& context) {
    if (authenticator_ == nullptr) return grpc::Status::OK;
    absl::Status allowed = authenticator_->Check(context);
    return allowed.ok()
               ? grpc::Status::OK
               : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(allowed.message()));
  }
  const TokenAuthenticator* authenticator_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServers(HttpServerOptions options) {
    if (!options.token.empty())
      authenticator_ = std::make_unique<TokenAuthenticator>(options.token);
    service_ = std::make_unique<FakeService>(authenticator_.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    grpc_server_ = builder.BuildAndStart();
    ASSERT_NE(grpc_server_, nullptr);
    options.listen = "127.0.0.1:0";
    http_ = std::make_unique<HttpServer>(
        options, [] { return std::string("# TYPE up gauge\nup 1\n"); },
        grpc_server_->InProcessChannel(grpc::ChannelArguments()));
    absl::StatusOr<int> port = http_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    http_port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  }
  void TearDown() override {
    if (http_ != nullptr) http_->Stop();
    if (grpc_server_ != nullptr) grpc_server_->Shutdown();
  }

  httplib::Result Get(const std::string& path, const std::string& authorization = "") {
    httplib::Headers headers;
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    return client_->Get(path, headers);
  }

  std::unique_ptr<TokenAuthenticator> authenticator_;
  std::unique_ptr<FakeService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<httplib::Client> client_;
  int http_port_ = 0;
};

TEST_F(HttpServerTest, ServesTheExpositionWithThePrometheusContentType) {
  StartServers({});
  httplib::Result result = Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "# TYPE up gauge\nup 1\n");
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(HttpServerTest, ServesTheEmbeddedPageAndChartLibrary) {
  StartServers({});
  httplib::Result page = Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page->body, HasSubstr("<script src=\"/assets/chart.min.js\"></script>"));
  httplib::Result chart = Get("/assets/chart.min.js");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200);
  EXPECT_THAT(chart->body, HasSubstr("Chart.js v3.9.1"));
  EXPECT_EQ(chart->body.size(), 199560u);  // Debian's chart.min.js, whole.
  httplib::Result script = Get("/assets/dashboard.js");
  ASSERT_TRUE(script);
  EXPECT_THAT(script->body, HasSubstr("new Chart("));
  httplib::Result missing = Get("/assets/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpServerTest, JsonEndpointsAnswerWhatTheApiAnswers) {
  StartServers({});
  httplib::Result sessions = Get("/api/sessions");
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->status, 200) << sessions->body;
  EXPECT_EQ(sessions->get_header_value("Content-Type"), "application/json");
  nlohmann::json json = nlohmann::json::parse(sessions->body);
  ASSERT_EQ(json["sessions"].size(), 2u);
  EXPECT_EQ(json["sessions"][0]["name"], "alpha");
  EXPECT_EQ(json["sessions"][0]["step_count"], "42");  // proto3 JSON spells int64 as a string.
  EXPECT_EQ(json["sessions"][0]["spec"]["input_size"], "784");
  EXPECT_EQ(json["sessions"][1]["name"], "beta \"quoted\"");

  httplib::Result datasets = Get("/api/datasets");
  ASSERT_TRUE(datasets);
  EXPECT_EQ(nlohmann::json::parse(datasets->body)["datasets"][0]["rows"], "60000");

  httplib::Result one = Get("/api/session?name=alpha");
  ASSERT_TRUE(one);
  EXPECT_EQ(nlohmann::json::parse(one->body)["name"], "alpha");
  httplib::Result missing = Get("/api/session?name=gamma%20ray");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"], "no session named gamma ray");
}

TEST_F(HttpServerTest, MethodsTheServerLacksAnswer501) {
  // The fake implements neither method; an API without them is answered the same way.
  StartServers({});
  for (const char* path : {"/api/history?session=alpha", "/api/jobs"}) {
    httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 501) << path << ": " << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json") << path;
    EXPECT_TRUE(nlohmann::json::parse(result->body).contains("error")) << result->body;
  }
}

TEST_F(HttpServerTest, WithATokenEveryPathAsksForIt) {
  HttpServerOptions options;
  options.token = "s3cret";
  StartServers(options);
  for (const char* path : {"/", "/metrics", "/api/sessions", "/assets/chart.min.js"}) {
    httplib::Result refused = Get(path);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << path;
    EXPECT_THAT(refused->get_header_value("WWW-Authenticate"), HasSubstr("Basic realm=\"mlpd\""));
    httplib::Result wrong = Get(path, "Bearer s3cre");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << path;
  }
  httplib::Result bearer = Get("/api/sessions", "Bearer s3cret");
  ASSERT_TRUE(bearer);
  // 200 also proves the dashboard passed the token on to the gRPC API, which checks it too.
  EXPECT_EQ(bearer->status, 200) << bearer->body;
  httplib::Result basic =
      Get("/", absl::StrCat("Basic ", absl::Base64Escape("browser-user:s3cret")));
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 200);
}

TEST_F(HttpServerTest, MetricsCanStayOpenForScrapersWithoutTokens) {
  HttpServerOptions options;
  options.token = "s3cret";
  options.metrics_without_token = true;
  StartServers(options);
  httplib::Result metrics = Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  httplib::Result page = Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 401);
}

TEST_F(HttpServerTest, AnAddressInUseIsRefusedNamingTheFlag) {
  StartServers({});
  HttpServerOptions options;
  options.listen = absl::StrCat("127.0.0.1:", http_port_);
  HttpServer second(
      options, [] { return std::string(); }, nullptr);
  absl::StatusOr<int> port = second.Start();
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(port.status().message()), HasSubstr("--http-listen"));
}

}  // namespace
}  // namespace mlpd
