// The server's metrics as wired into a running Server: the HTTP port opens only when asked,
// /metrics counts the calls a client made (go-grpc-prometheus families) and what the service
// did with them (mlpd_* families), and bad HTTP or log flags stop the start.
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "server/options.h"
#include "server/server.h"
#include "tests/server/exposition_test_util.h"
#include "tests/server/service_test_util.h"

namespace mlpd::testing {
namespace {

namespace fs = std::filesystem;

// Scrape GETs /metrics from the server's HTTP port, failing the test unless it answers 200.
std::string Scrape(Server& server) {
  httplib::Client client("127.0.0.1", server.http_port());
  httplib::Result result = client.Get("/metrics");
  if (!result) {
    ADD_FAILURE() << "GET /metrics failed: " << httplib::to_string(result.error());
    return "";
  }
  EXPECT_EQ(result->status, 200) << result->body;
  return result->body;
}

TEST(ServerMetricsTest, ServersInTestsOpenNoHttpPortUnlessAsked) {
  TestServer server;
  EXPECT_EQ(server.server().http_port(), 0);
}

TEST(ServerMetricsTest, MetricsCountTheCallsAndTheWorkDone) {
  const std::string data_dir =
      absl::StrCat(::testing::TempDir(), "/mlpd-server-metrics-", ::getpid());
  fs::remove_all(data_dir);
  ServerOptions options;
  options.http_listen = "127.0.0.1:0";
  options.data_dir = data_dir;
  options.max_sessions = 7;
  options.checkpoint_interval_seconds = 0;
  {
    TestServer server(options);
    ASSERT_GT(server.server().http_port(), 0);
    v1::Mlpd::Stub& stub = server.stub();

    // Before any call: the methods start at zero, the limits are there.
    std::string text = Scrape(server.server());
    const std::string train_step =
        R"(grpc_type="unary",grpc_service="mlpd.v1.Mlpd",grpc_method="TrainStep")";
    EXPECT_EQ(ExposedValue(text, "grpc_server_started_total{" + train_step + "}"), 0);
    EXPECT_EQ(ExposedValue(text, "mlpd_sessions"), 0);
    EXPECT_EQ(ExposedValue(text, "mlpd_sessions_limit"), 7);
    EXPECT_EQ(ExposedValue(text, "mlpd_sessions_bytes_limit"), 4096.0 * (1 << 20));
    EXPECT_EQ(ExposedValue(text, "mlpd_executor_queue_limit"), 1024);
    EXPECT_GT(ExposedValue(text, "process_start_time_seconds"), 0);

    ASSERT_TRUE(Create(stub, "a", LinearSpec(2, 1)).ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Step(stub, "a", RegressionBatch(5, 2, 1, i)).ok());
    EXPECT_EQ(Step(stub, "a", RegressionBatch(5, 3, 1)).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(Step(stub, "missing", RegressionBatch(5, 2, 1)).error_code(),
              grpc::StatusCode::NOT_FOUND);
    ASSERT_TRUE(Save(stub, "a").ok());

    text = Scrape(server.server());
    EXPECT_EQ(ExposedValue(text, "grpc_server_started_total{" + train_step + "}"), 5);
    EXPECT_EQ(ExposedValue(text, "grpc_server_handled_total{" + train_step + R"(,grpc_code="OK"})"),
              3);
    EXPECT_EQ(ExposedValue(text, "grpc_server_handled_total{" + train_step +
                                     R"(,grpc_code="InvalidArgument"})"),
              1);
    EXPECT_EQ(
        ExposedValue(text, "grpc_server_handled_total{" + train_step + R"(,grpc_code="NotFound"})"),
        1);
    EXPECT_EQ(ExposedValue(text, "grpc_server_handling_seconds_count{" + train_step + "}"), 5);
    EXPECT_EQ(ExposedValue(text, "grpc_server_msg_received_total{" + train_step + "}"), 5);
    EXPECT_EQ(ExposedValue(text, R"(mlpd_train_steps_total{session="a"})"), 3);
    EXPECT_EQ(ExposedValue(text, R"(mlpd_train_samples_total{session="a"})"), 15);
    EXPECT_EQ(ExposedValue(text, "mlpd_sessions"), 1);
    EXPECT_GT(ExposedValue(text, "mlpd_sessions_bytes"), 0);
    // Two snapshots: the new session's file, then Save's; one writer thread writes them in
    // order, so Save's answer comes after both.
    EXPECT_EQ(ExposedValue(text, "mlpd_snapshots_written_total"), 2);
    EXPECT_EQ(ExposedValue(text, "mlpd_snapshots_failed_total"), 0);
    EXPECT_EQ(ExposedValue(text, "mlpd_snapshot_duration_seconds_count"), 2);
    // Create, three steps and the refused one ran on the executor; so did Save's snapshot.
    EXPECT_GE(ExposedValue(text, "mlpd_executor_wait_seconds_count"), 5);
    EXPECT_GT(ExposedValue(text, "mlpd_executor_busy_seconds_total"), 0);
  }
  fs::remove_all(data_dir);
}

TEST(ServerMetricsTest, JobsAreExposedByState) {
  ServerOptions options;
  options.http_listen = "127.0.0.1:0";
  TestServer server(options);
  v1::Mlpd::Stub& stub = server.stub();
  std::string text = Scrape(server.server());
  for (const char* state : {"queued", "running", "succeeded", "failed", "cancelled"}) {
    EXPECT_EQ(ExposedValue(text, absl::StrCat("mlpd_jobs{state=\"", state, "\"}")), 0) << state;
  }

  ASSERT_TRUE(Create(stub, "a", MlpSpec(8, 16, 3, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Create(stub, "b", MlpSpec(8, 16, 3, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Upload(stub, "rows", {ClassificationBatch(32, 8, 3)}).ok());
  v1::Job short_job;
  ASSERT_TRUE(StartJob(stub, TrainOf("a", "rows", 2, 8), &short_job).ok());
  ASSERT_EQ(WaitDone(stub, short_job.id()).state(), v1::JOB_STATE_SUCCEEDED);
  // A job far longer than the test, seen running, then cancelled.
  v1::Job long_job;
  ASSERT_TRUE(StartJob(stub, TrainOf("b", "rows", 1000000, 1), &long_job).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return GetJob(stub, long_job.id()).state() == v1::JOB_STATE_RUNNING; }));
  text = Scrape(server.server());
  EXPECT_EQ(ExposedValue(text, R"(mlpd_jobs{state="running"})"), 1);
  EXPECT_EQ(ExposedValue(text, R"(mlpd_jobs{state="succeeded"})"), 1);

  ASSERT_TRUE(CancelJob(stub, long_job.id()).ok());
  ASSERT_EQ(WaitDone(stub, long_job.id()).state(), v1::JOB_STATE_CANCELLED);
  text = Scrape(server.server());
  EXPECT_EQ(ExposedValue(text, R"(mlpd_jobs{state="running"})"), 0);
  EXPECT_EQ(ExposedValue(text, R"(mlpd_jobs{state="queued"})"), 0);
  EXPECT_EQ(ExposedValue(text, R"(mlpd_jobs{state="succeeded"})"), 1);
  EXPECT_EQ(ExposedValue(text, R"(mlpd_jobs{state="cancelled"})"), 1);
  EXPECT_EQ(ExposedValue(text, R"(mlpd_jobs{state="failed"})"), 0);
}

TEST(ServerMetricsTest, BadHttpOrLogFlagsStopTheStartNamingTheFlag) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.http_listen = "127.0.0.1:65536";
  Server server;
  absl::StatusOr<int> port = server.Start(options);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(port.status().message().find("--http-listen"), std::string::npos) << port.status();

  options.http_listen = "";
  options.log_format = "xml";
  port = server.Start(options);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("--log-format is \"xml\""), std::string::npos)
      << port.status();
}

TEST(ServerMetricsTest, AnHttpPortInUseStopsTheStart) {
  ServerOptions options;
  options.http_listen = "127.0.0.1:0";
  TestServer first(options);
  ASSERT_GT(first.server().http_port(), 0);

  options.listen = "127.0.0.1:0";
  options.http_listen = absl::StrCat("127.0.0.1:", first.server().http_port());
  Server second;
  absl::StatusOr<int> port = second.Start(options);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("--http-listen"), std::string::npos) << port.status();
}

}  // namespace
}  // namespace mlpd::testing
