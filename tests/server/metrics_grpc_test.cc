// Tests of the gRPC server families: a callback-API server with the interceptor, real calls
// through a stub, then the exposition (and promtool, Prometheus's own checker, on it).
#include "server/metrics_grpc.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "server/metrics_process.h"
#include "server/metrics_registry.h"
#include "tests/server/exposition_test_util.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

// TestService answers TrainStep OK unless the name is "bad", counts UploadDataset chunks, and
// streams three Train responses: one method of each type the real service has.
class TestService final : public v1::Mlpd::CallbackService {
  grpc::ServerUnaryReactor* TrainStep(grpc::CallbackServerContext* context,
                                      const v1::TrainStepRequest* request,
                                      v1::TrainStepResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(request->name() == "bad"
                        ? grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad name")
                        : grpc::Status::OK);
    return reactor;
  }

  grpc::ServerReadReactor<v1::UploadDatasetRequest>* UploadDataset(grpc::CallbackServerContext*,
                                                                   v1::DatasetInfo* info) override {
    class Reader final : public grpc::ServerReadReactor<v1::UploadDatasetRequest> {
     public:
      explicit Reader(v1::DatasetInfo* info) : info_(info) { StartRead(&chunk_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        StartRead(&chunk_);
      }
      void OnDone() override { delete this; }

     private:
      v1::DatasetInfo* info_;
      v1::UploadDatasetRequest chunk_;
    };
    return new Reader(info);
  }

  grpc::ServerWriteReactor<v1::TrainResponse>* Train(grpc::CallbackServerContext*,
                                                     const v1::TrainRequest*) override {
    class Writer final : public grpc::ServerWriteReactor<v1::TrainResponse> {
     public:
      Writer() { Next(); }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::CANCELLED);
          return;
        }
        Next();
      }
      void OnDone() override { delete this; }

     private:
      void Next() {
        if (written_ == 3) {
          Finish(grpc::Status::OK);
          return;
        }
        ++written_;
        StartWrite(&response_);
      }
      v1::TrainResponse response_;
      int written_ = 0;
    };
    return new Writer();
  }
};

class GrpcMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ =
        std::make_unique<GrpcServerMetrics>(registry_, std::vector<std::string>{"mlpd.v1.Mlpd"});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(metrics_->NewInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(factories));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Mlpd::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  grpc::Status Step(const std::string& name) {
    grpc::ClientContext context;
    v1::TrainStepRequest request;
    request.set_name(name);
    v1::TrainStepResponse response;
    return stub_->TrainStep(&context, request, &response);
  }

  // Value returns the sample `series` (name and labels as exposed) of the exposition.
  double Value(const std::string& series) {
    return testing::ExposedValue(registry_.TextExposition(), series);
  }

  static std::string Labels(const std::string& type, const std::string& method) {
    return absl::StrCat("{grpc_type=\"", type, "\",grpc_service=\"mlpd.v1.Mlpd\",grpc_method=\"",
                        method, "\"");
  }

  MetricsRegistry registry_;
  std::unique_ptr<GrpcServerMetrics> metrics_;
  TestService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Mlpd::Stub> stub_;
};

TEST_F(GrpcMetricsTest, UnaryCallsAreCountedByCodeAndTimed) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Step("good").ok());
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Step("bad").error_code(), grpc::INVALID_ARGUMENT);

  const std::string labels = Labels("unary", "TrainStep");
  EXPECT_EQ(Value("grpc_server_started_total" + labels + "}"), 5);
  EXPECT_EQ(Value("grpc_server_handled_total" + labels + ",grpc_code=\"OK\"}"), 3);
  EXPECT_EQ(Value("grpc_server_handled_total" + labels + ",grpc_code=\"InvalidArgument\"}"), 2);
  EXPECT_EQ(Value("grpc_server_handled_total" + labels + ",grpc_code=\"NotFound\"}"), 0);
  EXPECT_EQ(Value("grpc_server_msg_received_total" + labels + "}"), 5);
  EXPECT_EQ(Value("grpc_server_msg_sent_total" + labels + "}"), 3);  // Errors carry no message.
  EXPECT_EQ(Value("grpc_server_handling_seconds_count" + labels + "}"), 5);
  EXPECT_EQ(Value("grpc_server_handling_seconds_bucket" + labels + ",le=\"+Inf\"}"), 5);
  EXPECT_GT(Value("grpc_server_handling_seconds_sum" + labels + "}"), 0);
}

TEST_F(GrpcMetricsTest, ClientStreamMessagesAreCountedWithoutTheClose) {
  grpc::ClientContext context;
  v1::DatasetInfo info;
  std::unique_ptr<grpc::ClientWriter<v1::UploadDatasetRequest>> writer =
      stub_->UploadDataset(&context, &info);
  v1::UploadDatasetRequest chunk;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(writer->Write(chunk));
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());

  const std::string labels = Labels("client_stream", "UploadDataset");
  EXPECT_EQ(Value("grpc_server_started_total" + labels + "}"), 1);
  EXPECT_EQ(Value("grpc_server_msg_received_total" + labels + "}"), 4);
  EXPECT_EQ(Value("grpc_server_msg_sent_total" + labels + "}"), 1);
  EXPECT_EQ(Value("grpc_server_handled_total" + labels + ",grpc_code=\"OK\"}"), 1);
}

TEST_F(GrpcMetricsTest, ServerStreamMessagesAreCounted) {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::TrainResponse>> reader =
      stub_->Train(&context, v1::TrainRequest());
  v1::TrainResponse response;
  int read = 0;
  while (reader->Read(&response)) ++read;
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(read, 3);

  const std::string labels = Labels("server_stream", "Train");
  EXPECT_EQ(Value("grpc_server_msg_received_total" + labels + "}"), 1);
  EXPECT_EQ(Value("grpc_server_msg_sent_total" + labels + "}"), 3);
  EXPECT_EQ(Value("grpc_server_handled_total" + labels + ",grpc_code=\"OK\"}"), 1);
}

TEST_F(GrpcMetricsTest, EveryMethodOfTheServiceStartsAtZeroForEveryCode) {
  // Nothing called yet: like go-grpc-prometheus, queries see every method and code at 0.
  EXPECT_EQ(Value("grpc_server_started_total" + Labels("unary", "ListSessions") + "}"), 0);
  EXPECT_EQ(Value("grpc_server_handled_total" + Labels("unary", "Predict") +
                  ",grpc_code=\"Unauthenticated\"}"),
            0);
  EXPECT_EQ(Value("grpc_server_handling_seconds_count" + Labels("server_stream", "Train") + "}"),
            0);
}

TEST_F(GrpcMetricsTest, UnservedMethodsAreCountedUnderTheirOwnName) {
  // ListSessions is not implemented by TestService: gRPC answers UNIMPLEMENTED, still counted.
  grpc::ClientContext context;
  v1::ListSessionsResponse response;
  ASSERT_EQ(stub_->ListSessions(&context, v1::ListSessionsRequest(), &response).error_code(),
            grpc::UNIMPLEMENTED);
  EXPECT_EQ(Value("grpc_server_handled_total" + Labels("unary", "ListSessions") +
                  ",grpc_code=\"Unimplemented\"}"),
            1);
}

TEST(GrpcCodeNameTest, UsesTheGoNames) {
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::CANCELLED), "Canceled");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::RESOURCE_EXHAUSTED), "ResourceExhausted");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "Unauthenticated");
  // Not a code a call ends with (a cast of 99 would be undefined behaviour, which UBSan stops).
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::DO_NOT_USE), "Unknown");
}

// promtool (Debian's prometheus package, installed by scripts/install-deps) checks the whole
// exposition: names, types, histogram shape, label escaping and the naming conventions.
TEST_F(GrpcMetricsTest, PromtoolAcceptsTheExposition) {
  AddProcessMetrics(registry_);
  registry_.AddCounter("mlpd_test_label_escapes_total", "Escapes.", {"session"})
      .WithLabels({"a \"quoted\\ name\nwith a newline"})
      .Increment();
  ASSERT_TRUE(Step("good").ok());
  ASSERT_EQ(Step("bad").error_code(), grpc::INVALID_ARGUMENT);

  const std::string path = absl::StrCat(::testing::TempDir(), "/exposition.txt");
  {
    std::ofstream file(path);
    file << registry_.TextExposition();
  }
  const std::string command = absl::StrCat("promtool check metrics < '", path, "' 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << "promtool check metrics (is prometheus installed? scripts/install-deps)"
                       << " said:\n"
                       << output;
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace mlpd
