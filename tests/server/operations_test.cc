// Operations around the API: server reflection lists mlpd.v1.Mlpd, bearer tokens guard every
// mlpd.v1 call while health stays open, and the server listens on unix sockets.
#include <cmath>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "tests/server/service_test_util.h"

namespace mlpd::testing {
namespace {

std::string BufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

grpc::ByteBuffer StringToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// ReflectionServices asks the reflection service to list services (ServerReflectionRequest
// field 7, list_services, an empty string) and returns the raw response bytes.
std::string ReflectionServices(std::shared_ptr<grpc::Channel> channel) {
  grpc::CompletionQueue queue;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t expected) {
    return queue.Next(&tag, &ok) && reinterpret_cast<intptr_t>(tag) == expected && ok;
  };
  std::string response;
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    call->Write(StringToBuffer(std::string("\x3a\x00", 2)), reinterpret_cast<void*>(2));
    if (step(2)) {
      grpc::ByteBuffer buffer;
      call->Read(&buffer, reinterpret_cast<void*>(3));
      if (step(3)) response = BufferToString(buffer);
    }
  }
  context.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  while (queue.Next(&tag, &ok) && reinterpret_cast<intptr_t>(tag) != 4) {
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return response;
}

TEST(OperationsTest, ReflectionListsTheService) {
  TestServer server;
  const std::string services = ReflectionServices(server.channel());
  EXPECT_NE(services.find("mlpd.v1.Mlpd"), std::string::npos) << services;
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos) << services;
}

TEST(OperationsTest, TokensGuardTheApiButNotHealth) {
  const std::string token_file = absl::StrCat(::testing::TempDir(), "/mlpd-token");
  std::ofstream(token_file) << "s3cret-token\n";
  ServerOptions options;
  options.security.auth_token_file = token_file;
  TestServer server(options);
  v1::SessionInfo info;
  {
    grpc::ClientContext context;
    EXPECT_EQ(
        server.stub().CreateSession(&context, CreateRequest("a", LinearSpec()), &info).error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer wrong");
    EXPECT_EQ(
        server.stub().CreateSession(&context, CreateRequest("a", LinearSpec()), &info).error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer s3cret-token");
    EXPECT_TRUE(
        server.stub().CreateSession(&context, CreateRequest("a", LinearSpec()), &info).ok());
  }
  {
    // Streaming calls are guarded too.
    grpc::ClientContext context;
    v1::TrainRequest request;
    request.set_name("a");
    auto reader = server.stub().Train(&context, request);
    v1::TrainResponse response;
    while (reader->Read(&response)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(Upload(server.stub(), "d", {RegressionBatch(2, 2, 1)}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Health answers without a token.
  grpc::GenericStub stub(server.channel());
  grpc::ClientContext context;
  grpc::ByteBuffer request = StringToBuffer(std::string("\x0a\x0c") + "mlpd.v1.Mlpd");
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  EXPECT_TRUE(done.get_future().get().ok());
  EXPECT_EQ(BufferToString(response), std::string("\x08\x01", 2));  // SERVING.
}

TEST(OperationsTest, ServesOnAUnixSocket) {
  const std::string socket = absl::StrCat(::testing::TempDir(), "/mlpd-test.sock");
  ServerOptions options;
  options.listen = "unix:" + socket;
  Server server;
  absl::StatusOr<int> port = server.Start(options);
  ASSERT_TRUE(port.ok()) << port.status();
  auto stub =
      v1::Mlpd::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(Create(*stub, "u", LinearSpec()).ok());
  EXPECT_TRUE(Step(*stub, "u", RegressionBatch(2, 2, 1)).ok());
  server.Shutdown();
}

TEST(OperationsTest, OutOfRangeOptionsFailToStartNamingTheFlag) {
  const std::vector<std::pair<std::string, std::function<void(ServerOptions&)>>> cases = {
      {"--max-message-mb", [](ServerOptions& o) { o.max_message_mb = 0; }},
      {"--max-queue", [](ServerOptions& o) { o.max_queue = 0; }},
      {"--max-trains", [](ServerOptions& o) { o.max_trains = -1; }},
      {"--max-sessions-mb", [](ServerOptions& o) { o.max_sessions_mb = -1; }},
      {"--max-sessions-mb", [](ServerOptions& o) { o.max_sessions_mb = int64_t{1} << 50; }},
      {"--max-datasets-mb", [](ServerOptions& o) { o.max_datasets_mb = int64_t{1} << 50; }},
      {"--executor-spin-us", [](ServerOptions& o) { o.executor_spin_us = -1; }},
      {"--threads", [](ServerOptions& o) { o.threads = -1; }},
      {"--threads", [](ServerOptions& o) { o.threads = 1000000; }},
      {"--max-sessions", [](ServerOptions& o) { o.max_sessions = -1; }},
      {"--max-session-params", [](ServerOptions& o) { o.max_session_params = 0; }},
      {"--checkpoint-every", [](ServerOptions& o) { o.checkpoint_every = -1; }},
      {"--checkpoint-interval", [](ServerOptions& o) { o.checkpoint_interval_seconds = NAN; }},
      {"--drain-seconds", [](ServerOptions& o) { o.drain_seconds = -1; }},
      {"--listen", [](ServerOptions& o) { o.listen = "127.0.0.1:99999"; }},
      {"--listen", [](ServerOptions& o) { o.listen = "127.0.0.1:http"; }},
      {"--listen", [](ServerOptions& o) { o.listen = "unix:"; }},
  };
  for (const auto& [flag, set] : cases) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    set(options);
    SCOPED_TRACE(flag);
    Server server;
    const absl::StatusOr<int> port = server.Start(options);
    EXPECT_EQ(port.status().code(), absl::StatusCode::kInvalidArgument) << flag;
    EXPECT_NE(port.status().message().find(flag), std::string::npos) << port.status();
  }
}

TEST(OperationsTest, BadListenAddressFailsToStart) {
  ServerOptions options;
  options.listen = "256.1.1.1:99999";
  Server server;
  EXPECT_FALSE(server.Start(options).ok());
}

}  // namespace
}  // namespace mlpd::testing
