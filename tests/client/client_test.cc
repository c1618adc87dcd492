// The client library against a real in-process mlpd server (and, for the metadata it sends and
// the paging and streams of jobs, scripted services): every RPC's happy path, status codes
// passed through unchanged, chunked uploads, Train progress and cancellation, jobs watched,
// left and cancelled, deadlines and message limits.
#include "client/client.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/batch_proto.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/client/scripted_server.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

// Dataset of `rows` rows of 2 inputs and 1 target (a linear function, so training helps).
Dataset LinearDataset(int64_t rows) {
  Dataset dataset;
  dataset.x.rows = rows;
  dataset.x.cols = 2;
  dataset.targets.rows = rows;
  dataset.targets.cols = 1;
  for (int64_t i = 0; i < rows; ++i) {
    const float a = static_cast<float>(i % 7) / 7.0f, b = static_cast<float>(i % 5) / 5.0f;
    dataset.x.data.push_back(a);
    dataset.x.data.push_back(b);
    dataset.targets.data.push_back(0.5f * a - 0.25f * b);
  }
  return dataset;
}

v1::ModelSpec SmallSpec() {
  v1::ModelSpec spec;
  spec.set_input_size(2);
  v1::LayerSpec* hidden = spec.add_layers();
  hidden->set_units(4);
  hidden->set_activation(v1::ACTIVATION_TANH);
  v1::LayerSpec* output = spec.add_layers();
  output->set_units(1);
  output->set_activation(v1::ACTIVATION_IDENTITY);
  spec.mutable_loss()->set_kind(v1::LOSS_KIND_MSE);
  spec.mutable_loss()->set_reduction(v1::REDUCTION_MEAN);
  spec.mutable_optimizer()->set_kind(v1::OPTIMIZER_KIND_SGD);
  spec.mutable_optimizer()->set_learning_rate(0.1f);
  spec.mutable_init()->set_kind(v1::INIT_KIND_XAVIER);
  spec.mutable_init()->set_seed(1);
  return spec;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    absl::StatusOr<int> port = server_.Start(options);
    ASSERT_TRUE(port.ok()) << port.status();
    ClientOptions client_options;
    client_options.target = absl::StrCat("127.0.0.1:", *port);
    client_options.timeout = absl::Seconds(30);
    // Small chunks so even the tests' small datasets travel in several messages.
    client_options.upload_chunk_bytes = 40;
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(client_options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  void TearDown() override { server_.Shutdown(); }

  Server server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, HealthIsServing) {
  absl::StatusOr<HealthStatus> status = client_->Health();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, HealthStatus::kServing);
  EXPECT_STREQ(HealthStatusName(*status), "SERVING");
}

TEST_F(ClientTest, HealthOfOneServiceAndOfAnUnknownOne) {
  absl::StatusOr<HealthStatus> status = client_->Health("mlpd.v1.Mlpd");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, HealthStatus::kServing);
  EXPECT_EQ(client_->Health("no.such.Service").status().code(), absl::StatusCode::kNotFound);
  EXPECT_STREQ(HealthStatusName(HealthStatus::kNotServing), "NOT_SERVING");
  EXPECT_STREQ(HealthStatusName(HealthStatus::kServiceUnknown), "SERVICE_UNKNOWN");
  EXPECT_STREQ(HealthStatusName(HealthStatus::kUnknown), "UNKNOWN");
}

TEST_F(ClientTest, SessionLifecycleAndExportImportRoundTrip) {
  absl::StatusOr<v1::SessionInfo> created = client_->CreateSession("alpha", SmallSpec());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->parameter_count(), 2 * 4 + 4 + 4 * 1 + 1);
  EXPECT_EQ(client_->CreateSession("alpha", SmallSpec()).status().code(),
            absl::StatusCode::kAlreadyExists);

  Dataset data = LinearDataset(8);
  v1::Batch batch;
  DatasetRowsToBatch(data, 0, data.rows(), &batch);
  absl::StatusOr<v1::TrainStepResponse> step = client_->TrainStep("alpha", batch, {}, 0);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->step(), 1);
  // The same step retried with the step count it expected: refused, not applied twice.
  EXPECT_EQ(client_->TrainStep("alpha", batch, {}, 0).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(client_->GetSession("alpha")->step_count(), 1);

  absl::StatusOr<std::string> exported = client_->ExportSession("alpha", v1::EXPORT_FORMAT_NATIVE);
  ASSERT_TRUE(exported.ok()) << exported.status();
  absl::StatusOr<v1::SessionInfo> imported =
      client_->ImportSession("beta", v1::EXPORT_FORMAT_NATIVE, *exported);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->step_count(), 1);

  // The imported copy predicts exactly what the original does.
  v1::Tensor x;
  MatrixRowsToTensor(data.x.view(), 0, data.rows(), &x);
  absl::StatusOr<v1::PredictResponse> original = client_->Predict("alpha", x);
  absl::StatusOr<v1::PredictResponse> copy = client_->Predict("beta", x);
  ASSERT_TRUE(original.ok() && copy.ok());
  absl::StatusOr<Matrix> outputs = TensorToMatrix(original->outputs(), "outputs");
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  EXPECT_EQ(outputs->rows, 8);
  EXPECT_EQ(outputs->cols, 1);
  EXPECT_EQ(original->outputs().data_size(), copy->outputs().data_size());
  for (int i = 0; i < original->outputs().data_size(); ++i) {
    EXPECT_EQ(original->outputs().data(i), copy->outputs().data(i));
  }

  // 8 rows of 8 bytes in 40-byte requests: PredictRows sends 5 + 3 rows and joins them.
  absl::StatusOr<v1::PredictResponse> chunked = client_->PredictRows("alpha", data.x.view());
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_THAT(chunked->outputs().shape(), ::testing::ElementsAre(8, 1));
  ASSERT_EQ(chunked->outputs().data_size(), original->outputs().data_size());
  for (int i = 0; i < chunked->outputs().data_size(); ++i) {
    EXPECT_EQ(chunked->outputs().data(i), original->outputs().data(i));
  }

  absl::StatusOr<std::vector<v1::SessionInfo>> sessions = client_->ListSessions();
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  ASSERT_EQ(sessions->size(), 2u);
  EXPECT_EQ((*sessions)[0].name(), "alpha");
  EXPECT_EQ((*sessions)[1].name(), "beta");

  ASSERT_TRUE(client_->DeleteSession("alpha").ok());
  EXPECT_EQ(client_->GetSession("alpha").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(client_->GetSession("beta").ok());
  absl::StatusOr<int64_t> saved = client_->SaveSession("beta");
  // Without a data dir the server may refuse to save; either way the code comes through.
  if (!saved.ok()) {
    EXPECT_NE(saved.status().code(), absl::StatusCode::kUnknown);
  }
}

// The bar for streamed export and import: a 20 M-parameter Adam session (240 MB of
// parameters and moments, near four times the default 64 MiB message limit) leaves as NATIVE
// and comes back exactly, with the server's and the client's default message limits.
TEST(ClientModelTransferTest, ATwentyMillionParameterAdamSessionRoundTripsAtTheDefaultLimit) {
  Server server;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  ASSERT_EQ(options.max_message_mb << 20, kDefaultMaxMessageBytes);
  absl::StatusOr<int> port = server.Start(options);
  ASSERT_TRUE(port.ok()) << port.status();
  ClientOptions client_options;
  client_options.target = absl::StrCat("127.0.0.1:", *port);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(client_options);
  ASSERT_TRUE(client.ok()) << client.status();

  // 2000 -> 4000 -> 3000: 20,007,000 parameters.
  v1::ModelSpec spec;
  spec.set_input_size(2000);
  v1::LayerSpec* hidden = spec.add_layers();
  hidden->set_units(4000);
  hidden->set_activation(v1::ACTIVATION_TANH);
  v1::LayerSpec* output = spec.add_layers();
  output->set_units(3000);
  output->set_activation(v1::ACTIVATION_IDENTITY);
  spec.mutable_loss()->set_kind(v1::LOSS_KIND_MSE);
  spec.mutable_optimizer()->set_kind(v1::OPTIMIZER_KIND_ADAM);
  spec.mutable_optimizer()->set_learning_rate(1e-3f);
  spec.mutable_init()->set_kind(v1::INIT_KIND_XAVIER);
  spec.mutable_init()->set_seed(3);
  absl::StatusOr<v1::SessionInfo> created = (*client)->CreateSession("big", spec);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->parameter_count(), 20007000);
  // One step, so the moments are not all zero.
  v1::Batch batch;
  batch.mutable_x()->add_shape(2);
  batch.mutable_x()->add_shape(2000);
  for (int i = 0; i < 2 * 2000; ++i) batch.mutable_x()->add_data(static_cast<float>(i % 13) / 13);
  batch.mutable_targets()->add_shape(2);
  batch.mutable_targets()->add_shape(3000);
  for (int i = 0; i < 2 * 3000; ++i) batch.mutable_targets()->add_data((i % 7) * 0.1f);
  ASSERT_TRUE((*client)->TrainStep("big", batch).ok());

  absl::StatusOr<std::string> exported = (*client)->ExportSession("big", v1::EXPORT_FORMAT_NATIVE);
  ASSERT_TRUE(exported.ok()) << exported.status();
  // Parameters and two moments of 4 bytes each: far more than one message may carry.
  EXPECT_GT(exported->size(), size_t{3} * 4 * 20007000 - 1);
  EXPECT_GT(exported->size(), static_cast<size_t>(kDefaultMaxMessageBytes));
  absl::StatusOr<v1::SessionInfo> imported =
      (*client)->ImportSession("big-copy", v1::EXPORT_FORMAT_NATIVE, *exported);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->parameter_count(), 20007000);
  EXPECT_EQ(imported->step_count(), 1);

  // Exactly: the copy exports the same bytes (parameters, both moments, counters, spec).
  absl::StatusOr<std::string> again =
      (*client)->ExportSession("big-copy", v1::EXPORT_FORMAT_NATIVE);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(*again == *exported) << "the imported copy exports differently";
  server.Shutdown();
}

TEST_F(ClientTest, ServerRefusalsKeepTheirCodeAndMessage) {
  ASSERT_TRUE(client_->CreateSession("gamma", SmallSpec()).ok());
  v1::Tensor wrong_width;
  wrong_width.add_shape(1);
  wrong_width.add_shape(3);
  wrong_width.add_data(1);
  wrong_width.add_data(2);
  wrong_width.add_data(3);
  absl::Status status = client_->Predict("gamma", wrong_width).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("3"));
  EXPECT_EQ(client_->Evaluate("gamma", "no-such-dataset").status().code(),
            absl::StatusCode::kNotFound);
  v1::ModelSpec bad = SmallSpec();
  bad.set_input_size(0);
  EXPECT_EQ(client_->CreateSession("delta", bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateSession("../x", SmallSpec()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, ChunkedUploadArrivesWholeAndTrainReportsEveryStep) {
  const Dataset data = LinearDataset(50);  // 12 bytes a row, 40-byte chunks: 17 messages.
  ASSERT_GT(data.rows(), RowsPerChunk(data, 40));
  absl::StatusOr<v1::DatasetInfo> info = client_->UploadDataset("lines", data);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 50);
  EXPECT_EQ(info->input_size(), 2);
  EXPECT_EQ(info->target_size(), 1);
  absl::StatusOr<std::vector<v1::DatasetInfo>> datasets = client_->ListDatasets();
  ASSERT_TRUE(datasets.ok());
  ASSERT_EQ(datasets->size(), 1u);
  EXPECT_EQ(client_->GetDataset("lines")->rows(), 50);

  ASSERT_TRUE(client_->CreateSession("lines", SmallSpec()).ok());
  absl::StatusOr<v1::EvalResult> before = client_->Evaluate("lines", "lines");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->count(), 50);

  v1::TrainRequest request;
  request.set_name("lines");
  request.set_dataset("lines");
  request.set_epochs(3);
  request.set_batch_size(10);
  request.set_report_every_steps(1);
  std::vector<v1::TrainProgress> reports;
  absl::StatusOr<v1::TrainSummary> summary = client_->Train(
      request, [&](const v1::TrainProgress& progress) { reports.push_back(progress); });
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->steps(), 15);
  EXPECT_EQ(summary->epochs(), 3);
  ASSERT_EQ(reports.size(), 15u);
  EXPECT_EQ(reports.back().steps_done(), 15);
  EXPECT_EQ(reports.back().steps_total(), 15);
  EXPECT_EQ(client_->GetSession("lines")->step_count(), 15);
  absl::StatusOr<v1::EvalResult> after = client_->Evaluate("lines", "lines");
  ASSERT_TRUE(after.ok());
  EXPECT_LT(after->loss(), before->loss());

  ASSERT_TRUE(client_->DeleteDataset("lines").ok());
  EXPECT_EQ(client_->GetDataset("lines").status().code(), absl::StatusCode::kNotFound);
}

// EndlessRequest trains session `name` on `dataset` a row at a time for far more epochs than
// a test could wait for, reporting every 10 steps.
v1::TrainRequest EndlessRequest(const std::string& name, const std::string& dataset) {
  v1::TrainRequest request;
  request.set_name(name);
  request.set_dataset(dataset);
  request.set_epochs(1000000);
  request.set_batch_size(1);
  request.set_report_every_steps(10);
  return request;
}

TEST_F(ClientTest, CancelStopsTrainAndKeepsTheAppliedSteps) {
  ASSERT_TRUE(client_->UploadDataset("many", LinearDataset(64)).ok());
  ASSERT_TRUE(client_->CreateSession("long", SmallSpec()).ok());
  const v1::TrainRequest request = EndlessRequest("long", "many");
  Cancellation cancellation;
  CallOptions call;
  call.cancellation = &cancellation;
  int64_t reported = 0;
  absl::StatusOr<v1::TrainSummary> summary = client_->Train(
      request,
      [&](const v1::TrainProgress& progress) {
        reported = progress.steps_done();
        cancellation.Cancel();
      },
      call);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(cancellation.cancelled());
  EXPECT_GE(reported, 10);
  absl::StatusOr<v1::SessionInfo> session = client_->GetSession("long");
  ASSERT_TRUE(session.ok());
  EXPECT_GE(session->step_count(), reported);
  EXPECT_LT(session->step_count(), 64 * 1000000);
  // A cancelled Cancellation stops the next call before it starts.
  EXPECT_EQ(client_->GetSession("long", call).status().code(), absl::StatusCode::kCancelled);
}

TEST_F(ClientTest, TrainNamesItsJobAndCancelJobEndsItAfterTheLastStep) {
  ASSERT_TRUE(client_->UploadDataset("many", LinearDataset(64)).ok());
  ASSERT_TRUE(client_->CreateSession("long", SmallSpec()).ok());
  std::string id;
  int64_t reported = 0;
  TrainEvents events;
  events.on_job_id = [&](const std::string& job_id) { id = job_id; };
  events.on_progress = [&](const v1::TrainProgress& progress) {
    EXPECT_FALSE(id.empty()) << "a progress report came before the job id";
    if (reported == 0) EXPECT_TRUE(client_->CancelJob(id).ok());
    reported = progress.steps_done();
  };
  absl::StatusOr<v1::TrainSummary> summary = client_->Train(EndlessRequest("long", "many"), events);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kCancelled) << summary.status();
  EXPECT_THAT(std::string(summary.status().message()), HasSubstr("cancelled by CancelJob"));
  ASSERT_GT(reported, 0);
  // The call ended after the run's last step: the count read now is final.
  absl::StatusOr<v1::SessionInfo> session = client_->GetSession("long");
  ASSERT_TRUE(session.ok());
  EXPECT_GE(session->step_count(), reported);
  EXPECT_THAT(std::string(summary.status().message()),
              HasSubstr(absl::StrCat("after ", session->step_count(), " of ")));
}

TEST_F(ClientTest, ADetachedJobRunsToItsSummaryAndIsListed) {
  ASSERT_TRUE(client_->UploadDataset("rows", LinearDataset(50)).ok());
  ASSERT_TRUE(client_->CreateSession("jobbed", SmallSpec()).ok());
  v1::TrainRequest request;
  request.set_name("jobbed");
  request.set_dataset("rows");
  request.set_epochs(3);
  request.set_batch_size(10);
  request.set_report_every_steps(1);
  absl::StatusOr<v1::Job> job = client_->StartTraining(request);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_FALSE(job->id().empty());
  EXPECT_EQ(job->session(), "jobbed");
  EXPECT_FALSE(job->done());

  std::vector<std::string> events;
  TrainEvents callbacks;
  callbacks.on_job = [&](const v1::Job& state) { events.push_back("job " + state.id()); };
  callbacks.on_progress = [&](const v1::TrainProgress&) { events.push_back("progress"); };
  absl::StatusOr<v1::TrainSummary> summary = client_->WatchJob(job->id(), callbacks);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->steps(), 15);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "job " + job->id());

  absl::StatusOr<v1::Job> done = client_->GetJob(job->id());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_TRUE(done->done());
  EXPECT_EQ(done->steps_done(), 15);
  EXPECT_EQ(client_->GetSession("jobbed")->step_count(), 15);

  JobFilter filter;
  filter.session = "jobbed";
  absl::StatusOr<std::vector<v1::Job>> listed = client_->ListJobs(filter);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id(), job->id());
  filter.state = v1::JOB_STATE_RUNNING;
  EXPECT_TRUE(client_->ListJobs(filter)->empty());
  EXPECT_EQ(client_->GetJob("job-0-0").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientTest, AWatcherThatLeavesDoesNotStopTheJobCancelJobDoes) {
  ASSERT_TRUE(client_->UploadDataset("many", LinearDataset(64)).ok());
  ASSERT_TRUE(client_->CreateSession("endless", SmallSpec()).ok());
  absl::StatusOr<v1::Job> job = client_->StartTraining(EndlessRequest("endless", "many"));
  ASSERT_TRUE(job.ok()) << job.status();

  // The watcher leaves at its first report (as Ctrl-C on mlpctl watch does).
  Cancellation leave;
  CallOptions call;
  call.cancellation = &leave;
  TrainEvents callbacks;
  int64_t seen = 0;
  callbacks.on_progress = [&](const v1::TrainProgress& progress) {
    seen = progress.steps_done();
    leave.Cancel();
  };
  EXPECT_EQ(client_->WatchJob(job->id(), callbacks, call).status().code(),
            absl::StatusCode::kCancelled);
  EXPECT_GE(seen, 10);
  absl::StatusOr<v1::Job> after = client_->GetJob(job->id());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state(), v1::JOB_STATE_RUNNING);

  // A second watcher cancels the job at its first report; its watch then ends CANCELLED.
  callbacks.on_progress = [&](const v1::TrainProgress&) {
    absl::StatusOr<v1::Job> cancelling = client_->CancelJob(job->id());
    EXPECT_TRUE(cancelling.ok()) << cancelling.status();
  };
  EXPECT_EQ(client_->WatchJob(job->id(), callbacks).status().code(), absl::StatusCode::kCancelled);
  absl::StatusOr<v1::Job> cancelled = client_->GetJob(job->id());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::JOB_STATE_CANCELLED);
  EXPECT_TRUE(cancelled->done());
  EXPECT_GT(cancelled->steps_done(), seen);
  // The steps it applied stay applied.
  EXPECT_EQ(client_->GetSession("endless")->step_count(), cancelled->steps_done());
  // Cancelling it again changes nothing and is not an error.
  absl::StatusOr<v1::Job> again = client_->CancelJob(job->id());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(again->steps_done(), cancelled->steps_done());
}

TEST_F(ClientTest, DeadlinesAndMessageLimitsApply) {
  ASSERT_TRUE(client_->CreateSession("limits", SmallSpec()).ok());
  // A call's own timeout bounds even Train, which has no default deadline.
  ASSERT_TRUE(client_->UploadDataset("rows", LinearDataset(64)).ok());
  const v1::TrainRequest endless = EndlessRequest("limits", "rows");
  CallOptions short_deadline;
  short_deadline.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  EXPECT_EQ(client_->Train(endless, nullptr, short_deadline).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));

  ClientOptions small = client_->options();
  small.max_message_bytes = 1024;
  absl::StatusOr<std::unique_ptr<Client>> limited = Client::Create(small);
  ASSERT_TRUE(limited.ok());
  const Dataset data = LinearDataset(1000);  // 8000 bytes of x: over the 1 KiB limit.
  v1::Tensor x;
  MatrixRowsToTensor(data.x.view(), 0, data.rows(), &x);
  EXPECT_EQ((*limited)->Predict("limits", x).status().code(), absl::StatusCode::kResourceExhausted);
  small.max_message_bytes = 0;
  EXPECT_EQ(Client::Create(small).status().code(), absl::StatusCode::kInvalidArgument);
}

// RecordingService answers GetSession with the metadata the client sent, to check the routing
// header and the bearer token.
class RecordingService final : public v1::Mlpd::Service {
  grpc::Status GetSession(grpc::ServerContext* context, const v1::GetSessionRequest* request,
                          v1::SessionInfo* response) override {
    response->set_name(Header(*context, kSessionHeader) + "|" + Header(*context, "authorization"));
    return grpc::Status::OK;
  }
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest*,
                            v1::ListDatasetsResponse* response) override {
    response->add_datasets()->set_name(Header(*context, kSessionHeader));
    return grpc::Status::OK;
  }
  static std::string Header(const grpc::ServerContext& context, const std::string& key) {
    auto found = context.client_metadata().find(key);
    if (found == context.client_metadata().end()) return "";
    return std::string(found->second.data(), found->second.size());
  }
};

TEST(ClientMetadataTest, SessionCallsCarryTheRoutingHeaderAndTheToken) {
  RecordingService service;
  ScriptedServer scripted = StartScripted(&service);
  ASSERT_NE(scripted.server, nullptr);
  ClientOptions options;
  options.target = scripted.target();
  options.token = "s3cret";
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<v1::SessionInfo> info = (*client)->GetSession("digits");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->name(), "digits|Bearer s3cret");

  CallOptions routed;
  routed.routing_session = "digits";
  absl::StatusOr<std::vector<v1::DatasetInfo>> datasets = (*client)->ListDatasets(routed);
  ASSERT_TRUE(datasets.ok());
  EXPECT_EQ((*datasets)[0].name(), "digits");
  EXPECT_EQ((*(*client)->ListDatasets())[0].name(), "");

  // Unimplemented RPCs come back as UNIMPLEMENTED, not as a generic error.
  EXPECT_EQ((*client)->DeleteSession("digits").code(), absl::StatusCode::kUnimplemented);
  scripted.server->Shutdown();
}

// JobService is a scripted job server: five jobs "job-5".."job-1" (newest first), pages of
// page_size, a WatchJob that sends the job, two reports and a summary (or, for "job-2", the
// job's error as the status), and a history of steps 1..4. Each answer carries the routing
// header it received.
class JobService final : public v1::Mlpd::Service {
 public:
  grpc::Status StartTraining(grpc::ServerContext* context, const v1::TrainRequest* request,
                             v1::Job* job) override {
    job->set_id("job-6");
    job->set_session(Header(*context));
    *job->mutable_request() = *request;
    job->set_state(v1::JOB_STATE_QUEUED);
    return grpc::Status::OK;
  }
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* job) override {
    return Find(request->id(), *context, job);
  }
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* job) override {
    grpc::Status status = Find(request->id(), *context, job);
    job->set_state(v1::JOB_STATE_RUNNING);
    return status;
  }
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override {
    page_sizes.push_back(request->page_size());
    int next = request->page_token().empty() ? 5 : std::stoi(request->page_token());
    const int size = request->page_size() > 0 ? request->page_size() : 100;
    for (; next >= 1 && response->jobs_size() < size; --next) {
      v1::Job* job = response->add_jobs();
      job->set_id(absl::StrCat("job-", next));
      job->set_session(absl::StrCat(request->session(), "|", Header(*context)));
      job->set_state(request->state());
    }
    if (next >= 1) response->set_next_page_token(absl::StrCat(next));
    return grpc::Status::OK;
  }
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::TrainResponse>* writer) override {
    v1::TrainResponse event;
    grpc::Status found = Find(request->id(), *context, event.mutable_job());
    if (!found.ok()) return found;
    writer->Write(event);
    for (int step = 1; step <= 2; ++step) {
      event.mutable_progress()->set_steps_done(step);
      writer->Write(event);
    }
    if (request->id() == "job-2") {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "session x was deleted");
    }
    event.mutable_summary()->set_steps(2);
    event.mutable_summary()->set_stop_reason(v1::STOP_REASON_COMPLETED);
    writer->Write(event);
    return grpc::Status::OK;
  }
  grpc::Status GetHistory(grpc::ServerContext* context, const v1::GetHistoryRequest* request,
                          v1::GetHistoryResponse* response) override {
    if (request->name() != "digits" || Header(*context) != "digits") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no session " + request->name());
    }
    for (int64_t step = std::max<int64_t>(1, request->from_step()); step <= 4; ++step) {
      response->add_points()->set_step(step);
    }
    return grpc::Status::OK;
  }

  std::vector<int> page_sizes;

 private:
  static std::string Header(const grpc::ServerContext& context) {
    auto found = context.client_metadata().find(kSessionHeader);
    if (found == context.client_metadata().end()) return "";
    return std::string(found->second.data(), found->second.size());
  }
  static grpc::Status Find(const std::string& id, const grpc::ServerContext& context,
                           v1::Job* job) {
    if (id != "job-1" && id != "job-2") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no job " + id);
    }
    job->set_id(id);
    job->set_session(Header(context));
    job->set_state(v1::JOB_STATE_RUNNING);
    return grpc::Status::OK;
  }
};

class ClientJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ScriptedServer scripted = StartScripted(&service_);
    server_ = std::move(scripted.server);
    ASSERT_NE(server_, nullptr);
    ClientOptions options;
    options.target = scripted.target();
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  void TearDown() override { server_->Shutdown(); }

  JobService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientJobsTest, StartTrainingRoutesByTheSessionAndReturnsTheJob) {
  v1::TrainRequest request;
  request.set_name("digits");
  request.set_dataset("train");
  request.set_epochs(4);
  absl::StatusOr<v1::Job> job = client_->StartTraining(request);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->id(), "job-6");
  EXPECT_EQ(job->session(), "digits");  // The routing header the server received.
  EXPECT_EQ(job->request().epochs(), 4);
}

TEST_F(ClientJobsTest, CallsByJobIdRouteOnlyWhenAskedAndKeepTheServersCode) {
  absl::StatusOr<v1::Job> job = client_->GetJob("job-1");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->session(), "");
  CallOptions routed;
  routed.routing_session = "digits";
  EXPECT_EQ(client_->GetJob("job-1", routed)->session(), "digits");
  EXPECT_EQ(client_->CancelJob("job-1", routed)->session(), "digits");
  absl::Status missing = client_->CancelJob("job-9").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "no job job-9");
}

TEST_F(ClientJobsTest, ListJobsFollowsEveryPageOrStopsAtTheLimit) {
  JobFilter filter;
  filter.session = "digits";
  filter.state = v1::JOB_STATE_RUNNING;
  absl::StatusOr<v1::ListJobsResponse> page = client_->ListJobsPage(filter, 2, "");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->jobs_size(), 2);
  EXPECT_EQ(page->jobs(0).id(), "job-5");
  EXPECT_EQ(page->jobs(0).session(), "digits|digits");  // The filter, and the route from it.
  EXPECT_EQ(page->jobs(0).state(), v1::JOB_STATE_RUNNING);
  page = client_->ListJobsPage(filter, 2, page->next_page_token());
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs(0).id(), "job-3");

  // Pages of at most 1000 until the last page: the five jobs in order.
  service_.page_sizes.clear();
  absl::StatusOr<std::vector<v1::Job>> all = client_->ListJobs(JobFilter{});
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> ids;
  for (const v1::Job& job : *all) ids.push_back(job.id());
  EXPECT_THAT(ids, ::testing::ElementsAre("job-5", "job-4", "job-3", "job-2", "job-1"));
  EXPECT_THAT(service_.page_sizes, ::testing::ElementsAre(1000));

  // A limit asks for no more than it keeps, page after page.
  service_.page_sizes.clear();
  absl::StatusOr<std::vector<v1::Job>> three = client_->ListJobs(JobFilter{}, /*limit=*/3);
  ASSERT_TRUE(three.ok()) << three.status();
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ(three->back().id(), "job-3");
  EXPECT_THAT(service_.page_sizes, ::testing::ElementsAre(3));
}

TEST_F(ClientJobsTest, WatchJobPassesTheJobThenEachReportAndReturnsTheSummary) {
  std::vector<std::string> events;
  TrainEvents callbacks;
  callbacks.on_job = [&](const v1::Job& job) { events.push_back("job " + job.id()); };
  callbacks.on_progress = [&](const v1::TrainProgress& progress) {
    events.push_back(absl::StrCat("progress ", progress.steps_done()));
  };
  absl::StatusOr<v1::TrainSummary> summary = client_->WatchJob("job-1", callbacks);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->steps(), 2);
  EXPECT_EQ(summary->stop_reason(), v1::STOP_REASON_COMPLETED);
  EXPECT_THAT(events, ::testing::ElementsAre("job job-1", "progress 1", "progress 2"));

  // A job that failed: its events, then its error as the status.
  events.clear();
  absl::Status failed = client_->WatchJob("job-2", callbacks).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(failed.message(), "session x was deleted");
  EXPECT_EQ(events.size(), 3u);
  // Empty callbacks are fine; an unknown job is NOT_FOUND.
  EXPECT_TRUE(client_->WatchJob("job-1", TrainEvents{}).ok());
  EXPECT_EQ(client_->WatchJob("job-9", TrainEvents{}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientJobsTest, WatchJobCancelledBeforeItStartsNeverCalls) {
  Cancellation cancellation;
  cancellation.Cancel();
  CallOptions call;
  call.cancellation = &cancellation;
  bool called = false;
  TrainEvents callbacks;
  callbacks.on_job = [&](const v1::Job&) { called = true; };
  EXPECT_EQ(client_->WatchJob("job-1", callbacks, call).status().code(),
            absl::StatusCode::kCancelled);
  EXPECT_FALSE(called);
}

TEST_F(ClientJobsTest, GetHistoryRoutesByTheSessionAndPassesTheRange) {
  absl::StatusOr<std::vector<v1::HistoryPoint>> points = client_->GetHistory("digits");
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 4u);
  EXPECT_EQ(points->front().step(), 1);
  points = client_->GetHistory("digits", /*from_step=*/3);
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 2u);
  EXPECT_EQ(points->front().step(), 3);
  EXPECT_EQ(client_->GetHistory("other").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mlpd
