// What one call may cost the server: the activation memory of its rows
// (--max-call-activation-mb), and compute after its caller has gone.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/plan_cache.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/service_test_util.h"

namespace mlpd::testing {
namespace {

using ::testing::HasSubstr;

// WideSpec is in -> width -> 1 tanh, MSE: few parameters, wide activations.
v1::ModelSpec WideSpec(int64_t in, std::vector<int64_t> widths) {
  v1::ModelSpec spec = LinearSpec(in, 1);
  spec.clear_layers();
  for (int64_t width : widths) {
    v1::LayerSpec* layer = spec.add_layers();
    layer->set_units(width);
    layer->set_activation(v1::ACTIVATION_TANH);
  }
  v1::LayerSpec* last = spec.add_layers();
  last->set_units(1);
  last->set_activation(v1::ACTIVATION_IDENTITY);
  return spec;
}

v1::PredictRequest PredictOf(const std::string& name, int64_t rows, int64_t in) {
  v1::PredictRequest request;
  request.set_name(name);
  *request.mutable_x() = RegressionBatch(rows, in, 1).x();
  return request;
}

// A 1 -> 262,144 -> 1 session has 786K parameters, but each row of a training step needs 2 MiB
// of activations and their gradients: 200 rows took 400 MiB before any bound.
TEST(CallCostTest, TrainingStepsOverTheActivationBoundAreRefused) {
  TestServer server;  // The default bound.
  ASSERT_TRUE(Create(server.stub(), "wide", WideSpec(1, {262144})).ok());
  const grpc::Status status = Step(server.stub(), "wide", RegressionBatch(200, 1, 1));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("--max-call-activation-mb 256"));
  EXPECT_THAT(status.error_message(), HasSubstr("send at most 127 rows"));
  EXPECT_EQ(Info(server.stub(), "wide").step_count(), 0);

  // A step within the bound runs.
  EXPECT_TRUE(Step(server.stub(), "wide", RegressionBatch(64, 1, 1)).ok());
  EXPECT_EQ(Info(server.stub(), "wide").step_count(), 1);

  // Train checks its mini-batches before the first step.
  v1::Batch rows = RegressionBatch(300, 1, 1);
  ASSERT_TRUE(Upload(server.stub(), "rows", {rows}).ok());
  const grpc::Status train = RunTrain(server.stub(), TrainOf("wide", "rows", 1, 200));
  EXPECT_EQ(train.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << train.error_message();
  EXPECT_THAT(train.error_message(), HasSubstr("--max-call-activation-mb"));
  EXPECT_EQ(Info(server.stub(), "wide").step_count(), 1);
}

// Predict and Evaluate run in chunks that fit the bound, whatever the rows: the answer is the
// same as the rows' answers one chunk at a time.
TEST(CallCostTest, PredictionsInChunksOfTheBoundMatchSmallCalls) {
  ServerOptions options;
  options.max_call_activation_mb = 1;  // 4,096-unit layers: 63 rows a chunk.
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "wide", WideSpec(3, {4096})).ok());
  const v1::PredictRequest all = PredictOf("wide", 200, 3);
  v1::PredictResponse whole;
  {
    grpc::ClientContext context;
    const grpc::Status status = server.stub().Predict(&context, all, &whole);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(whole.outputs().data_size(), 200);
  for (int64_t row = 0; row < 200; row += 50) {
    v1::PredictRequest part;
    part.set_name("wide");
    *part.mutable_x() = MakeTensor(50, 3, [&](int64_t r, int64_t c) {
      return all.x().data(static_cast<int>((row + r) * 3 + c));
    });
    v1::PredictResponse answer;
    grpc::ClientContext context;
    ASSERT_TRUE(server.stub().Predict(&context, part, &answer).ok());
    for (int r = 0; r < 50; ++r) {
      const float expected = whole.outputs().data(static_cast<int>(row) + r);
      EXPECT_NEAR(answer.outputs().data(r), expected, 1e-5f * std::max(1.0f, std::abs(expected)))
          << "row " << row + r;
    }
  }

  // Not even one row fits: refused, naming the flag.
  ASSERT_TRUE(Create(server.stub(), "wider", WideSpec(1, {300000})).ok());
  v1::PredictResponse ignored;
  grpc::ClientContext context;
  const grpc::Status status = server.stub().Predict(&context, PredictOf("wider", 1, 1), &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--max-call-activation-mb 1"));
}

// The plans a call builds hold its activations: they count in --max-sessions-mb with the
// sessions' parameters and optimizer state. A step whose activations do not fit in what the
// sessions leave is refused; Predict runs in chunks that fit.
TEST(CallCostTest, ActivationsCountInTheSessionMemoryLimit) {
  ServerOptions options;
  options.max_sessions_mb = 2;  // The session's state is 48 KiB; a row of a step 32 KiB.
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "wide", WideSpec(1, {4096})).ok());
  const grpc::Status status = Step(server.stub(), "wide", RegressionBatch(100, 1, 1));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("--max-sessions-mb 2"));
  EXPECT_EQ(Info(server.stub(), "wide").step_count(), 0);
  EXPECT_TRUE(Step(server.stub(), "wide", RegressionBatch(16, 1, 1)).ok());

  // 500 rows of Predict need 8 MiB at once; in chunks they fit.
  v1::PredictResponse answer;
  grpc::ClientContext context;
  const grpc::Status predicted =
      server.stub().Predict(&context, PredictOf("wide", 500, 1), &answer);
  ASSERT_TRUE(predicted.ok()) << predicted.error_message();
  EXPECT_EQ(answer.outputs().data_size(), 500);
}

// The executor keeps its plans after a call (the next call of that shape reuses them), but
// only within what the sessions leave of --max-sessions-mb: two calls that each filled it
// do not leave both their plans behind.
TEST(CallCostTest, PlansLeftAfterCallsFitWhatTheSessionsLeave) {
  ServerOptions options;
  options.max_sessions_mb = 2;
  TestServer server(options);
  ASSERT_TRUE(Create(server.stub(), "a", WideSpec(1, {4096})).ok());
  ASSERT_TRUE(Create(server.stub(), "b", WideSpec(1, {3000})).ok());
  const int64_t room = (int64_t{2} << 20) - server.server().service().session_bytes();
  v1::PredictResponse answer;
  for (const char* name : {"a", "b"}) {
    grpc::ClientContext context;
    ASSERT_TRUE(server.stub().Predict(&context, PredictOf(name, 500, 1), &answer).ok());
  }
  int64_t cached = 0;
  ASSERT_TRUE(server.server().executor().RunAndWait(
      0, [&] { cached = PlanCache::ForThisThread().CachedBytes(); }));
  EXPECT_GT(cached, 0);  // The latest call's plan stays.
  EXPECT_LE(cached, room);
}

// TimedPredict runs a Predict and returns how long it took, failing the test unless it ends
// with `expected`.
absl::Duration TimedPredict(v1::Mlpd::Stub& stub, const v1::PredictRequest& request,
                            grpc::StatusCode expected,
                            absl::Duration deadline = absl::InfiniteDuration()) {
  grpc::ClientContext context;
  if (deadline != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }
  v1::PredictResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status status = stub.Predict(&context, request, &response);
  EXPECT_EQ(status.error_code(), expected) << status.error_message();
  return absl::Now() - start;
}

// A Predict whose caller gave up (its deadline passed) used to compute to its end while every
// other session waited for the one compute thread. It now stops at its next chunk. Measured
// as ratios in one run: an eighth of the rows, computed in full, is the unit.
TEST(CallCostTest, AnAbandonedPredictFreesTheExecutorAtItsNextChunk) {
  TestServer server;
  ASSERT_TRUE(Create(server.stub(), "big", WideSpec(1, {1024, 1024})).ok());
  ASSERT_TRUE(Create(server.stub(), "small", LinearSpec()).ok());
  constexpr int64_t kRows = 32 * 1024;  // 32 chunks of 1,024 rows.
  const v1::PredictRequest big = PredictOf("big", kRows, 1);
  const v1::PredictRequest eighth = PredictOf("big", kRows / 8, 1);
  const v1::PredictRequest one_row = PredictOf("small", 1, 2);

  TimedPredict(server.stub(), eighth, grpc::StatusCode::OK);  // Plans built, threads chosen.
  const absl::Duration unit = TimedPredict(server.stub(), eighth, grpc::StatusCode::OK);

  // The caller gives up half way through the first eighth; the next caller then waits for at
  // most one chunk (a 32nd) of the abandoned call, not for its 31 other chunks.
  TimedPredict(server.stub(), big, grpc::StatusCode::DEADLINE_EXCEEDED, unit / 2);
  const absl::Duration waited = TimedPredict(server.stub(), one_row, grpc::StatusCode::OK);
  EXPECT_LT(waited, 2 * unit) << "an eighth of the call took " << unit
                              << "; the whole call takes about 8 times that";
}

}  // namespace
}  // namespace mlpd::testing
