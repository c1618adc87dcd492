// The engine's behaviour as a user sees it: determinism, the lecture's examples (logistic
// regression, universal approximation), evaluation, parameter and state round trips, and
// refusal of bad input or diverging steps without any change to the model.
#include <omp.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "core/model.h"
#include "core/plan_cache.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/engine_test_util.h"

namespace mlpd {
namespace {

using testing::BatchTargets;
using ::testing::HasSubstr;
using testing::RandomValues;
using testing::TargetsFor;
using testing::TestSpec;

constexpr double kPi = 3.14159265358979323846;

std::unique_ptr<Model> MustCreate(const ModelSpec& spec) {
  auto model = Model::Create(spec);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

// Snapshot is everything a failed call must leave untouched.
struct Snapshot {
  std::vector<float> parameters;
  std::vector<float> state;
  int64_t steps;
  int64_t samples;
  float last_loss;

  explicit Snapshot(const Model& model)
      : parameters(model.GetParameters()),
        state(model.GetOptimizerState()),
        steps(model.step_count()),
        samples(model.samples_seen()),
        last_loss(model.last_loss()) {}

  bool operator==(const Snapshot& other) const {
    return parameters == other.parameters && state == other.state && steps == other.steps &&
           samples == other.samples && last_loss == other.last_loss;
  }
};

TEST(DeterminismTest, SameSeedAndDataGiveIdenticalWeightsAfter100Steps) {
  for (OptimizerKind optimizer :
       {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam}) {
    ModelSpec spec = TestSpec(20, {{32, Activation::kRelu}, {4, Activation::kIdentity}},
                              LossKind::kCrossEntropy, Reduction::kMean, optimizer, 0.01f);
    spec.init = {InitKind::kKaiming, 0.0f, /*seed=*/42};
    const std::vector<float> x = RandomValues(16 * 20, 3);
    const BatchTargets targets = TargetsFor(spec, 16, 4);
    auto first = MustCreate(spec);
    auto second = MustCreate(spec);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->GetParameters(), second->GetParameters());
    for (int step = 0; step < 100; ++step) {
      ASSERT_TRUE(first->TrainStep(MatrixView{x.data(), 16, 20}, targets.view()).ok());
      ASSERT_TRUE(second->TrainStep(MatrixView{x.data(), 16, 20}, targets.view()).ok());
    }
    EXPECT_EQ(first->GetParameters(), second->GetParameters()) << OptimizerKindName(optimizer);
    EXPECT_EQ(first->GetOptimizerState(), second->GetOptimizerState());

    spec.init.seed = 43;
    auto other = MustCreate(spec);
    EXPECT_NE(first->GetParameters(), other->GetParameters());
  }
}

TEST(InitTest, EveryInitFollowsItsLaw) {
  ModelSpec spec =
      TestSpec(400, {{300, Activation::kRelu}, {2, Activation::kIdentity}}, LossKind::kMse);
  const int64_t weights = 400 * 300;
  for (InitKind kind :
       {InitKind::kNormal, InitKind::kUniform, InitKind::kXavier, InitKind::kKaiming}) {
    spec.init = {kind, 0.1f, /*seed=*/5};
    auto model = MustCreate(spec);
    const std::vector<float> p = model->GetParameters();
    double sum = 0.0, squares = 0.0, largest = 0.0;
    for (int64_t i = 0; i < weights; ++i) {
      sum += p[i];
      squares += double{p[i]} * p[i];
      largest = std::max(largest, std::abs(double{p[i]}));
    }
    const double mean = sum / weights;
    const double deviation = std::sqrt(squares / weights - mean * mean);
    const float first_bias = p[weights];
    switch (kind) {
      case InitKind::kNormal:
        EXPECT_NEAR(deviation, 0.1, 0.002);
        EXPECT_NE(first_bias, 0.0f);
        break;
      case InitKind::kUniform:
        EXPECT_LE(largest, 0.1);
        EXPECT_NEAR(deviation, 0.1 / std::sqrt(3.0), 0.002);
        EXPECT_NE(first_bias, 0.0f);
        break;
      case InitKind::kXavier:
        EXPECT_LE(largest, std::sqrt(6.0 / 700));
        EXPECT_NEAR(deviation, std::sqrt(2.0 / 700), 0.002);
        EXPECT_EQ(first_bias, 0.0f);
        break;
      case InitKind::kKaiming:
        EXPECT_NEAR(deviation, std::sqrt(2.0 / 400), 0.002);
        EXPECT_EQ(first_bias, 0.0f);
        break;
    }
    EXPECT_NEAR(mean, 0.0, 0.002) << InitKindName(kind);
  }
}

TEST(LectureTest, LogisticRegressionSeparatesTwoClouds) {
  // 100 points in 2-D, class +1 around (1, 1) and class -1 around (-1, -1).
  const int64_t n = 100;
  std::vector<float> x = RandomValues(n * 2, 8, 0.8f);
  std::vector<float> y(n);
  for (int64_t i = 0; i < n; ++i) {
    y[i] = i % 2 == 0 ? 1.0f : -1.0f;
    x[2 * i] += y[i];
    x[2 * i + 1] += y[i];
  }
  ModelSpec spec = TestSpec(2, {{1, Activation::kIdentity}}, LossKind::kLogistic, Reduction::kMean,
                            OptimizerKind::kSgd, /*learning_rate=*/0.1f);
  spec.init = {InitKind::kNormal, 0.01f, /*seed=*/1};
  auto model = MustCreate(spec);
  const MatrixView input{x.data(), n, 2};
  const TargetsView targets = TargetsView::Values(MatrixView{y.data(), n, 1});
  auto first = model->TrainStep(input, targets);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_NEAR(*first, std::log(2.0), 0.05);  // w ~ 0: sigma(0) = 1/2 for every point.
  float loss = *first;
  for (int step = 0; step < 200; ++step) {
    auto next = model->TrainStep(input, targets);
    ASSERT_TRUE(next.ok());
    loss = *next;
  }
  EXPECT_LT(loss, 0.5f * *first);
  auto evaluation = model->Evaluate(input, targets);
  ASSERT_TRUE(evaluation.ok());
  EXPECT_TRUE(evaluation->has_error_rate);
  EXPECT_EQ(evaluation->error_rate, 0.0);
  // The line w.x + b = 0 separates the classes: every point on its own side.
  const std::vector<float> p = model->GetParameters();
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_GT(y[i] * (p[0] * x[2 * i] + p[1] * x[2 * i + 1] + p[2]), 0.0f) << "point " << i;
  }
}

TEST(LectureTest, OneHiddenReluLayerFitsSine) {
  const int64_t n = 256;
  std::vector<float> x(n), t(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(-kPi + 2.0 * kPi * i / (n - 1));
    t[i] = std::sin(x[i]);
  }
  ModelSpec spec = TestSpec(1, {{64, Activation::kRelu}, {1, Activation::kIdentity}},
                            LossKind::kMse, Reduction::kMean, OptimizerKind::kAdam, 0.01f);
  spec.init = {InitKind::kUniform, 1.0f, /*seed=*/3};
  auto model = MustCreate(spec);
  const MatrixView input{x.data(), n, 1};
  const TargetsView targets = TargetsView::Values(MatrixView{t.data(), n, 1});
  for (int step = 0; step < 3000; ++step) ASSERT_TRUE(model->TrainStep(input, targets).ok());

  // Finish with a smaller step size, continuing from the same parameters and Adam state.
  ModelSpec fine = spec;
  fine.optimizer.learning_rate = 0.001f;
  auto tuned = MustCreate(fine);
  ASSERT_TRUE(tuned->SetParameters(model->GetParameters()).ok());
  ASSERT_TRUE(tuned->SetOptimizerState(model->GetOptimizerState()).ok());
  tuned->SetCounters(model->step_count(), model->samples_seen(), model->last_loss());
  for (int step = 0; step < 2000; ++step) ASSERT_TRUE(tuned->TrainStep(input, targets).ok());

  // Checked on points between the training points.
  std::vector<float> grid(1000);
  for (size_t i = 0; i < grid.size(); ++i) grid[i] = -kPi + 2.0 * kPi * (i + 0.5) / grid.size();
  Matrix outputs;
  ASSERT_TRUE(tuned->Predict(MatrixView{grid.data(), 1000, 1}, &outputs).ok());
  double worst = 0.0;
  for (size_t i = 0; i < grid.size(); ++i) {
    worst = std::max(worst, std::abs(outputs.data[i] - std::sin(double{grid[i]})));
  }
  EXPECT_LE(worst, 0.05);
}

TEST(EvaluateTest, ChunkedEvaluationMatchesOneBatchAndCountsErrors) {
  const ModelSpec spec =
      TestSpec(5, {{8, Activation::kTanh}, {3, Activation::kIdentity}}, LossKind::kCrossEntropy);
  auto model = MustCreate(spec);
  const int64_t n = 2500;  // More than one evaluation chunk, with a partial last one.
  const std::vector<float> x = RandomValues(n * 5, 9);
  const BatchTargets targets = TargetsFor(spec, n, 10);
  auto evaluation = model->Evaluate(MatrixView{x.data(), n, 5}, targets.view());
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_EQ(evaluation->count, n);
  ASSERT_TRUE(evaluation->has_error_rate);

  Matrix probabilities;
  ASSERT_TRUE(model->Predict(MatrixView{x.data(), n, 5}, &probabilities).ok());
  double loss = 0.0;
  int64_t errors = 0;
  for (int64_t r = 0; r < n; ++r) {
    const float* row = probabilities.data.data() + 3 * r;
    EXPECT_NEAR(row[0] + row[1] + row[2], 1.0f, 1e-5f);
    loss -= std::log(double{row[targets.labels[r]]});
    errors += std::max_element(row, row + 3) - row != targets.labels[r];
  }
  EXPECT_NEAR(evaluation->loss, loss / n, 1e-5);
  EXPECT_DOUBLE_EQ(evaluation->error_rate, static_cast<double>(errors) / n);
}

TEST(EvaluateTest, MseWithLabelsComparesAgainstOneHot) {
  const ModelSpec spec = TestSpec(4, {{3, Activation::kSigmoid}}, LossKind::kMse, Reduction::kSum);
  auto model = MustCreate(spec);
  const std::vector<float> x = RandomValues(6 * 4, 11);
  const std::vector<int32_t> labels = {0, 1, 2, 2, 1, 0};
  std::vector<float> one_hot(6 * 3, 0.0f);
  for (int r = 0; r < 6; ++r) one_hot[3 * r + labels[r]] = 1.0f;
  const MatrixView input{x.data(), 6, 4};
  auto with_labels = model->Evaluate(input, TargetsView::Labels(labels.data(), 6));
  auto with_values = model->Evaluate(input, TargetsView::Values(MatrixView{one_hot.data(), 6, 3}));
  ASSERT_TRUE(with_labels.ok() && with_values.ok());
  EXPECT_DOUBLE_EQ(with_labels->loss, with_values->loss);
  EXPECT_DOUBLE_EQ(with_labels->error_rate, with_values->error_rate);
  EXPECT_TRUE(with_labels->has_error_rate);
}

TEST(StateTest, RestoredModelTrainsExactlyLikeTheOriginal) {
  const ModelSpec spec = TestSpec(6, {{10, Activation::kTanh}, {2, Activation::kIdentity}},
                                  LossKind::kMse, Reduction::kMean, OptimizerKind::kAdam, 0.01f);
  auto original = MustCreate(spec);
  const std::vector<float> x = RandomValues(8 * 6, 12);
  const BatchTargets targets = TargetsFor(spec, 8, 13);
  const MatrixView input{x.data(), 8, 6};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(original->TrainStep(input, targets.view()).ok());

  ModelSpec other_seed = spec;
  other_seed.init.seed = 99;
  auto restored = MustCreate(other_seed);
  EXPECT_EQ(restored->optimizer_state_size(), 2 * restored->parameter_count());
  ASSERT_TRUE(restored->SetParameters(original->GetParameters()).ok());
  ASSERT_TRUE(restored->SetOptimizerState(original->GetOptimizerState()).ok());
  restored->SetCounters(original->step_count(), original->samples_seen(), original->last_loss());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(original->TrainStep(input, targets.view()).ok());
    ASSERT_TRUE(restored->TrainStep(input, targets.view()).ok());
  }
  EXPECT_EQ(original->GetParameters(), restored->GetParameters());
  EXPECT_EQ(original->GetOptimizerState(), restored->GetOptimizerState());
  EXPECT_EQ(original->step_count(), restored->step_count());
}

TEST(StateTest, SettersRejectWrongSizesAndNonFiniteValues) {
  const ModelSpec spec = TestSpec(3, {{2, Activation::kIdentity}}, LossKind::kMse, Reduction::kMean,
                                  OptimizerKind::kAdam);
  auto model = MustCreate(spec);
  const Snapshot before(*model);
  std::vector<float> parameters = model->GetParameters();
  parameters.pop_back();
  absl::Status status = model->SetParameters(parameters);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("expected 8"));
  parameters = model->GetParameters();
  parameters[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(model->SetParameters(parameters).code(), absl::StatusCode::kInvalidArgument);
  std::vector<float> state(model->optimizer_state_size(), 0.0f);
  state[10] = -1.0f;  // A negative second moment.
  EXPECT_EQ(model->SetOptimizerState(state).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Snapshot(*model) == before);
}

TEST(PlanCacheTest, ManyBatchSizesGiveTheSameResultsAsFreshModels) {
  const ModelSpec spec =
      TestSpec(7, {{9, Activation::kRelu}, {3, Activation::kIdentity}}, LossKind::kCrossEntropy);
  auto model = MustCreate(spec);
  const std::vector<float> x = RandomValues(64 * 7, 14);
  // More distinct sizes than the model keeps plans for, and back again.
  for (int64_t rows : {1, 2, 3, 5, 8, 13, 1, 64, 2}) {
    Matrix cached, fresh;
    ASSERT_TRUE(model->Predict(MatrixView{x.data(), rows, 7}, &cached).ok());
    auto other = MustCreate(spec);
    ASSERT_TRUE(other->Predict(MatrixView{x.data(), rows, 7}, &fresh).ok());
    EXPECT_EQ(cached.data, fresh.data) << rows << " rows";
  }
}

// Predict and Evaluate run ChunkControl::max_rows rows at a time with the same results, and
// stop between chunks once the caller is gone, asking before every chunk but the first.
TEST(ChunkControlTest, ChunksGiveTheSameResultsAndStopWhenCancelled) {
  const ModelSpec spec =
      TestSpec(5, {{8, Activation::kTanh}, {3, Activation::kIdentity}}, LossKind::kCrossEntropy);
  auto model = MustCreate(spec);
  const std::vector<float> x = RandomValues(10 * 5, 21);
  const MatrixView rows{x.data(), 10, 5};
  const BatchTargets y = TargetsFor(spec, 10, 22);
  Matrix whole, chunked;
  ASSERT_TRUE(model->Predict(rows, &whole).ok());
  int asked = 0;
  ChunkControl control{3, [&] { return ++asked > 5; }};
  ASSERT_TRUE(model->Predict(rows, &chunked, control).ok());
  EXPECT_EQ(asked, 3);  // Before rows 3, 6 and 9.
  ASSERT_EQ(chunked.data.size(), whole.data.size());
  for (size_t i = 0; i < whole.data.size(); ++i) {
    EXPECT_NEAR(chunked.data[i], whole.data[i], 1e-6f) << i;
  }
  absl::StatusOr<Evaluation> full = model->Evaluate(rows, y.view());
  absl::StatusOr<Evaluation> in_chunks = model->Evaluate(rows, y.view(), {4, nullptr});
  ASSERT_TRUE(full.ok() && in_chunks.ok());
  EXPECT_NEAR(in_chunks->loss, full->loss, 1e-6);
  EXPECT_EQ(in_chunks->error_rate, full->error_rate);

  asked = 0;
  control.cancelled = [&] { return ++asked == 2; };
  const absl::Status stopped = model->Predict(rows, &chunked, control);
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(stopped.message(), HasSubstr("after 6 of 10 rows"));
  EXPECT_EQ(asked, 2);
  asked = 0;
  EXPECT_EQ(model->Evaluate(rows, y.view(), control).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(asked, 2);
  EXPECT_FALSE(model->Predict(rows, &chunked, {0, nullptr}).ok());
}

// A deleted session's plans can be freed: Drop removes exactly the plans of one shape.
TEST(PlanCacheTest, DropFreesThePlansOfOneShape) {
  // A thread of its own starts with an empty cache.
  std::thread([] {
    PlanCache& cache = PlanCache::ForThisThread();
    EXPECT_EQ(cache.CachedBytes(), 0);
    const ModelSpec dropped = TestSpec(11, {{300, Activation::kTanh}}, LossKind::kMse);
    const ModelSpec kept = TestSpec(13, {{200, Activation::kTanh}}, LossKind::kMse);
    const std::vector<float> x = RandomValues(64 * 13, 31);
    Matrix outputs;
    ASSERT_TRUE(MustCreate(dropped)->Predict(MatrixView{x.data(), 64, 11}, &outputs).ok());
    const int64_t with_one = cache.CachedBytes();
    ASSERT_TRUE(MustCreate(kept)->Predict(MatrixView{x.data(), 64, 13}, &outputs).ok());
    const int64_t with_both = cache.CachedBytes();
    // 64 rows of 300 then 200 activations (and the output gradient), 4 bytes each.
    EXPECT_GE(with_both - with_one, 64 * 200 * 4);

    cache.Drop(PlanCache::ShapeKey(dropped));
    EXPECT_LE(cache.CachedBytes(), with_both - 64 * 300 * 4);
    const int64_t after = cache.CachedBytes();
    cache.Drop(PlanCache::ShapeKey(dropped));
    EXPECT_EQ(cache.CachedBytes(), after);
    cache.Drop(PlanCache::ShapeKey(kept));
    EXPECT_EQ(cache.CachedBytes(), 0);
  }).join();
}

// Trim keeps the cache within a budget, least recently used plans first, the newest too when
// it alone is over: a plan bigger than the cache's share of the session memory limit does not
// stay after its call.
TEST(PlanCacheTest, TrimFreesTheLeastRecentlyUsedPlansFirst) {
  std::thread([] {
    PlanCache& cache = PlanCache::ForThisThread();
    const ModelSpec older = TestSpec(11, {{300, Activation::kTanh}}, LossKind::kMse);
    const ModelSpec newer = TestSpec(13, {{200, Activation::kTanh}}, LossKind::kMse);
    const std::vector<float> x = RandomValues(64 * 13, 37);
    Matrix outputs;
    ASSERT_TRUE(MustCreate(older)->Predict(MatrixView{x.data(), 64, 11}, &outputs).ok());
    const int64_t older_bytes = cache.CachedBytes();
    ASSERT_TRUE(MustCreate(newer)->Predict(MatrixView{x.data(), 64, 13}, &outputs).ok());
    const int64_t both = cache.CachedBytes();
    const int64_t newer_bytes = both - older_bytes;
    ASSERT_GT(newer_bytes, 0);

    cache.Trim(both);  // Within the budget: nothing goes.
    EXPECT_EQ(cache.CachedBytes(), both);
    cache.Trim(both - 1);  // The older plan goes first.
    EXPECT_EQ(cache.CachedBytes(), newer_bytes);
    cache.Trim(newer_bytes - 1);  // The newest too, when it alone is over.
    EXPECT_EQ(cache.CachedBytes(), 0);
  }).join();
}

class BadInputTest : public ::testing::Test {
 protected:
  BadInputTest()
      : spec_(TestSpec(4, {{5, Activation::kTanh}, {3, Activation::kIdentity}},
                       LossKind::kCrossEntropy, Reduction::kMean, OptimizerKind::kMomentum)),
        model_(MustCreate(spec_)),
        x_(RandomValues(6 * 4, 15)),
        labels_({0, 1, 2, 0, 1, 2}) {
    // A first good step, so there is optimizer state to protect.
    EXPECT_TRUE(model_->TrainStep(input(), TargetsView::Labels(labels_.data(), 6)).ok());
  }

  MatrixView input() const { return MatrixView{x_.data(), 6, 4}; }

  // ExpectRejected checks the status and that neither the model nor its counters moved.
  void ExpectRejected(absl::StatusOr<float> result, absl::StatusCode code,
                      const std::string& message_part, const Snapshot& before) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), code) << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(message_part));
    EXPECT_TRUE(Snapshot(*model_) == before);
  }

  ModelSpec spec_;
  std::unique_ptr<Model> model_;
  std::vector<float> x_;
  std::vector<int32_t> labels_;
};

TEST_F(BadInputTest, WrongInputWidthIsNamed) {
  const Snapshot before(*model_);
  std::vector<float> wide(6 * 5, 0.0f);
  ExpectRejected(
      model_->TrainStep(MatrixView{wide.data(), 6, 5}, TargetsView::Labels(labels_.data(), 6)),
      absl::StatusCode::kInvalidArgument, "x.shape[1] is 5, the session's input size is 4", before);
  Matrix outputs;
  EXPECT_THAT(model_->Predict(MatrixView{wide.data(), 6, 5}, &outputs).message(),
              HasSubstr("x.shape[1] is 5"));
}

TEST_F(BadInputTest, EmptyBatchIsRejected) {
  const Snapshot before(*model_);
  ExpectRejected(model_->TrainStep(MatrixView{x_.data(), 0, 4}, TargetsView::Labels(nullptr, 0)),
                 absl::StatusCode::kInvalidArgument, "x.shape[0] is 0", before);
  EXPECT_FALSE(model_->Evaluate(MatrixView{x_.data(), 0, 4}, TargetsView::Labels(nullptr, 0)).ok());
}

TEST_F(BadInputTest, NonFiniteInputIsRejected) {
  const Snapshot before(*model_);
  std::vector<float> x = x_;
  x[9] = std::numeric_limits<float>::infinity();
  ExpectRejected(
      model_->TrainStep(MatrixView{x.data(), 6, 4}, TargetsView::Labels(labels_.data(), 6)),
      absl::StatusCode::kInvalidArgument, "x[2, 1] is inf; every value must be finite", before);
  x[9] = std::numeric_limits<float>::quiet_NaN();
  Matrix outputs;
  EXPECT_EQ(model_->Predict(MatrixView{x.data(), 6, 4}, &outputs).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(BadInputTest, LabelsOutOfRangeOrMiscountedAreRejected) {
  const Snapshot before(*model_);
  std::vector<int32_t> labels = labels_;
  labels[4] = 3;
  ExpectRejected(model_->TrainStep(input(), TargetsView::Labels(labels.data(), 6)),
                 absl::StatusCode::kInvalidArgument, "labels[4] is 3", before);
  labels[4] = -1;
  ExpectRejected(model_->TrainStep(input(), TargetsView::Labels(labels.data(), 6)),
                 absl::StatusCode::kInvalidArgument, "labels[4] is -1", before);
  ExpectRejected(model_->TrainStep(input(), TargetsView::Labels(labels_.data(), 5)),
                 absl::StatusCode::kInvalidArgument, "labels has 5 rows, x has 6 rows", before);
  std::vector<float> values(6 * 3, 0.0f);
  ExpectRejected(model_->TrainStep(input(), TargetsView::Values(MatrixView{values.data(), 6, 3})),
                 absl::StatusCode::kInvalidArgument,
                 "targets are given; CROSS_ENTROPY sessions take labels", before);
}

TEST(BadTargetsTest, MseAndLogisticTargetsAreChecked) {
  auto mse = MustCreate(TestSpec(2, {{2, Activation::kIdentity}}, LossKind::kMse));
  const std::vector<float> x = {1, 2, 3, 4};
  std::vector<float> t = {0, 1, std::numeric_limits<float>::quiet_NaN(), 0};
  const Snapshot before(*mse);
  auto status =
      mse->TrainStep(MatrixView{x.data(), 2, 2}, TargetsView::Values(MatrixView{t.data(), 2, 2}));
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.status().message(),
              HasSubstr("targets[1, 0] is nan; every value must be finite"));
  status =
      mse->TrainStep(MatrixView{x.data(), 2, 2}, TargetsView::Values(MatrixView{t.data(), 1, 4}));
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Snapshot(*mse) == before);

  auto logistic = MustCreate(TestSpec(2, {{1, Activation::kIdentity}}, LossKind::kLogistic));
  const Snapshot before_logistic(*logistic);
  std::vector<float> y = {1.0f, 0.5f};
  status = logistic->TrainStep(MatrixView{x.data(), 2, 2},
                               TargetsView::Values(MatrixView{y.data(), 2, 1}));
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.status().message(),
              HasSubstr("targets[1, 0] is 0.5; LOGISTIC sessions take -1 or +1"));
  EXPECT_TRUE(Snapshot(*logistic) == before_logistic);
}

// The engine and the service share one rule for targets: what the service refuses, the engine
// refuses too, with the same message (the service adds the field's name).
TEST(BadTargetsTest, LabelsOnlyWhereTheyNameAClass) {
  const std::vector<float> x = {1, 2, 3, 4};
  const std::vector<int32_t> labels = {1, 0};
  const TargetsView y = TargetsView::Labels(labels.data(), 2);
  const MatrixView rows{x.data(), 2, 2};

  auto logistic = MustCreate(TestSpec(2, {{1, Activation::kIdentity}}, LossKind::kLogistic));
  EXPECT_THAT(logistic->Evaluate(rows, y).status().message(),
              HasSubstr("labels are given; LOGISTIC sessions take targets [N, 1] of -1 or +1"));
  const Snapshot logistic_before(*logistic);
  EXPECT_THAT(logistic->TrainStep(rows, y).status().message(), HasSubstr("LOGISTIC sessions"));
  EXPECT_TRUE(Snapshot(*logistic) == logistic_before);

  auto mse = MustCreate(TestSpec(2, {{2, Activation::kIdentity}}, LossKind::kMse));
  const Snapshot mse_before(*mse);
  EXPECT_THAT(mse->TrainStep(rows, y).status().message(),
              HasSubstr("labels are given; MSE sessions train on targets [N, 2]"));
  EXPECT_TRUE(Snapshot(*mse) == mse_before);
  EXPECT_TRUE(mse->Evaluate(rows, y).ok());  // Evaluation compares the argmax with the label.

  auto one_output = MustCreate(TestSpec(2, {{1, Activation::kIdentity}}, LossKind::kMse));
  EXPECT_THAT(one_output->Evaluate(rows, y).status().message(),
              HasSubstr("1 output, so labels name no class"));
}

TEST(DivergenceTest, OverflowingStepIsNotApplied) {
  ModelSpec spec = TestSpec(3, {{4, Activation::kIdentity}, {2, Activation::kIdentity}},
                            LossKind::kMse, Reduction::kSum, OptimizerKind::kMomentum,
                            /*learning_rate=*/1e37f);
  auto model = MustCreate(spec);
  const std::vector<float> x = {10, -20, 30, 5, 6, -7};
  const std::vector<float> t = {100, -100, 50, 50};
  const TargetsView y = TargetsView::Values(MatrixView{t.data(), 2, 2});
  const Snapshot before(*model);
  auto step = model->TrainStep(MatrixView{x.data(), 2, 3}, y);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(step.status().message(), HasSubstr("not applied"));
  EXPECT_TRUE(Snapshot(*model) == before);

  // The same model still trains on a batch whose step stays finite.
  const std::vector<float> tiny_x(6, 0.0f);
  Matrix outputs;
  ASSERT_TRUE(model->Predict(MatrixView{tiny_x.data(), 2, 3}, &outputs).ok());
  EXPECT_TRUE(model
                  ->TrainStep(MatrixView{tiny_x.data(), 2, 3},
                              TargetsView::Values(MatrixView{outputs.data.data(), 2, 2}))
                  .ok());
}

TEST(DivergenceTest, InfiniteLossIsNotApplied) {
  ModelSpec spec = TestSpec(2, {{1, Activation::kIdentity}}, LossKind::kMse, Reduction::kSum);
  spec.init = {InitKind::kNormal, 1.0f, 1};
  auto model = MustCreate(spec);
  const std::vector<float> x = {3e37f, -3e37f};
  const std::vector<float> t = {0.0f};
  const Snapshot before(*model);
  auto step =
      model->TrainStep(MatrixView{x.data(), 1, 2}, TargetsView::Values(MatrixView{t.data(), 1, 1}));
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(step.status().message(), HasSubstr("loss"));
  EXPECT_TRUE(Snapshot(*model) == before);
}

}  // namespace
}  // namespace mlpd

namespace mlpd {
namespace {

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

TEST(MemoryTest, ManySmallTrainedModelsCostLittleMoreThanTheirParameters) {
  // The server hosts 10,000 small sessions in 1 GiB: about 100 KB each, all included.
  const ModelSpec spec =
      TestSpec(16, {{64, Activation::kTanh}, {64, Activation::kTanh}, {1, Activation::kIdentity}},
               LossKind::kMse, Reduction::kMean, OptimizerKind::kAdam, 0.01f);
  const std::vector<float> x = RandomValues(32 * 16, 16);
  const BatchTargets targets = TargetsFor(spec, 32, 17);
  const MatrixView input{x.data(), 32, 16};
  auto warm = MustCreate(spec);  // Builds this thread's plan before the baseline.
  ASSERT_TRUE(warm->TrainStep(input, targets.view()).ok());

  const int64_t before = ResidentBytes();
  std::vector<std::unique_ptr<Model>> models;
  for (int i = 0; i < 1000; ++i) {
    models.push_back(MustCreate(spec));
    ASSERT_TRUE(models.back()->TrainStep(input, targets.view()).ok());
  }
  const int64_t per_model = (ResidentBytes() - before) / 1000;
  const int64_t owned = 4 * 3 * models[0]->parameter_count();  // Parameters and Adam's moments.
  EXPECT_LE(per_model, 100 * 1024);
  EXPECT_LE(per_model, owned + 8 * 1024);
  EXPECT_GE(models[0]->ApproximateBytes(), owned);
}

}  // namespace
}  // namespace mlpd

namespace mlpd {
namespace {

TEST(InitTest, AScaleThatDrawsNonFiniteWeightsIsRefused) {
  ModelSpec spec =
      TestSpec(4, {{8, Activation::kTanh}, {2, Activation::kIdentity}}, LossKind::kMse);
  spec.init = {InitKind::kNormal, 3e38f, /*seed=*/1};
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(spec);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("spec.init.scale is 3e+38"), std::string::npos)
      << model.status();
  spec.init.scale = 1e3f;  // Large but finite: allowed.
  EXPECT_TRUE(Model::Create(spec).ok());
}

TEST(MemoryTest, StateBytesFromTheSpecMatchTheBuiltModel) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam}) {
    const ModelSpec spec = TestSpec(30, {{20, Activation::kRelu}, {5, Activation::kIdentity}},
                                    LossKind::kCrossEntropy, Reduction::kMean, kind);
    auto model = MustCreate(spec);
    EXPECT_EQ(ModelStateBytes(spec), 4 * (model->parameter_count() + model->optimizer_state_size()))
        << OptimizerKindName(kind);
    EXPECT_GE(model->ApproximateBytes(), ModelStateBytes(spec));
  }
}

TEST(ThreadTest, ModelsOfOneShapeTrainConcurrentlyOnTwoThreadsLikeAlone) {
  // Plans are per thread, so two threads never share a primitive.
  const ModelSpec spec =
      TestSpec(12, {{24, Activation::kSigmoid}, {3, Activation::kIdentity}},
               LossKind::kCrossEntropy, Reduction::kMean, OptimizerKind::kMomentum, 0.05f);
  const std::vector<float> x = RandomValues(10 * 12, 18);
  const BatchTargets targets = TargetsFor(spec, 10, 19);
  auto train = [&](Model* model) {
    for (int step = 0; step < 50; ++step) {
      if (!model->TrainStep(MatrixView{x.data(), 10, 12}, targets.view()).ok()) return;
    }
  };
  auto alone = MustCreate(spec);
  train(alone.get());
  auto first = MustCreate(spec);
  auto second = MustCreate(spec);
  std::thread worker_one(train, first.get());
  std::thread worker_two(train, second.get());
  worker_one.join();
  worker_two.join();
  EXPECT_EQ(first->step_count(), 50);
  EXPECT_EQ(first->GetParameters(), alone->GetParameters());
  EXPECT_EQ(second->GetParameters(), alone->GetParameters());
}

TEST(ThreadTest, SplittableStepsGiveTheSameWeightsOnOneOrTwoThreads) {
  // Batches this large are timed on one and on two threads and run on the faster
  // (core/thread_choice.h): the choice must not change a single bit of the weights.
  for (OptimizerKind optimizer : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
    const ModelSpec spec = TestSpec(784, {{64, Activation::kTanh}, {10, Activation::kIdentity}},
                                    LossKind::kCrossEntropy, Reduction::kMean, optimizer, 0.01f);
    constexpr int64_t kRows = 160;  // 8.1M multiply-adds per forward pass.
    const std::vector<float> x = RandomValues(kRows * 784, 20);
    const BatchTargets targets = TargetsFor(spec, kRows, 21);
    auto train = [&](int threads) {
      const int previous = omp_get_max_threads();
      omp_set_num_threads(threads);
      auto model = MustCreate(spec);
      for (int step = 0; model != nullptr && step < 12; ++step) {
        EXPECT_TRUE(model->TrainStep(MatrixView{x.data(), kRows, 784}, targets.view()).ok());
      }
      omp_set_num_threads(previous);
      return model->GetParameters();
    };
    EXPECT_EQ(train(1), train(2)) << OptimizerKindName(optimizer);
  }
}

}  // namespace
}  // namespace mlpd
