// The mlpd.v1 service through real stubs: every RPC's happy path, then bad input of every
// kind against every RPC, checking the code, that the server still answers and that the
// session is unchanged.
#include <atomic>
#include <cmath>
#include <future>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "tests/server/service_test_util.h"

namespace mlpd::testing {
namespace {

using ::testing::HasSubstr;

class ServiceTest : public ::testing::Test {
 protected:
  v1::Mlpd::Stub& stub() { return server_.stub(); }
  TestServer server_;
};

TEST_F(ServiceTest, SessionLifecycle) {
  v1::SessionInfo info;
  ASSERT_TRUE(Create(stub(), "a", LinearSpec(3, 2), &info).ok());
  EXPECT_EQ(info.name(), "a");
  EXPECT_EQ(info.parameter_count(), 3 * 2 + 2);
  EXPECT_EQ(info.step_count(), 0);
  EXPECT_EQ(info.spec().input_size(), 3);
  EXPECT_GT(info.create_time_unix_ms(), 0);
  EXPECT_FALSE(info.has_last_loss());  // No step yet: absent, not 0.

  v1::TrainStepResponse step;
  ASSERT_TRUE(Step(stub(), "a", RegressionBatch(4, 3, 2), &step).ok());
  EXPECT_EQ(step.step(), 1);
  EXPECT_TRUE(std::isfinite(step.loss()));

  grpc::ClientContext get_context;
  v1::GetSessionRequest get;
  get.set_name("a");
  ASSERT_TRUE(stub().GetSession(&get_context, get, &info).ok());
  EXPECT_EQ(info.step_count(), 1);
  EXPECT_EQ(info.samples_seen(), 4);
  ASSERT_TRUE(info.has_last_loss());
  EXPECT_EQ(info.last_loss(), step.loss());

  ASSERT_TRUE(Delete(stub(), "a").ok());
  grpc::ClientContext again;
  EXPECT_EQ(stub().GetSession(&again, get, &info).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, ListSessionsPagesInNameOrder) {
  for (const char* name : {"c", "a", "e", "b", "d"})
    ASSERT_TRUE(Create(stub(), name, LinearSpec()).ok());
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    v1::ListSessionsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    v1::ListSessionsResponse response;
    ASSERT_TRUE(stub().ListSessions(&context, request, &response).ok());
    EXPECT_LE(response.sessions_size(), 2);
    for (const auto& session : response.sessions()) names.push_back(session.name());
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pages, 3);
}

TEST_F(ServiceTest, PredictMatchesTheAffineMapOfTheWeights) {
  ASSERT_TRUE(Create(stub(), "lin", LinearSpec(2, 1)).ok());
  const v1::Checkpoint checkpoint = Exported(stub(), "lin");
  ASSERT_EQ(checkpoint.parameters_size(), 3);  // w [1, 2] then b [1].
  grpc::ClientContext context;
  v1::PredictRequest request;
  request.set_name("lin");
  *request.mutable_x() =
      MakeTensor(2, 2, [](int64_t r, int64_t c) { return r == c ? 1.0f : 0.0f; });
  v1::PredictResponse response;
  ASSERT_TRUE(stub().Predict(&context, request, &response).ok());
  ASSERT_EQ(response.outputs().data_size(), 2);
  EXPECT_THAT(response.outputs().shape(), ::testing::ElementsAre(2, 1));
  EXPECT_FLOAT_EQ(response.outputs().data(0), checkpoint.parameters(0) + checkpoint.parameters(2));
  EXPECT_FLOAT_EQ(response.outputs().data(1), checkpoint.parameters(1) + checkpoint.parameters(2));
  EXPECT_EQ(response.classes_size(), 0);  // MSE with one output has no classes.
}

TEST_F(ServiceTest, ClassifierPredictsProbabilitiesAndEvaluates) {
  ASSERT_TRUE(Create(stub(), "clf", MlpSpec(4, 8, 3, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Step(stub(), "clf", ClassificationBatch(6, 4, 3, i)).ok());
  grpc::ClientContext context;
  v1::PredictRequest request;
  request.set_name("clf");
  *request.mutable_x() = ClassificationBatch(5, 4, 3).x();
  v1::PredictResponse response;
  ASSERT_TRUE(stub().Predict(&context, request, &response).ok());
  ASSERT_EQ(response.classes_size(), 5);
  for (int r = 0; r < 5; ++r) {
    float sum = 0;
    int best = 0;
    for (int c = 0; c < 3; ++c) {
      sum += response.outputs().data(r * 3 + c);
      if (response.outputs().data(r * 3 + c) > response.outputs().data(r * 3 + best)) best = c;
    }
    EXPECT_NEAR(sum, 1.0f, 1e-5);
    EXPECT_EQ(response.classes(r), best);
  }
  grpc::ClientContext evaluate_context;
  v1::EvaluateRequest evaluate;
  evaluate.set_name("clf");
  *evaluate.mutable_batch() = ClassificationBatch(9, 4, 3);
  v1::EvalResult evaluation;
  ASSERT_TRUE(stub().Evaluate(&evaluate_context, evaluate, &evaluation).ok());
  EXPECT_EQ(evaluation.count(), 9);
  EXPECT_TRUE(evaluation.has_error_rate());
  EXPECT_GE(evaluation.error_rate(), 0.0);
  EXPECT_LE(evaluation.error_rate(), 1.0);
  EXPECT_GT(evaluation.loss(), 0.0);
}

TEST_F(ServiceTest, DatasetsUploadInChunksListAndDelete) {
  v1::DatasetInfo info;
  ASSERT_TRUE(
      Upload(stub(), "d1", {RegressionBatch(3, 2, 1), RegressionBatch(4, 2, 1, 3)}, &info).ok());
  EXPECT_EQ(info.rows(), 7);
  EXPECT_EQ(info.input_size(), 2);
  EXPECT_EQ(info.target_size(), 1);
  EXPECT_FALSE(info.has_labels());
  EXPECT_GT(info.bytes(), 0);
  ASSERT_TRUE(Upload(stub(), "d0", {ClassificationBatch(5, 2, 2)}, &info).ok());
  EXPECT_TRUE(info.has_labels());

  grpc::ClientContext list_context;
  v1::ListDatasetsResponse list;
  ASSERT_TRUE(stub().ListDatasets(&list_context, v1::ListDatasetsRequest(), &list).ok());
  ASSERT_EQ(list.datasets_size(), 2);
  EXPECT_EQ(list.datasets(0).name(), "d0");

  grpc::ClientContext get_context;
  v1::GetDatasetRequest get;
  get.set_name("d1");
  ASSERT_TRUE(stub().GetDataset(&get_context, get, &info).ok());
  EXPECT_EQ(info.rows(), 7);

  ASSERT_TRUE(DeleteDataset(stub(), "d1").ok());
  grpc::ClientContext again;
  EXPECT_EQ(stub().GetDataset(&again, get, &info).error_code(), grpc::StatusCode::NOT_FOUND);
}

// A client that goes away mid-upload (cancelled, or its process died) must not leave the rows
// it sent registered as a complete dataset: the name stays free for its retry.
TEST_F(ServiceTest, AbandonedUploadIsNotRegistered) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    grpc::ClientContext context;
    v1::DatasetInfo info;
    auto writer = stub().UploadDataset(&context, &info);
    v1::UploadDatasetRequest request;
    request.set_name("partial");
    *request.mutable_rows() = RegressionBatch(3, 2, 1);
    ASSERT_TRUE(writer->Write(request));
    request.clear_name();
    ASSERT_TRUE(writer->Write(request));
    context.TryCancel();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);

    // The server hears of the cancellation asynchronously: give it a moment to (wrongly)
    // register the rows, then check that it did not.
    absl::SleepFor(absl::Milliseconds(20));
    grpc::ClientContext get_context;
    v1::GetDatasetRequest get;
    get.set_name("partial");
    EXPECT_EQ(stub().GetDataset(&get_context, get, &info).error_code(), grpc::StatusCode::NOT_FOUND)
        << "attempt " << attempt << ": " << info.rows() << " rows registered";
  }
  v1::DatasetInfo info;
  ASSERT_TRUE(Upload(stub(), "partial", {RegressionBatch(5, 2, 1)}, &info).ok());
  EXPECT_EQ(info.rows(), 5);
}

TEST_F(ServiceTest, TrainStreamsProgressThenSummaryWithEval) {
  ASSERT_TRUE(Create(stub(), "t", LinearSpec(2, 1)).ok());
  ASSERT_TRUE(Upload(stub(), "train", {RegressionBatch(10, 2, 1)}).ok());
  ASSERT_TRUE(Upload(stub(), "eval", {RegressionBatch(5, 2, 1, 10)}).ok());
  v1::TrainRequest request =
      TrainOf("t", "train", 3, 4);  // 3 steps per epoch, the last one partial.
  request.set_eval_dataset("eval");
  std::vector<v1::TrainResponse> events;
  ASSERT_TRUE(RunTrain(stub(), request, &events).ok());
  ASSERT_EQ(events.size(), 4u);  // One progress per epoch, then the summary.
  for (int e = 0; e < 3; ++e) {
    ASSERT_TRUE(events[e].has_progress());
    EXPECT_EQ(events[e].progress().epoch(), e + 1);
    EXPECT_EQ(events[e].progress().steps_done(), 3 * (e + 1));
    EXPECT_EQ(events[e].progress().steps_total(), 9);
    EXPECT_TRUE(events[e].progress().has_eval());
    EXPECT_GT(events[e].progress().samples_per_second(), 0);
  }
  ASSERT_TRUE(events[3].has_summary());
  EXPECT_EQ(events[3].summary().steps(), 9);
  EXPECT_EQ(events[3].summary().epochs(), 3);
  EXPECT_EQ(events[3].summary().step(), 9);
  EXPECT_TRUE(events[3].summary().has_eval());

  request.set_report_every_steps(2);
  request.set_epochs(1);
  events.clear();
  ASSERT_TRUE(RunTrain(stub(), request, &events).ok());
  ASSERT_EQ(events.size(), 2u);  // Step 2 of 3, then the summary.
  EXPECT_EQ(events[0].progress().steps_done(), 2);
  EXPECT_EQ(events[1].summary().step(), 12);
}

// A client that cancels a Train stops it between mini-batches; the steps applied stay.
TEST_F(ServiceTest, CancelledTrainKeepsAppliedStepsAndStops) {
  ASSERT_TRUE(Create(stub(), "c", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Upload(stub(), "rows", {ClassificationBatch(64, 32, 4)}).ok());
  v1::TrainRequest request = TrainOf("c", "rows", 1000000, 8, 5);
  grpc::ClientContext context;
  auto reader = stub().Train(&context, request);
  v1::TrainResponse response;
  int64_t reported = 0;
  for (int i = 0; i < 3 && reader->Read(&response); ++i) reported = response.progress().step();
  EXPECT_EQ(reported, 15);
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  auto step_count = [&] { return Info(stub(), "c").step_count(); };
  // The server notices the cancellation at its next mini-batch and ends the call; then the
  // count stays.
  ASSERT_TRUE(WaitUntil([&] { return server_.server().service().active_trains() == 0; }));
  const int64_t stopped_at = step_count();
  EXPECT_GE(stopped_at, reported);
  EXPECT_LT(stopped_at, 1000000 * 8);
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(step_count(), stopped_at);
  EXPECT_EQ(server_.server().service().active_trains(), 0);
  // The session still trains normally.
  v1::TrainStepResponse step;
  ASSERT_TRUE(Step(stub(), "c", ClassificationBatch(4, 32, 4), &step).ok());
  EXPECT_EQ(step.step(), stopped_at + 1);
}

// Deleting a session that is training ends the Train with NOT_FOUND.
TEST_F(ServiceTest, DeleteDuringTrainEndsItCleanly) {
  ASSERT_TRUE(Create(stub(), "d", MlpSpec(32, 64, 4, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Upload(stub(), "rows", {ClassificationBatch(64, 32, 4)}).ok());
  v1::TrainRequest request = TrainOf("d", "rows", 1000000, 8, 5);
  grpc::ClientContext context;
  auto reader = stub().Train(&context, request);
  v1::TrainResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(Delete(stub(), "d").ok());
  while (reader->Read(&response)) {
  }
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  // Steps had run (a report came): the message says so rather than "before the call ran".
  EXPECT_NE(status.error_message().find("was deleted during Train, after"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(server_.server().service().session_count(), 0);
}

// A client that stops reading progress neither slows training nor grows the server.
TEST_F(ServiceTest, ASlowReaderGetsTheNewestReportsAndTrainingDoesNotWait) {
  ASSERT_TRUE(Create(stub(), "slow", LinearSpec()).ok());
  ASSERT_TRUE(Upload(stub(), "rows", {RegressionBatch(8, 2, 1)}).ok());
  constexpr int64_t kSteps = 20000;
  v1::TrainRequest request = TrainOf("slow", "rows", kSteps / 8, 1, 1);
  // A reader whose flow-control window stays at its initial size: with BDP probing the window
  // of a reader that is not reading can grow to megabytes, tens of thousands of reports.
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  const auto reader_stub = v1::Mlpd::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", server_.port()), grpc::InsecureChannelCredentials(), arguments));
  grpc::ClientContext context;
  auto reader = reader_stub->Train(&context, request);
  v1::TrainResponse response;
  ASSERT_TRUE(reader->Read(&response));
  // Read nothing more until every step has run: a report per step would pile up meanwhile.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (Info(stub(), "slow").step_count() < kSteps && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(Info(stub(), "slow").step_count(), kSteps);
  int64_t received = 1, last_step = 0;
  while (reader->Read(&response)) {
    ++received;
    if (response.has_progress()) {
      EXPECT_GT(response.progress().steps_done(), last_step);  // In order, the newest last.
      last_step = response.progress().steps_done();
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_TRUE(response.has_summary());
  EXPECT_EQ(response.summary().steps(), kSteps);
  // What the transport buffered before the client stopped reading, plus the newest report.
  EXPECT_LT(received, kSteps / 4) << "reports were queued for the slow reader";
}

// Train over an uploaded dataset applies exactly the steps TrainStep would with the same
// batches in the same order.
TEST_F(ServiceTest, TrainEqualsTheSameBatchesThroughTrainStep) {
  const v1::ModelSpec spec = MlpSpec(3, 5, 2, v1::LOSS_KIND_MSE, v1::OPTIMIZER_KIND_ADAM);
  ASSERT_TRUE(Create(stub(), "by-train", spec).ok());
  ASSERT_TRUE(Create(stub(), "by-step", spec).ok());
  const v1::Batch all = RegressionBatch(10, 3, 2);
  ASSERT_TRUE(Upload(stub(), "rows", {all}).ok());
  v1::TrainRequest request = TrainOf("by-train", "rows", 2, 4);
  ASSERT_TRUE(RunTrain(stub(), request).ok());
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int start = 0; start < 10; start += 4) {
      const int rows = std::min(4, 10 - start);
      v1::Batch batch;
      *batch.mutable_x() = MakeTensor(rows, 3, [&](int64_t r, int64_t c) {
        return all.x().data(static_cast<int>((start + r) * 3 + c));
      });
      *batch.mutable_targets() = MakeTensor(rows, 2, [&](int64_t r, int64_t c) {
        return all.targets().data(static_cast<int>((start + r) * 2 + c));
      });
      ASSERT_TRUE(Step(stub(), "by-step", batch).ok());
    }
  }
  const v1::Checkpoint trained = Exported(stub(), "by-train");
  const v1::Checkpoint stepped = Exported(stub(), "by-step");
  EXPECT_EQ(trained.step_count(), 6);
  EXPECT_EQ(stepped.step_count(), 6);
  ASSERT_EQ(trained.parameters_size(), stepped.parameters_size());
  for (int i = 0; i < trained.parameters_size(); ++i) {
    ASSERT_EQ(trained.parameters(i), stepped.parameters(i)) << "parameter " << i;
  }
  for (int i = 0; i < trained.optimizer_state_size(); ++i) {
    ASSERT_EQ(trained.optimizer_state(i), stepped.optimizer_state(i)) << "state " << i;
  }
}

TEST_F(ServiceTest, NativeExportImportRoundTripsExactlyAndTrainsAlike) {
  ASSERT_TRUE(
      Create(stub(), "orig", MlpSpec(3, 4, 2, v1::LOSS_KIND_MSE, v1::OPTIMIZER_KIND_ADAM)).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Step(stub(), "orig", RegressionBatch(5, 3, 2, i)).ok());
  std::string bytes;
  ASSERT_TRUE(ExportBytes(stub(), "orig", v1::EXPORT_FORMAT_NATIVE, &bytes).ok());

  // In chunks of 7 bytes: the server joins them whole.
  v1::SessionInfo info;
  const grpc::Status imported =
      ImportBytes(stub(), "copy", v1::EXPORT_FORMAT_NATIVE, bytes, 7, -1, &info);
  ASSERT_TRUE(imported.ok()) << imported.error_message();
  EXPECT_EQ(info.step_count(), 3);
  EXPECT_EQ(info.samples_seen(), 15);

  for (int i = 3; i < 6; ++i) {
    ASSERT_TRUE(Step(stub(), "orig", RegressionBatch(5, 3, 2, i)).ok());
    ASSERT_TRUE(Step(stub(), "copy", RegressionBatch(5, 3, 2, i)).ok());
  }
  const v1::Checkpoint a = Exported(stub(), "orig");
  const v1::Checkpoint b = Exported(stub(), "copy");
  ASSERT_EQ(a.parameters_size(), b.parameters_size());
  for (int i = 0; i < a.parameters_size(); ++i) ASSERT_EQ(a.parameters(i), b.parameters(i));
  EXPECT_EQ(b.step_count(), 6);

  ASSERT_TRUE(ExportBytes(stub(), "orig", v1::EXPORT_FORMAT_ONNX, &bytes).ok());
  EXPECT_GT(bytes.size(), 100u);
}

TEST_F(ServiceTest, AnImportStreamCutShortOrTooLargeMakesNothing) {
  ASSERT_TRUE(
      Create(stub(), "orig", MlpSpec(3, 4, 2, v1::LOSS_KIND_MSE, v1::OPTIMIZER_KIND_ADAM)).ok());
  std::string bytes;
  ASSERT_TRUE(ExportBytes(stub(), "orig", v1::EXPORT_FORMAT_NATIVE, &bytes).ok());
  // The first chunk announces one byte more than the stream carries.
  grpc::Status status = ImportBytes(stub(), "short", v1::EXPORT_FORMAT_NATIVE, bytes, 16,
                                    static_cast<int64_t>(bytes.size()) + 1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("the stream ended after ", bytes.size(), " bytes")));
  // An export larger than any session --max-session-params allows is refused at once.
  status = ImportBytes(stub(), "huge", v1::EXPORT_FORMAT_NATIVE, bytes, 16, int64_t{1} << 50);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--max-session-params"));
  // A later chunk that names another session.
  {
    grpc::ClientContext context;
    v1::SessionInfo info;
    auto writer = stub().ImportSession(&context, &info);
    v1::ImportSessionRequest chunk;
    chunk.set_name("first");
    chunk.set_format(v1::EXPORT_FORMAT_NATIVE);
    chunk.set_data(bytes.substr(0, 10));
    writer->Write(chunk);
    chunk.set_name("second");
    chunk.set_data(bytes.substr(10));
    writer->Write(chunk);
    writer->WritesDone();
    status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("chunk 1 names session \"second\""));
  }
  for (const char* name : {"short", "huge", "first", "second"}) {
    grpc::ClientContext context;
    v1::GetSessionRequest get;
    get.set_name(name);
    v1::SessionInfo info;
    EXPECT_EQ(stub().GetSession(&context, get, &info).error_code(), grpc::StatusCode::NOT_FOUND)
        << name;
  }
}

// HealthStatus calls grpc.health.v1.Health/Check for `service` through the generic stub (the
// health messages are tiny: field 1 of the request is the service name, field 1 of the
// response the status enum) and returns the status number (1 SERVING, 2 NOT_SERVING), or -1.
int HealthStatus(std::shared_ptr<grpc::Channel> channel, const std::string& service) {
  std::string request = {'\x0a', static_cast<char>(service.size())};
  request += service;
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_buffer,
                 &response_buffer, [&done](grpc::Status status) { done.set_value(status); });
  if (!done.get_future().get().ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) return -1;
  std::string response;
  for (const grpc::Slice& part : slices)
    response.append(reinterpret_cast<const char*>(part.begin()), part.size());
  if (response.size() != 2 || response[0] != '\x08') return -1;
  return response[1];
}

TEST(HealthTest, ServingWhileUpNotServingWhileDraining) {
  auto server = std::make_unique<TestServer>();
  EXPECT_EQ(HealthStatus(server->channel(), ""), 1);
  EXPECT_EQ(HealthStatus(server->channel(), "mlpd.v1.Mlpd"), 1);
  // A Train that outlives the drain keeps the server draining long enough to look at it.
  ASSERT_TRUE(Create(server->stub(), "s", MlpSpec(64, 256, 10, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
  ASSERT_TRUE(Upload(server->stub(), "rows", {ClassificationBatch(2000, 64, 10)}).ok());
  std::thread train([&] {
    v1::TrainRequest request = TrainOf("s", "rows", 100000, 10);
    const grpc::Status status = RunTrain(server->stub(), request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  });
  ASSERT_TRUE(WaitUntil([&] { return server->server().service().active_trains() == 1; }));
  auto channel = server->channel();
  std::thread stop([&] { server->server().Shutdown(); });
  // Shutdown turns the health status NOT_SERVING (2) first, then drains.
  EXPECT_TRUE(WaitUntil([&] { return HealthStatus(channel, "mlpd.v1.Mlpd") == 2; }));
  // Then the service refuses new calls.
  EXPECT_TRUE(WaitUntil([&] {
    grpc::ClientContext context;
    v1::GetSessionRequest request;
    request.set_name("s");
    v1::SessionInfo info;
    return server->stub().GetSession(&context, request, &info).error_code() ==
           grpc::StatusCode::UNAVAILABLE;
  }));
  v1::SessionInfo info;
  EXPECT_EQ(Create(server->stub(), "late", LinearSpec(), &info).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  stop.join();
  train.join();
}

// ---------------------------------------------------------------------------------------------
// Bad input: every case answers the right code, the server keeps answering, the session is as
// it was.

class BadInputTest : public ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Create(stub(), "s", LinearSpec(2, 1)).ok());
    ASSERT_TRUE(Create(stub(), "clf", MlpSpec(2, 4, 3, v1::LOSS_KIND_CROSS_ENTROPY)).ok());
    ASSERT_TRUE(Step(stub(), "s", RegressionBatch(4, 2, 1)).ok());
    before_ = Exported(stub(), "s");
    before_clf_ = Exported(stub(), "clf");
  }
  void TearDown() override {
    // The server still answers and nothing about the sessions changed.
    const v1::Checkpoint after = Exported(stub(), "s");
    EXPECT_EQ(after.SerializeAsString(), before_.SerializeAsString());
    EXPECT_EQ(Exported(stub(), "clf").SerializeAsString(), before_clf_.SerializeAsString());
  }

  grpc::StatusCode TrainStepCode(const std::string& name, const v1::Batch& batch,
                                 std::string* message = nullptr) {
    const grpc::Status status = Step(stub(), name, batch);
    if (message != nullptr) *message = status.error_message();
    return status.error_code();
  }
  grpc::StatusCode PredictCode(const std::string& name, const v1::Tensor& x) {
    grpc::ClientContext context;
    v1::PredictRequest request;
    request.set_name(name);
    *request.mutable_x() = x;
    v1::PredictResponse response;
    return stub().Predict(&context, request, &response).error_code();
  }
  grpc::StatusCode EvaluateCode(const std::string& name, const v1::Batch& batch) {
    grpc::ClientContext context;
    v1::EvaluateRequest request;
    request.set_name(name);
    *request.mutable_batch() = batch;
    v1::EvalResult response;
    return stub().Evaluate(&context, request, &response).error_code();
  }

  v1::Checkpoint before_;
  v1::Checkpoint before_clf_;
};

constexpr auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
constexpr auto kNotFound = grpc::StatusCode::NOT_FOUND;

TEST_F(BadInputTest, UnknownAndBadNames) {
  for (const std::string& name :
       std::vector<std::string>{"nope", "../x", "", "a/b", std::string(129, 'a'), ".."}) {
    const grpc::StatusCode expected = name == "nope" ? kNotFound : kInvalid;
    EXPECT_EQ(TrainStepCode(name, RegressionBatch(2, 2, 1)), expected) << name;
    EXPECT_EQ(PredictCode(name, RegressionBatch(2, 2, 1).x()), expected) << name;
    EXPECT_EQ(EvaluateCode(name, RegressionBatch(2, 2, 1)), expected) << name;
    grpc::ClientContext get_context, save_context;
    v1::GetSessionRequest get;
    get.set_name(name);
    v1::SessionInfo info;
    EXPECT_EQ(stub().GetSession(&get_context, get, &info).error_code(), expected);
    EXPECT_EQ(Delete(stub(), name).error_code(), expected);
    std::string bytes;
    EXPECT_EQ(ExportBytes(stub(), name, v1::EXPORT_FORMAT_NATIVE, &bytes).error_code(), expected);
    grpc::ClientContext dataset_context;
    v1::GetDatasetRequest dataset;
    dataset.set_name(name);
    v1::DatasetInfo dataset_info;
    EXPECT_EQ(stub().GetDataset(&dataset_context, dataset, &dataset_info).error_code(), expected);
    if (name != "nope") {
      EXPECT_EQ(Create(stub(), name, LinearSpec()).error_code(), kInvalid) << name;
      EXPECT_EQ(Upload(stub(), name, {RegressionBatch(2, 2, 1)}).error_code(), kInvalid) << name;
    }
    v1::TrainRequest train = TrainOf(name, "missing", 1);
    EXPECT_EQ(RunTrain(stub(), train).error_code(), expected) << name;
  }
  v1::TrainRequest train = TrainOf("s", "missing", 1);
  EXPECT_EQ(RunTrain(stub(), train).error_code(), kNotFound);
}

TEST_F(BadInputTest, ShapeMismatchNamesTheFieldAndSizes) {
  std::string message;
  EXPECT_EQ(TrainStepCode("s", RegressionBatch(2, 3, 1), &message), kInvalid);
  EXPECT_THAT(message, HasSubstr("batch.x.shape[1] is 3, the session's input size is 2"));
  EXPECT_EQ(TrainStepCode("s", RegressionBatch(2, 2, 2), &message), kInvalid);
  EXPECT_THAT(message, HasSubstr("output size is 1"));
  v1::Batch short_data = RegressionBatch(2, 2, 1);
  short_data.mutable_x()->mutable_data()->RemoveLast();
  EXPECT_EQ(TrainStepCode("s", short_data, &message), kInvalid);
  EXPECT_THAT(message, HasSubstr("batch.x.data has 3 values; shape [2, 2] needs 4"));
  v1::Batch rows_mismatch = RegressionBatch(3, 2, 1);
  *rows_mismatch.mutable_targets() = RegressionBatch(2, 2, 1).targets();
  EXPECT_EQ(TrainStepCode("s", rows_mismatch), kInvalid);
  v1::Tensor flat;
  flat.add_shape(4);
  for (int i = 0; i < 4; ++i) flat.add_data(1);
  EXPECT_EQ(PredictCode("s", flat), kInvalid);
  EXPECT_EQ(PredictCode("s", RegressionBatch(2, 5, 1).x()), kInvalid);
  EXPECT_EQ(EvaluateCode("s", RegressionBatch(2, 5, 1)), kInvalid);
}

TEST_F(BadInputTest, NonFiniteValuesAreRejected) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    v1::Batch batch = RegressionBatch(3, 2, 1);
    batch.mutable_x()->set_data(3, bad);
    std::string message;
    EXPECT_EQ(TrainStepCode("s", batch, &message), kInvalid);
    EXPECT_THAT(message, HasSubstr("batch.x[1, 1]"));
    EXPECT_EQ(PredictCode("s", batch.x()), kInvalid);
    EXPECT_EQ(EvaluateCode("s", batch), kInvalid);
    v1::Batch bad_target = RegressionBatch(3, 2, 1);
    bad_target.mutable_targets()->set_data(2, bad);
    EXPECT_EQ(TrainStepCode("s", bad_target), kInvalid);
    EXPECT_EQ(Upload(stub(), "nan", {RegressionBatch(2, 2, 1), batch}).error_code(), kInvalid);
  }
}

TEST_F(BadInputTest, EmptyInputs) {
  EXPECT_EQ(TrainStepCode("s", v1::Batch()), kInvalid);
  EXPECT_EQ(PredictCode("s", v1::Tensor()), kInvalid);
  v1::Batch no_targets;
  *no_targets.mutable_x() = RegressionBatch(2, 2, 1).x();
  EXPECT_EQ(TrainStepCode("s", no_targets), kInvalid);
  v1::Batch zero_rows;
  zero_rows.mutable_x()->add_shape(0);
  zero_rows.mutable_x()->add_shape(2);
  EXPECT_EQ(TrainStepCode("s", zero_rows), kInvalid);
  EXPECT_EQ(Upload(stub(), "empty", {}).error_code(), kInvalid);
  grpc::ClientContext context;
  v1::EvaluateRequest evaluate;
  evaluate.set_name("s");
  v1::EvalResult response;
  EXPECT_EQ(stub().Evaluate(&context, evaluate, &response).error_code(), kInvalid);
}

TEST_F(BadInputTest, LabelsOutOfRangeOrOfTheWrongKind) {
  std::string message;
  v1::Batch batch = ClassificationBatch(4, 2, 3);
  batch.set_labels(2, 3);
  EXPECT_EQ(TrainStepCode("clf", batch, &message), kInvalid);
  EXPECT_THAT(message, HasSubstr("batch.labels[2] is 3"));
  batch.set_labels(2, -1);
  EXPECT_EQ(TrainStepCode("clf", batch), kInvalid);
  EXPECT_EQ(EvaluateCode("clf", batch), kInvalid);
  EXPECT_EQ(TrainStepCode("clf", RegressionBatch(4, 2, 3)), kInvalid);    // Targets for CE.
  EXPECT_EQ(TrainStepCode("s", ClassificationBatch(4, 2, 1)), kInvalid);  // Labels for MSE.
  // Labels name a class among 2 or more outputs; "s" has 1, so even evaluation refuses them.
  EXPECT_EQ(EvaluateCode("s", ClassificationBatch(4, 2, 1)), kInvalid);
  v1::Batch both = RegressionBatch(2, 2, 1);
  both.add_labels(0);
  both.add_labels(0);
  EXPECT_EQ(TrainStepCode("s", both), kInvalid);
  v1::Batch wrong_count = ClassificationBatch(4, 2, 3);
  wrong_count.mutable_labels()->RemoveLast();
  EXPECT_EQ(TrainStepCode("clf", wrong_count), kInvalid);
}

TEST_F(BadInputTest, InvalidSpecsAndTakenNames) {
  v1::ModelSpec no_layers = LinearSpec();
  no_layers.clear_layers();
  EXPECT_EQ(Create(stub(), "x", no_layers).error_code(), kInvalid);
  v1::ModelSpec unspecified = LinearSpec();
  unspecified.mutable_layers(0)->set_activation(v1::ACTIVATION_UNSPECIFIED);
  EXPECT_EQ(Create(stub(), "x", unspecified).error_code(), kInvalid);
  v1::ModelSpec bad_rate = LinearSpec();
  bad_rate.mutable_optimizer()->set_learning_rate(-1);
  EXPECT_EQ(Create(stub(), "x", bad_rate).error_code(), kInvalid);
  v1::ModelSpec zero_input = LinearSpec();
  zero_input.set_input_size(0);
  EXPECT_EQ(Create(stub(), "x", zero_input).error_code(), kInvalid);
  grpc::ClientContext context;
  v1::CreateSessionRequest missing;
  missing.set_name("x");
  v1::SessionInfo info;
  EXPECT_EQ(stub().CreateSession(&context, missing, &info).error_code(), kInvalid);
  EXPECT_EQ(Create(stub(), "s", LinearSpec()).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Upload(stub(), "d", {RegressionBatch(2, 2, 1)}).ok());
  EXPECT_EQ(Upload(stub(), "d", {RegressionBatch(2, 2, 1)}).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(BadInputTest, OversizedMessagesAndLimits) {
  // 64 MiB is the default message limit: a 20M-float batch does not fit.
  v1::Batch huge;
  huge.mutable_x()->add_shape(10000000);
  huge.mutable_x()->add_shape(2);
  huge.mutable_x()->mutable_data()->Resize(20000000, 0.5f);
  *huge.mutable_targets() = MakeTensor(1, 1, [](int64_t, int64_t) { return 0.0f; });
  EXPECT_EQ(TrainStepCode("s", huge), grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::ModelSpec big = LinearSpec(100000, 2000);  // 200M parameters > --max-session-params.
  const grpc::Status status = Create(stub(), "big", big);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--max-session-params"));
}

TEST_F(BadInputTest, UploadChunksMustAgree) {
  EXPECT_EQ(Upload(stub(), "u", {RegressionBatch(2, 2, 1), RegressionBatch(2, 3, 1)}).error_code(),
            kInvalid);
  EXPECT_EQ(
      Upload(stub(), "u", {RegressionBatch(2, 2, 1), ClassificationBatch(2, 2, 2)}).error_code(),
      kInvalid);
  EXPECT_EQ(Upload(stub(), "u", {RegressionBatch(2, 2, 1), RegressionBatch(2, 2, 2)}).error_code(),
            kInvalid);
  // A stream that ends before the rows its first chunk announced registers nothing.
  const grpc::Status short_stream =
      Upload(stub(), "u", {RegressionBatch(2, 2, 1), RegressionBatch(2, 2, 1)}, nullptr, 5);
  EXPECT_EQ(short_stream.error_code(), kInvalid);
  EXPECT_NE(short_stream.error_message().find("ended after 4 rows in 2 chunks; its first chunk "
                                              "announced total_rows 5"),
            std::string::npos)
      << short_stream.error_message();
  EXPECT_EQ(Upload(stub(), "u", {RegressionBatch(2, 2, 1)}, nullptr, -1).error_code(), kInvalid);
  grpc::ClientContext context;
  v1::GetDatasetRequest get;
  get.set_name("u");
  v1::DatasetInfo info;
  EXPECT_EQ(stub().GetDataset(&context, get, &info).error_code(), kNotFound);
  // The announced count matched: registered.
  EXPECT_TRUE(
      Upload(stub(), "u", {RegressionBatch(2, 2, 1), RegressionBatch(3, 2, 1)}, nullptr, 5).ok());
}

TEST_F(BadInputTest, TrainArgumentsAndExportImportFormats) {
  ASSERT_TRUE(Upload(stub(), "rows", {RegressionBatch(4, 2, 1)}).ok());
  ASSERT_TRUE(Upload(stub(), "wide", {RegressionBatch(4, 3, 1)}).ok());
  v1::TrainRequest train = TrainOf("s", "rows", 0);
  EXPECT_EQ(RunTrain(stub(), train).error_code(), kInvalid);
  train.set_epochs(1);
  train.set_batch_size(-1);
  EXPECT_EQ(RunTrain(stub(), train).error_code(), kInvalid);
  train.set_batch_size(0);
  train.set_dataset("wide");
  EXPECT_EQ(RunTrain(stub(), train).error_code(), kInvalid);
  train.set_dataset("rows");
  train.set_eval_dataset("wide");
  EXPECT_EQ(RunTrain(stub(), train).error_code(), kInvalid);

  std::string bytes;
  EXPECT_EQ(ExportBytes(stub(), "s", v1::EXPORT_FORMAT_UNSPECIFIED, &bytes).error_code(), kInvalid);
  // A number without a name.
  const grpc::Status unknown_format =
      ExportBytes(stub(), "s", static_cast<v1::ExportFormat>(7), &bytes);
  EXPECT_EQ(unknown_format.error_code(), kInvalid);
  EXPECT_NE(unknown_format.error_message().find("format is 7;"), std::string::npos)
      << unknown_format.error_message();

  for (const std::string& data : {std::string(), std::string("garbage\xff\xff\xff"),
                                  Exported(stub(), "s").SerializeAsString()}) {
    for (v1::ExportFormat format : {v1::EXPORT_FORMAT_NATIVE, v1::EXPORT_FORMAT_ONNX}) {
      const grpc::Status status = ImportBytes(stub(), "imported", format, data);
      if (format == v1::EXPORT_FORMAT_NATIVE && data.size() > 20) {
        EXPECT_TRUE(status.ok()) << status.error_message();
      } else {
        EXPECT_EQ(status.error_code(), kInvalid);
      }
    }
  }
  v1::Checkpoint no_spec = Exported(stub(), "s");
  no_spec.clear_spec();
  const grpc::Status no_spec_status = Import(stub(), "no-spec", no_spec);
  EXPECT_EQ(no_spec_status.error_code(), kInvalid);
  EXPECT_NE(no_spec_status.error_message().find("holds no spec"), std::string::npos)
      << no_spec_status.error_message();
  v1::Checkpoint wrong_version = Exported(stub(), "s");
  wrong_version.set_format_version(99);
  EXPECT_EQ(Import(stub(), "v99", wrong_version).error_code(), kInvalid);
  v1::Checkpoint short_parameters = Exported(stub(), "s");
  short_parameters.mutable_parameters()->RemoveLast();
  EXPECT_EQ(Import(stub(), "short", short_parameters).error_code(), kInvalid);
  grpc::ClientContext get_context;
  v1::GetSessionRequest get;
  get.set_name("short");
  v1::SessionInfo info;
  EXPECT_EQ(stub().GetSession(&get_context, get, &info).error_code(), kNotFound);
}

// Train checks every row and its length before the first step: a refused call applies none.
TEST_F(BadInputTest, TrainChecksTheWholeDatasetAndItsLengthFirst) {
  v1::ModelSpec spec = LinearSpec(2, 1);
  spec.mutable_loss()->set_kind(v1::LOSS_KIND_LOGISTIC);
  spec.mutable_loss()->set_reduction(v1::REDUCTION_MEAN);
  ASSERT_TRUE(Create(stub(), "lg", spec).ok());
  auto with_targets = [](std::vector<float> values) {
    v1::Batch batch = RegressionBatch(static_cast<int64_t>(values.size()), 2, 1);
    for (size_t i = 0; i < values.size(); ++i) batch.mutable_targets()->set_data(i, values[i]);
    return batch;
  };
  ASSERT_TRUE(Upload(stub(), "good", {with_targets({1, -1, 1, -1, 1, -1, 1, -1})}).ok());
  // Logistic targets are -1 or +1; row 5 is not, in the second mini-batch of 4.
  ASSERT_TRUE(Upload(stub(), "mixed", {with_targets({1, -1, 1, -1, 1, 0.5f, 1, -1})}).ok());
  ASSERT_TRUE(Upload(stub(), "zero-one", {with_targets({1, 0, 1, 0})}).ok());

  v1::TrainRequest train = TrainOf("lg", "mixed", 1, 4);
  grpc::Status status = RunTrain(stub(), train);
  EXPECT_EQ(status.error_code(), kInvalid);
  EXPECT_NE(status.error_message().find("dataset \"mixed\": targets[5, 0] is 0.5"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(Info(stub(), "lg").step_count(), 0);

  train.set_dataset("good");
  train.set_eval_dataset("zero-one");
  status = RunTrain(stub(), train);
  EXPECT_EQ(status.error_code(), kInvalid);
  EXPECT_NE(status.error_message().find("eval_dataset \"zero-one\""), std::string::npos)
      << status.error_message();
  train.clear_eval_dataset();

  train.set_batch_size(1);
  train.set_epochs(int64_t{1} << 61);  // 8 steps each: 2^64 steps.
  status = RunTrain(stub(), train);
  EXPECT_EQ(status.error_code(), kInvalid);
  EXPECT_NE(status.error_message().find("epochs is 2305843009213693952"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(Info(stub(), "lg").step_count(), 0);

  // A batch larger than the dataset is the whole dataset.
  train.set_epochs(2);
  train.set_batch_size(std::numeric_limits<int64_t>::max());
  std::vector<v1::TrainResponse> events;
  ASSERT_TRUE(RunTrain(stub(), train, &events).ok());
  EXPECT_EQ(events.back().summary().steps(), 2);
  EXPECT_EQ(Info(stub(), "lg").step_count(), 2);
}

// While an import is being checked (it may yet be refused), GetSession and ListSessions do not
// show it.
TEST_F(BadInputTest, AnImportBeingCheckedIsNotListedOrFound) {
  v1::ModelSpec spec = LinearSpec(3000, 3000);  // 9M parameters: checking takes a while.
  ASSERT_TRUE(Create(stub(), "big", spec).ok());
  v1::Checkpoint checkpoint = Exported(stub(), "big");
  ASSERT_TRUE(Delete(stub(), "big").ok());
  checkpoint.set_parameters(checkpoint.parameters_size() - 1, NAN);
  std::atomic<bool> done{false};
  std::thread importer([&] {
    EXPECT_EQ(Import(stub(), "ghost", checkpoint).error_code(), kInvalid);
    done = true;
  });
  int looks = 0;
  while (!done) {
    grpc::ClientContext get_context;
    v1::GetSessionRequest get;
    get.set_name("ghost");
    v1::SessionInfo info;
    EXPECT_EQ(stub().GetSession(&get_context, get, &info).error_code(), kNotFound);
    grpc::ClientContext list_context;
    v1::ListSessionsRequest list;
    v1::ListSessionsResponse listed;
    EXPECT_TRUE(stub().ListSessions(&list_context, list, &listed).ok());
    for (const v1::SessionInfo& session : listed.sessions()) EXPECT_NE(session.name(), "ghost");
    ++looks;
  }
  importer.join();
  EXPECT_GT(looks, 0);
}

TEST_F(BadInputTest, ListPageSizeMustNotBeNegative) {
  grpc::ClientContext context;
  v1::ListSessionsRequest request;
  request.set_page_size(-1);
  v1::ListSessionsResponse response;
  EXPECT_EQ(stub().ListSessions(&context, request, &response).error_code(), kInvalid);
}

TEST_F(BadInputTest, SaveSessionWithoutDataDirIsAFailedPrecondition) {
  EXPECT_EQ(Save(stub(), "s").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace mlpd::testing

namespace mlpd::testing {
namespace {

TEST(LimitsTest, SessionAndDatasetLimitsNameTheFlag) {
  ServerOptions options;
  options.max_sessions = 2;
  options.max_datasets_mb = 1;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "a", LinearSpec()).ok());
  ASSERT_TRUE(Create(server.stub(), "b", LinearSpec()).ok());
  grpc::Status status = Create(server.stub(), "c", LinearSpec());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max-sessions is 2"), std::string::npos)
      << status.error_message();
  // 2 x 100k rows of 2 floats plus a target is 2.4 MB, over the 1 MiB budget.
  status =
      Upload(server.stub(), "big", {RegressionBatch(100000, 2, 1), RegressionBatch(100000, 2, 1)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max-datasets-mb"), std::string::npos)
      << status.error_message();
  // The refused upload released its budget: a small one fits.
  EXPECT_TRUE(Upload(server.stub(), "small", {RegressionBatch(1000, 2, 1)}).ok());
  EXPECT_EQ(server.server().service().dataset_count(), 1);
}

TEST(LimitsTest, ZeroDatasetMegabytesMeansNoLimitLikeZeroSessionMegabytes) {
  ServerOptions options;
  options.max_datasets_mb = 0;
  options.max_sessions_mb = 0;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "a", LinearSpec()).ok());
  const grpc::Status status = Upload(server.stub(), "rows", {RegressionBatch(1000, 2, 1)});
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(server.server().service().dataset_count(), 1);
  EXPECT_EQ(server.server().service().OverLimits(), "");
}

TEST(LimitsTest, APredictionOverTheMessageLimitIsRefusedBeforeTheWork) {
  ServerOptions options;
  options.max_message_mb = 1;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "wide", LinearSpec(2, 1000)).ok());
  // 300 rows of 1000 outputs answer 1.2 MB; the 2.4 KB request is small.
  grpc::ClientContext context;
  v1::PredictRequest request;
  request.set_name("wide");
  *request.mutable_x() = RegressionBatch(300, 2, 1).x();
  v1::PredictResponse response;
  const grpc::Status status = server.stub().Predict(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max-message-mb of 1 MiB"), std::string::npos)
      << status.error_message();
  grpc::ClientContext fewer_context;
  *request.mutable_x() = RegressionBatch(200, 2, 1).x();
  EXPECT_TRUE(server.stub().Predict(&fewer_context, request, &response).ok());
  EXPECT_EQ(response.outputs().shape(0), 200);
}

TEST(LimitsTest, SessionMemoryLimitCountsParametersAndOptimizerState) {
  ServerOptions options;
  options.max_sessions_mb = 1;
  TestServer server(options);
  const MlpdService& service = server.server().service();
  // 100-200-200-10 has 62,410 parameters: 0.71 MiB with Adam's two moments, 0.24 with SGD.
  const v1::ModelSpec adam =
      MlpSpec(100, 200, 10, v1::LOSS_KIND_CROSS_ENTROPY, v1::OPTIMIZER_KIND_ADAM);
  const v1::ModelSpec sgd =
      MlpSpec(100, 200, 10, v1::LOSS_KIND_CROSS_ENTROPY, v1::OPTIMIZER_KIND_SGD);
  constexpr int64_t kAdamBytes = 62410 * 3 * 4, kSgdBytes = 62410 * 4;
  ASSERT_TRUE(Create(server.stub(), "adam", adam).ok());
  EXPECT_EQ(service.session_bytes(), kAdamBytes);

  grpc::Status status = Create(server.stub(), "adam-2", adam);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max-sessions-mb is 1"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(service.session_bytes(), kAdamBytes);

  ASSERT_TRUE(Create(server.stub(), "sgd", sgd).ok());
  EXPECT_EQ(service.session_bytes(), kAdamBytes + kSgdBytes);
  // An import is a new session and counts alike.
  const v1::Checkpoint checkpoint = Exported(server.stub(), "adam");
  EXPECT_EQ(Import(server.stub(), "copy", checkpoint).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // A deleted session gives its memory back.
  ASSERT_TRUE(Delete(server.stub(), "adam").ok());
  EXPECT_EQ(service.session_bytes(), kSgdBytes);
  EXPECT_TRUE(Import(server.stub(), "copy", checkpoint).ok());
  EXPECT_EQ(service.session_bytes(), kAdamBytes + kSgdBytes);
  EXPECT_EQ(service.session_count(), 2);
}

TEST_F(ServiceTest, ExpectedStepMakesARetriedStepApplyOnce) {
  v1::SessionInfo info;
  ASSERT_TRUE(Create(stub(), "retry", LinearSpec(3, 2), &info).ok());
  const v1::Batch batch = RegressionBatch(4, 3, 2);
  auto step = [&](int64_t expected_step, v1::TrainStepResponse* response) {
    grpc::ClientContext context;
    v1::TrainStepRequest request;
    request.set_name("retry");
    *request.mutable_batch() = batch;
    request.set_expected_step(expected_step);
    return stub().TrainStep(&context, request, response);
  };
  v1::TrainStepResponse first;
  ASSERT_TRUE(step(0, &first).ok());
  EXPECT_EQ(first.step(), 1);
  const std::string after_first = Exported(stub(), "retry").SerializeAsString();

  // The same step again, as a client retries after a lost answer: refused, nothing applied.
  v1::TrainStepResponse retried;
  const grpc::Status status = step(0, &retried);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("expected_step is 0, the session's step count is 1; nothing was applied"));
  EXPECT_EQ(Exported(stub(), "retry").SerializeAsString(), after_first);

  ASSERT_TRUE(step(1, &retried).ok());
  EXPECT_EQ(retried.step(), 2);
  // Without expected_step a step applies whatever the count.
  ASSERT_TRUE(Step(stub(), "retry", batch, &retried).ok());
  EXPECT_EQ(retried.step(), 3);
}

TEST(ServerInfoServiceTest, GetServerInfoAnswersTheServersOptions) {
  ServerOptions options;
  options.max_sessions = 3;
  options.max_message_mb = 9;
  const int64_t before = absl::ToUnixMillis(absl::Now());
  TestServer server(options);
  const int64_t after = absl::ToUnixMillis(absl::Now());
  grpc::ClientContext context;
  v1::ServerInfo info;
  const grpc::Status status = server.stub().GetServerInfo(&context, {}, &info);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(info.limits().max_sessions(), 3);
  EXPECT_EQ(info.limits().max_message_bytes(), 9 << 20);
  EXPECT_EQ(info.limits().max_session_params(), ServerOptions().max_session_params);
  EXPECT_GE(info.start_time_unix_ms(), before);
  EXPECT_LE(info.start_time_unix_ms(), after);
  EXPECT_FALSE(info.version().empty());
  // A server without a data dir keeps nothing and asks no token.
  EXPECT_THAT(info.features(), ::testing::ElementsAre("expected_step", "jobs"));
}

}  // namespace
}  // namespace mlpd::testing
