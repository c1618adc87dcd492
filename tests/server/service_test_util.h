// service_test_util.h: an in-process mlpd server with real stubs, and request builders, for
// the service tests.
//
//   TestServer server;                    // 127.0.0.1:0, no data dir
//   v1::Mlpd::Stub& stub = server.stub();
//   v1::SessionInfo info;
//   grpc::ClientContext context;
//   grpc::Status status = stub.CreateSession(&context, CreateRequest("a", LinearSpec()), &info);
#ifndef MLPD_TESTS_SERVER_SERVICE_TEST_UTIL_H_
#define MLPD_TESTS_SERVER_SERVICE_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "server/server.h"

namespace mlpd::testing {

// TestServer runs a Server on a free loopback port and opens one channel to it.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}) { Start(std::move(options)); }
  ~TestServer() { server_->Shutdown(); }

  void Start(ServerOptions options) {
    options.listen = "127.0.0.1:0";
    if (options.drain_seconds == 10) options.drain_seconds = 2;
    server_ = std::make_unique<Server>();
    absl::StatusOr<int> port = server_->Start(options);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(-1);
    arguments.SetMaxSendMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", *port),
                                         grpc::InsecureChannelCredentials(), arguments);
    stub_ = v1::Mlpd::NewStub(channel_);
  }
  // Restart shuts the server down gracefully and starts a new one with `options`.
  void Restart(ServerOptions options) {
    server_->Shutdown();
    Start(std::move(options));
  }

  v1::Mlpd::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  Server& server() { return *server_; }
  // port is the server's TCP port, for a test that needs a channel of its own.
  int port() const { return port_; }

 private:
  int port_ = 0;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Mlpd::Stub> stub_;
};

// LinearSpec is in -> out identity, MSE sum, SGD: outputs are affine in the input, so a test
// can read the weights back from predictions.
inline v1::ModelSpec LinearSpec(int64_t in = 2, int64_t out = 1, float learning_rate = 0.01f) {
  v1::ModelSpec spec;
  spec.set_input_size(in);
  v1::LayerSpec* layer = spec.add_layers();
  layer->set_units(out);
  layer->set_activation(v1::ACTIVATION_IDENTITY);
  spec.mutable_loss()->set_kind(v1::LOSS_KIND_MSE);
  spec.mutable_loss()->set_reduction(v1::REDUCTION_SUM);
  spec.mutable_optimizer()->set_kind(v1::OPTIMIZER_KIND_SGD);
  spec.mutable_optimizer()->set_learning_rate(learning_rate);
  spec.mutable_init()->set_kind(v1::INIT_KIND_NORMAL);
  spec.mutable_init()->set_scale(0.1f);
  spec.mutable_init()->set_seed(7);
  return spec;
}

// MlpSpec is in-hidden-hidden-out with tanh, for a loss and optimizer.
inline v1::ModelSpec MlpSpec(int64_t in, int64_t hidden, int64_t out, v1::LossKind loss,
                             v1::OptimizerKind optimizer = v1::OPTIMIZER_KIND_ADAM) {
  v1::ModelSpec spec;
  spec.set_input_size(in);
  for (int i = 0; i < 2; ++i) {
    v1::LayerSpec* layer = spec.add_layers();
    layer->set_units(hidden);
    layer->set_activation(v1::ACTIVATION_TANH);
  }
  v1::LayerSpec* last = spec.add_layers();
  last->set_units(out);
  last->set_activation(v1::ACTIVATION_IDENTITY);
  spec.mutable_loss()->set_kind(loss);
  spec.mutable_loss()->set_reduction(v1::REDUCTION_MEAN);
  spec.mutable_optimizer()->set_kind(optimizer);
  spec.mutable_optimizer()->set_learning_rate(0.01f);
  spec.mutable_init()->set_kind(v1::INIT_KIND_XAVIER);
  spec.mutable_init()->set_seed(3);
  return spec;
}

inline v1::CreateSessionRequest CreateRequest(const std::string& name, const v1::ModelSpec& spec) {
  v1::CreateSessionRequest request;
  request.set_name(name);
  *request.mutable_spec() = spec;
  return request;
}

// MakeTensor is a [rows, cols] tensor with values from `generator(row, col)`.
template <typename Generator>
v1::Tensor MakeTensor(int64_t rows, int64_t cols, Generator generator) {
  v1::Tensor tensor;
  tensor.add_shape(rows);
  tensor.add_shape(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) tensor.add_data(generator(r, c));
  }
  return tensor;
}

// RegressionBatch is a deterministic batch of `rows` rows for an in -> out MSE session.
inline v1::Batch RegressionBatch(int64_t rows, int64_t in, int64_t out, int64_t offset = 0) {
  v1::Batch batch;
  *batch.mutable_x() = MakeTensor(rows, in, [&](int64_t r, int64_t c) {
    return 0.1f * static_cast<float>(((r + offset) * 7 + c * 3) % 11) - 0.5f;
  });
  *batch.mutable_targets() = MakeTensor(rows, out, [&](int64_t r, int64_t c) {
    return 0.05f * static_cast<float>(((r + offset) * 5 + c) % 13) - 0.3f;
  });
  return batch;
}

// ClassificationBatch is a deterministic batch with labels in [0, classes).
inline v1::Batch ClassificationBatch(int64_t rows, int64_t in, int32_t classes,
                                     int64_t offset = 0) {
  v1::Batch batch;
  *batch.mutable_x() = MakeTensor(rows, in, [&](int64_t r, int64_t c) {
    return 0.1f * static_cast<float>(((r + offset) * 3 + c * 5) % 17) - 0.8f;
  });
  for (int64_t r = 0; r < rows; ++r) batch.add_labels(static_cast<int32_t>((r + offset) % classes));
  return batch;
}

// ExportBytes reads a whole ExportSession stream into `bytes`, checking that the chunks add
// up to the total_bytes the first one announced, and counts the chunks in `chunks`.
inline grpc::Status ExportBytes(v1::Mlpd::Stub& stub, const std::string& name,
                                v1::ExportFormat format, std::string* bytes,
                                int64_t* chunks = nullptr) {
  grpc::ClientContext context;
  v1::ExportSessionRequest request;
  request.set_name(name);
  request.set_format(format);
  std::unique_ptr<grpc::ClientReader<v1::ExportSessionResponse>> reader =
      stub.ExportSession(&context, request);
  v1::ExportSessionResponse chunk;
  bytes->clear();
  int64_t read = 0, total_bytes = -1;
  while (reader->Read(&chunk)) {
    if (read++ == 0) {
      total_bytes = chunk.total_bytes();
      EXPECT_EQ(chunk.format(), format);
    }
    bytes->append(chunk.data());
  }
  if (chunks != nullptr) *chunks = read;
  const grpc::Status status = reader->Finish();
  if (status.ok()) EXPECT_EQ(static_cast<int64_t>(bytes->size()), total_bytes);
  return status;
}

// Exported returns the session's NATIVE checkpoint (parameters, state, counters).
inline v1::Checkpoint Exported(v1::Mlpd::Stub& stub, const std::string& name) {
  std::string bytes;
  const grpc::Status status = ExportBytes(stub, name, v1::EXPORT_FORMAT_NATIVE, &bytes);
  EXPECT_TRUE(status.ok()) << status.error_message();
  v1::Checkpoint checkpoint;
  EXPECT_TRUE(checkpoint.ParseFromString(bytes));
  return checkpoint;
}

// ImportBytes sends `data` to ImportSession as session `name` in chunks of at most
// `chunk_bytes`, the first announcing `total_bytes` (-1: the data's size; 0: none).
inline grpc::Status ImportBytes(v1::Mlpd::Stub& stub, const std::string& name,
                                v1::ExportFormat format, const std::string& data,
                                int64_t chunk_bytes = 1 << 20, int64_t total_bytes = -1,
                                v1::SessionInfo* info = nullptr) {
  grpc::ClientContext context;
  v1::SessionInfo ignored;
  std::unique_ptr<grpc::ClientWriter<v1::ImportSessionRequest>> writer =
      stub.ImportSession(&context, info != nullptr ? info : &ignored);
  v1::ImportSessionRequest chunk;
  size_t offset = 0;
  do {
    chunk.Clear();
    if (offset == 0) {
      chunk.set_name(name);
      chunk.set_format(format);
      chunk.set_total_bytes(total_bytes < 0 ? static_cast<int64_t>(data.size()) : total_bytes);
    }
    const size_t length = std::min(data.size() - offset, static_cast<size_t>(chunk_bytes));
    chunk.set_data(data.substr(offset, length));
    if (!writer->Write(chunk)) break;
    offset += length;
  } while (offset < data.size());
  writer->WritesDone();
  return writer->Finish();
}

inline grpc::Status Create(v1::Mlpd::Stub& stub, const std::string& name, const v1::ModelSpec& spec,
                           v1::SessionInfo* info = nullptr) {
  grpc::ClientContext context;
  v1::SessionInfo ignored;
  return stub.CreateSession(&context, CreateRequest(name, spec), info ? info : &ignored);
}

// Info is GetSession's answer for `name` (a failed call fails the test and returns an empty one).
inline v1::SessionInfo Info(v1::Mlpd::Stub& stub, const std::string& name) {
  grpc::ClientContext context;
  v1::GetSessionRequest request;
  request.set_name(name);
  v1::SessionInfo info;
  const grpc::Status status = stub.GetSession(&context, request, &info);
  EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
  return info;
}

inline grpc::Status Delete(v1::Mlpd::Stub& stub, const std::string& name) {
  grpc::ClientContext context;
  v1::DeleteSessionRequest request;
  request.set_name(name);
  v1::DeleteSessionResponse response;
  return stub.DeleteSession(&context, request, &response);
}

// Import sends `checkpoint` to ImportSession as session `name`.
inline grpc::Status Import(v1::Mlpd::Stub& stub, const std::string& name,
                           const v1::Checkpoint& checkpoint) {
  return ImportBytes(stub, name, v1::EXPORT_FORMAT_NATIVE, checkpoint.SerializeAsString());
}

inline grpc::Status DeleteDataset(v1::Mlpd::Stub& stub, const std::string& name) {
  grpc::ClientContext context;
  v1::DeleteDatasetRequest request;
  request.set_name(name);
  v1::DeleteDatasetResponse response;
  return stub.DeleteDataset(&context, request, &response);
}

// Save asks for a durable snapshot; `step_count` gets the step it holds.
inline grpc::Status Save(v1::Mlpd::Stub& stub, const std::string& name,
                         int64_t* step_count = nullptr) {
  grpc::ClientContext context;
  v1::SaveSessionRequest request;
  request.set_name(name);
  v1::SaveSessionResponse response;
  const grpc::Status status = stub.SaveSession(&context, request, &response);
  if (step_count != nullptr) *step_count = response.step_count();
  return status;
}

inline grpc::Status Step(v1::Mlpd::Stub& stub, const std::string& name, const v1::Batch& batch,
                         v1::TrainStepResponse* response = nullptr) {
  grpc::ClientContext context;
  v1::TrainStepRequest request;
  request.set_name(name);
  *request.mutable_batch() = batch;
  v1::TrainStepResponse ignored;
  return stub.TrainStep(&context, request, response ? response : &ignored);
}

// Upload streams `chunks`; the first announces `total_rows` when it is not 0.
inline grpc::Status Upload(v1::Mlpd::Stub& stub, const std::string& name,
                           const std::vector<v1::Batch>& chunks, v1::DatasetInfo* info = nullptr,
                           int64_t total_rows = 0) {
  grpc::ClientContext context;
  v1::DatasetInfo ignored;
  auto writer = stub.UploadDataset(&context, info ? info : &ignored);
  bool first = true;
  for (const v1::Batch& chunk : chunks) {
    v1::UploadDatasetRequest request;
    if (first) {
      request.set_name(name);
      request.set_total_rows(total_rows);
    }
    first = false;
    *request.mutable_rows() = chunk;
    if (!writer->Write(request)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

// TrainOf is a Train request: `epochs` over `dataset`, mini-batches of `batch_size` rows (0: the
// whole dataset), a report every `report_every_steps` steps (0: once per epoch).
inline v1::TrainRequest TrainOf(const std::string& session, const std::string& dataset,
                                int64_t epochs, int64_t batch_size = 0,
                                int64_t report_every_steps = 0) {
  v1::TrainRequest request;
  request.set_name(session);
  request.set_dataset(dataset);
  request.set_epochs(epochs);
  request.set_batch_size(batch_size);
  request.set_report_every_steps(report_every_steps);
  return request;
}

// WaitUntil polls `condition` until it holds (true) or `timeout` passes (false): for events the
// server shows only through its state, such as a Train call noticing its cancellation.
inline bool WaitUntil(const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// RunTrain runs a Train call to its end and returns its status; responses go to `events`.
inline grpc::Status RunTrain(v1::Mlpd::Stub& stub, const v1::TrainRequest& request,
                             std::vector<v1::TrainResponse>* events = nullptr) {
  grpc::ClientContext context;
  auto reader = stub.Train(&context, request);
  v1::TrainResponse response;
  while (reader->Read(&response)) {
    if (events != nullptr) events->push_back(response);
  }
  return reader->Finish();
}

// StartJob, GetJob and CancelJob call the job RPCs (GetJob fails the test unless it answers).
inline grpc::Status StartJob(v1::Mlpd::Stub& stub, const v1::TrainRequest& request, v1::Job* job) {
  grpc::ClientContext context;
  return stub.StartTraining(&context, request, job);
}

inline v1::Job GetJob(v1::Mlpd::Stub& stub, const std::string& id) {
  grpc::ClientContext context;
  v1::GetJobRequest request;
  request.set_id(id);
  v1::Job job;
  EXPECT_TRUE(stub.GetJob(&context, request, &job).ok()) << id;
  return job;
}

inline grpc::Status CancelJob(v1::Mlpd::Stub& stub, const std::string& id) {
  grpc::ClientContext context;
  v1::CancelJobRequest request;
  request.set_id(id);
  v1::Job job;
  return stub.CancelJob(&context, request, &job);
}

// Watch reads a WatchJob stream to its end.
inline grpc::Status Watch(v1::Mlpd::Stub& stub, const std::string& id,
                          std::vector<v1::TrainResponse>* events) {
  grpc::ClientContext context;
  v1::WatchJobRequest request;
  request.set_id(id);
  auto reader = stub.WatchJob(&context, request);
  v1::TrainResponse response;
  while (reader->Read(&response)) events->push_back(response);
  return reader->Finish();
}

// WaitDone watches the job until it ends and returns its final record.
inline v1::Job WaitDone(v1::Mlpd::Stub& stub, const std::string& id) {
  std::vector<v1::TrainResponse> events;
  Watch(stub, id, &events);
  return GetJob(stub, id);
}

}  // namespace mlpd::testing

#endif  // MLPD_TESTS_SERVER_SERVICE_TEST_UTIL_H_
