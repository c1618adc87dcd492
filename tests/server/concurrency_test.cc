// 16 client threads mixing TrainStep, Predict, Train and Delete on 4 sessions: no crash, no
// torn read, and step counts that add up.
//
// Every step of every session trains on the same batch, so after k steps a session's weights
// are a function of k alone. A reference model replays that trajectory in-process, and every
// Predict the clients saw must equal the outputs under the weights of some k: a read in the
// middle of an update would match none.
#include <atomic>
#include <cmath>
#include <functional>
#include <future>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "core/model.h"
#include "core/spec_proto.h"
#include "gtest/gtest.h"
#include "tests/server/service_test_util.h"

namespace mlpd::testing {
namespace {

constexpr int kSessions = 4;
constexpr int kThreads = 16;
constexpr int kDeletedSession = 3;  // Deleted and created again while the others train.

std::string SessionName(int index) { return "s" + std::to_string(index); }

TEST(ConcurrencyTest, MixedCallsOnFourSessions) {
  TestServer server;
  // A small MLP, so a half-applied update would change the outputs visibly.
  const v1::ModelSpec spec = MlpSpec(4, 16, 2, v1::LOSS_KIND_MSE, v1::OPTIMIZER_KIND_SGD);
  const v1::Batch batch = RegressionBatch(8, 4, 2);
  const v1::Tensor probe = RegressionBatch(3, 4, 2, 100).x();
  for (int s = 0; s < kSessions; ++s) ASSERT_TRUE(Create(server.stub(), SessionName(s), spec).ok());
  ASSERT_TRUE(Upload(server.stub(), "batch", {batch}).ok());

  std::atomic<int64_t> steps[kSessions] = {};
  std::mutex predictions_mutex;
  std::vector<std::vector<float>> predictions;
  std::atomic<int64_t> unexpected{0};
  std::atomic<int64_t> calls{0};
  // At least 3 s and at least 200 calls: a TSan build on a busy machine made only 87 calls in
  // 3 s, and the mix needs enough calls to overlap.
  constexpr int64_t kMinCalls = 200;
  const absl::Time end = absl::Now() + absl::Seconds(3);

  auto client = [&](int thread) {
    std::mt19937 random(thread);
    while (absl::Now() < end || calls.load() < kMinCalls) {
      const int session = random() % kSessions;
      const std::string name = SessionName(session);
      const int action = random() % 10;
      ++calls;
      grpc::Status status;
      if (action < 4) {
        status = Step(server.stub(), name, batch);
        if (status.ok()) ++steps[session];
      } else if (action < 8) {
        grpc::ClientContext context;
        v1::PredictRequest request;
        request.set_name(name);
        *request.mutable_x() = probe;
        v1::PredictResponse response;
        status = server.stub().Predict(&context, request, &response);
        if (status.ok()) {
          std::lock_guard<std::mutex> lock(predictions_mutex);
          predictions.emplace_back(response.outputs().data().begin(),
                                   response.outputs().data().end());
        }
      } else if (action < 9) {
        v1::TrainRequest request = TrainOf(name, "batch", 3);
        std::vector<v1::TrainResponse> events;
        status = RunTrain(server.stub(), request, &events);
        if (status.ok()) steps[session] += events.back().summary().steps();
      } else if (session == kDeletedSession) {
        status = Delete(server.stub(), name);
        const grpc::Status created = Create(server.stub(), name, spec);
        // Another thread may have created it first, or deleted it before its model was built.
        if (!created.ok() && created.error_code() != grpc::StatusCode::ALREADY_EXISTS &&
            created.error_code() != grpc::StatusCode::NOT_FOUND) {
          ADD_FAILURE() << "CreateSession: " << created.error_message();
          ++unexpected;
        }
      }
      // Only the deleted session may be missing; nothing else may fail.
      if (!status.ok() &&
          !(session == kDeletedSession && status.error_code() == grpc::StatusCode::NOT_FOUND)) {
        ADD_FAILURE() << name << ": " << status.error_code() << " " << status.error_message();
        ++unexpected;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(client, t);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GE(calls.load(), kMinCalls);

  int64_t most_steps = 0;
  for (int s = 0; s < kSessions; ++s) {
    grpc::ClientContext context;
    v1::GetSessionRequest request;
    request.set_name(SessionName(s));
    v1::SessionInfo info;
    ASSERT_TRUE(server.stub().GetSession(&context, request, &info).ok());
    if (s != kDeletedSession) {
      EXPECT_EQ(info.step_count(), steps[s].load()) << SessionName(s);
      EXPECT_EQ(info.samples_seen(), steps[s].load() * 8);
    }
    most_steps = std::max(most_steps, info.step_count());
  }
  for (int s = 0; s < kSessions; ++s) most_steps = std::max(most_steps, steps[s].load());

  // The trajectory every session follows, replayed in-process.
  absl::StatusOr<ModelSpec> core_spec = SpecFromProto(spec);
  ASSERT_TRUE(core_spec.ok());
  absl::StatusOr<std::unique_ptr<Model>> reference = Model::Create(*core_spec);
  ASSERT_TRUE(reference.ok());
  const MatrixView x{batch.x().data().data(), 8, 4};
  const MatrixView targets{batch.targets().data().data(), 8, 2};
  const MatrixView probe_x{probe.data().data(), 3, 4};
  std::vector<std::vector<float>> trajectory;
  for (int64_t k = 0; k <= most_steps; ++k) {
    Matrix outputs;
    ASSERT_TRUE((*reference)->Predict(probe_x, &outputs).ok());
    trajectory.push_back(outputs.data);
    ASSERT_TRUE((*reference)->TrainStep(x, TargetsView::Values(targets)).ok());
  }
  ASSERT_GT(predictions.size(), 10u);
  int torn = 0;
  for (const std::vector<float>& seen : predictions) {
    double best = std::numeric_limits<double>::infinity();
    for (const std::vector<float>& expected : trajectory) {
      double distance = 0;
      for (size_t i = 0; i < seen.size(); ++i) {
        distance = std::max(distance, std::fabs(double{seen[i]} - expected[i]));
      }
      best = std::min(best, distance);
    }
    if (best > 1e-5) ++torn;
  }
  EXPECT_EQ(torn, 0) << "of " << predictions.size() << " predictions";
}

// BurstOfSteps sends `calls` TrainSteps of `batch` to session "big" without waiting between
// them (`prepare` may set a call's deadline) and returns every call's status once all answered.
std::vector<grpc::Status> BurstOfSteps(
    TestServer& server, const v1::Batch& batch, int calls,
    const std::function<void(int, grpc::ClientContext&)>& prepare = nullptr) {
  std::vector<grpc::Status> statuses(calls);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::TrainStepRequest> requests(calls);
  std::vector<v1::TrainStepResponse> responses(calls);
  std::atomic<int> pending{calls};
  std::promise<void> all_done;
  for (int i = 0; i < calls; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    if (prepare) prepare(i, *contexts[i]);
    requests[i].set_name("big");
    *requests[i].mutable_batch() = batch;
  }
  for (int i = 0; i < calls; ++i) {
    server.stub().async()->TrainStep(contexts[i].get(), &requests[i], &responses[i],
                                     [&, i](grpc::Status status) {
                                       statuses[i] = status;
                                       if (--pending == 0) all_done.set_value();
                                     });
  }
  all_done.get_future().wait();
  return statuses;
}

// With a queue of 2, a burst of calls behind slow steps gets RESOURCE_EXHAUSTED at once;
// the admitted ones all run and are counted.
TEST(ConcurrencyTest, FullQueueAnswersResourceExhausted) {
  ServerOptions options;
  options.max_queue = 2;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "big",
                     MlpSpec(256, 512, 10, v1::LOSS_KIND_MSE, v1::OPTIMIZER_KIND_ADAM))
                  .ok());
  const v1::Batch batch = RegressionBatch(256, 256, 10);
  const std::vector<grpc::Status> statuses = BurstOfSteps(server, batch, 40);
  int ok = 0, exhausted = 0;
  for (const grpc::Status& status : statuses) {
    if (status.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_NE(status.error_message().find("--max-queue is 2"), std::string::npos);
      ++exhausted;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(exhausted, 0);
  EXPECT_EQ(Info(server.stub(), "big").step_count(), ok);
}

// Calls whose deadline passes while they wait in the queue are not run: the caller already has
// DEADLINE_EXCEEDED and must not find a step applied that it was told failed.
TEST(ConcurrencyTest, CallsThatExpireWhileQueuedDoNotRun) {
  TestServer server;
  // Steps that are slow (two 1024-wide layers) on small requests (8 inputs), so every call
  // reaches the server long before the hasty ones' deadline, and then waits behind the others.
  ASSERT_TRUE(
      Create(server.stub(), "big", MlpSpec(8, 1024, 10, v1::LOSS_KIND_MSE, v1::OPTIMIZER_KIND_ADAM))
          .ok());
  const v1::Batch batch = RegressionBatch(256, 8, 10);
  constexpr int kPatient = 30, kHasty = 3;  // The hasty calls go last, behind 30 slow steps.
  constexpr int kCalls = kPatient + kHasty;
  const std::vector<grpc::Status> statuses =
      BurstOfSteps(server, batch, kCalls, [](int i, grpc::ClientContext& context) {
        if (i >= kPatient) {
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(30));
        }
      });
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(statuses[i].error_code(),
              i < kPatient ? grpc::StatusCode::OK : grpc::StatusCode::DEADLINE_EXCEEDED)
        << "call " << i << ": " << statuses[i].error_message();
  }
  // The expired calls are queued right behind the last patient one, which has answered; give
  // the executor a moment to reach them, then count the applied steps.
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Info(server.stub(), "big").step_count(), kPatient);
}

}  // namespace
}  // namespace mlpd::testing
