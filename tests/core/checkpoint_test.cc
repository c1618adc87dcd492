// Tests of the NATIVE checkpoint: what it captures, that a restored model trains bit for bit
// like the original, and that damaged checkpoints are rejected with the field named.
#include "core/checkpoint.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/base/casts.h"
#include "core/spec_proto.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "tests/core/engine_test_util.h"

namespace mlpd {
namespace {

using ::mlpd::testing::RandomValues;
using ::mlpd::testing::TargetsFor;
using ::mlpd::testing::TestSpec;
using ::testing::HasSubstr;

constexpr int64_t kInputs = 6;
constexpr int64_t kRows = 8;

std::unique_ptr<Model> CreateModel(const ModelSpec& spec) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(spec);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

// TrainSteps runs `steps` steps on seeded batches that depend only on `first_seed` and the step.
void TrainSteps(Model& model, int first_seed, int steps) {
  for (int step = 0; step < steps; ++step) {
    const uint64_t seed = static_cast<uint64_t>(first_seed + step);
    const std::vector<float> x = RandomValues(kRows * kInputs, seed);
    const testing::BatchTargets y = TargetsFor(model.spec(), kRows, seed + 1000);
    absl::StatusOr<float> loss = model.TrainStep(MatrixView{x.data(), kRows, kInputs}, y.view());
    ASSERT_TRUE(loss.ok()) << loss.status();
  }
}

// Bit-level comparison: identical training must give identical floats, not merely close ones.
// Element by element: an SGD model's optimizer state is empty, and memcpy from an empty
// vector's null data() is undefined even for zero bytes (UBSan stops on it).
std::vector<uint32_t> Bits(const std::vector<float>& values) {
  std::vector<uint32_t> bits;
  bits.reserve(values.size());
  for (const float value : values) bits.push_back(absl::bit_cast<uint32_t>(value));
  return bits;
}

ModelSpec SpecFor(OptimizerKind optimizer, LossKind loss) {
  const int64_t outputs = loss == LossKind::kLogistic ? 1 : 3;
  const Activation last = loss == LossKind::kMse ? Activation::kTanh : Activation::kIdentity;
  return TestSpec(kInputs, {{5, Activation::kRelu}, {4, Activation::kSigmoid}, {outputs, last}},
                  loss, Reduction::kMean, optimizer, /*learning_rate=*/0.05f);
}

struct Case {
  OptimizerKind optimizer;
  LossKind loss;
};

class CheckpointRoundTripTest : public ::testing::TestWithParam<Case> {};

TEST_P(CheckpointRoundTripTest, RestoredModelTrainsExactlyLikeTheOriginal) {
  const ModelSpec spec = SpecFor(GetParam().optimizer, GetParam().loss);
  std::unique_ptr<Model> original = CreateModel(spec);
  ASSERT_NE(original, nullptr);
  TrainSteps(*original, /*first_seed=*/1, /*steps=*/3);

  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*original);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  // Through the wire format, as an export and a snapshot travel.
  v1::Checkpoint parsed;
  ASSERT_TRUE(parsed.ParseFromString(checkpoint->SerializeAsString()));
  absl::StatusOr<std::unique_ptr<Model>> restored = RestoreCheckpoint(parsed);
  ASSERT_TRUE(restored.ok()) << restored.status();
  Model& copy = **restored;

  EXPECT_EQ(copy.step_count(), 3);
  EXPECT_EQ(copy.samples_seen(), original->samples_seen());
  EXPECT_EQ(copy.last_loss(), original->last_loss());
  EXPECT_EQ(Bits(copy.GetParameters()), Bits(original->GetParameters()));
  EXPECT_EQ(Bits(copy.GetOptimizerState()), Bits(original->GetOptimizerState()));

  TrainSteps(*original, /*first_seed=*/10, /*steps=*/4);
  TrainSteps(copy, /*first_seed=*/10, /*steps=*/4);
  EXPECT_EQ(copy.step_count(), 7);
  EXPECT_EQ(copy.step_count(), original->step_count());
  EXPECT_EQ(copy.samples_seen(), original->samples_seen());
  EXPECT_EQ(copy.last_loss(), original->last_loss());
  EXPECT_EQ(Bits(copy.GetParameters()), Bits(original->GetParameters()));
  EXPECT_EQ(Bits(copy.GetOptimizerState()), Bits(original->GetOptimizerState()));
}

INSTANTIATE_TEST_SUITE_P(EveryOptimizer, CheckpointRoundTripTest,
                         ::testing::Values(Case{OptimizerKind::kSgd, LossKind::kMse},
                                           Case{OptimizerKind::kMomentum, LossKind::kMse},
                                           Case{OptimizerKind::kAdam, LossKind::kMse},
                                           Case{OptimizerKind::kSgd, LossKind::kCrossEntropy},
                                           Case{OptimizerKind::kMomentum, LossKind::kCrossEntropy},
                                           Case{OptimizerKind::kAdam, LossKind::kCrossEntropy},
                                           Case{OptimizerKind::kAdam, LossKind::kLogistic}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(OptimizerKindName(info.param.optimizer)) + "_" +
                                  std::string(LossKindName(info.param.loss));
                         });

TEST(CheckpointTest, CapturesSpecParametersStateAndCounters) {
  std::unique_ptr<Model> model = CreateModel(SpecFor(OptimizerKind::kAdam, LossKind::kMse));
  ASSERT_NE(model, nullptr);
  TrainSteps(*model, 1, 2);
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*model);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->format_version(), kCheckpointFormatVersion);
  v1::ModelSpec expected_spec;
  SpecToProto(model->spec(), &expected_spec);
  EXPECT_EQ(checkpoint->spec().SerializeAsString(), expected_spec.SerializeAsString());
  EXPECT_EQ(checkpoint->parameters_size(), model->parameter_count());
  EXPECT_EQ(std::vector<float>(checkpoint->parameters().begin(), checkpoint->parameters().end()),
            model->GetParameters());
  // Adam keeps two moments per parameter.
  EXPECT_EQ(checkpoint->optimizer_state_size(), 2 * model->parameter_count());
  EXPECT_EQ(checkpoint->step_count(), 2);
  EXPECT_EQ(checkpoint->samples_seen(), 2 * kRows);
  ASSERT_TRUE(checkpoint->has_last_loss());
  EXPECT_EQ(checkpoint->last_loss(), model->last_loss());
  EXPECT_NE(checkpoint->last_loss(), 0.0f);
}

// Import, training and load share one counter bound: a model imported at the bound cannot
// step past it, so the checkpoint of every model it can reach restores (a session saved at
// step 2^53 + 1 used to be quarantined at the next start).
TEST(CheckpointTest, EveryCheckpointAModelCanReachRestores) {
  std::unique_ptr<Model> model = CreateModel(SpecFor(OptimizerKind::kAdam, LossKind::kMse));
  ASSERT_NE(model, nullptr);
  TrainSteps(*model, 1, 1);
  absl::StatusOr<v1::Checkpoint> at_bound = MakeCheckpoint(*model);
  ASSERT_TRUE(at_bound.ok()) << at_bound.status();
  at_bound->set_step_count(kMaxCounter);
  absl::StatusOr<std::unique_ptr<Model>> imported = RestoreCheckpoint(*at_bound);
  ASSERT_TRUE(imported.ok()) << imported.status();

  const std::vector<float> before = (*imported)->GetParameters();
  const std::vector<float> x = RandomValues(kRows * kInputs, 3);
  const testing::BatchTargets y = TargetsFor((*imported)->spec(), kRows, 4);
  absl::StatusOr<float> step =
      (*imported)->TrainStep(MatrixView{x.data(), kRows, kInputs}, y.view());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(step.status().message()), HasSubstr("limit of 9007199254740992"));
  EXPECT_EQ((*imported)->step_count(), kMaxCounter);
  EXPECT_EQ(Bits((*imported)->GetParameters()), Bits(before));

  absl::StatusOr<v1::Checkpoint> saved = MakeCheckpoint(**imported);
  ASSERT_TRUE(saved.ok()) << saved.status();
  absl::StatusOr<std::unique_ptr<Model>> loaded = RestoreCheckpoint(*saved);
  EXPECT_TRUE(loaded.ok()) << loaded.status();

  // samples_seen meets the same bound: a step whose rows would pass it is not applied.
  at_bound->set_step_count(1);
  at_bound->set_samples_seen(kMaxCounter - kRows + 1);
  imported = RestoreCheckpoint(*at_bound);
  ASSERT_TRUE(imported.ok()) << imported.status();
  step = (*imported)->TrainStep(MatrixView{x.data(), kRows, kInputs}, y.view());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*imported)->samples_seen(), kMaxCounter - kRows + 1);
}

TEST(CheckpointTest, LastLossIsAbsentBeforeTheFirstStep) {
  std::unique_ptr<Model> model = CreateModel(SpecFor(OptimizerKind::kSgd, LossKind::kMse));
  ASSERT_NE(model, nullptr);
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*model);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_FALSE(checkpoint->has_last_loss());
  EXPECT_TRUE(RestoreCheckpoint(*checkpoint).ok());
}

// The enum numbers version 1 files were written with. Renaming the values for API 1.0 kept
// them; a change here would make old files read with other meanings.
TEST(CheckpointTest, EnumNumbersAreThoseVersion1Wrote) {
  EXPECT_EQ(v1::ACTIVATION_IDENTITY, 1);
  EXPECT_EQ(v1::ACTIVATION_RELU, 2);
  EXPECT_EQ(v1::ACTIVATION_TANH, 3);
  EXPECT_EQ(v1::ACTIVATION_SIGMOID, 4);
  EXPECT_EQ(v1::LOSS_KIND_MSE, 1);
  EXPECT_EQ(v1::LOSS_KIND_CROSS_ENTROPY, 2);
  EXPECT_EQ(v1::LOSS_KIND_LOGISTIC, 3);
  EXPECT_EQ(v1::REDUCTION_MEAN, 1);
  EXPECT_EQ(v1::REDUCTION_SUM, 2);
  EXPECT_EQ(v1::OPTIMIZER_KIND_SGD, 1);
  EXPECT_EQ(v1::OPTIMIZER_KIND_MOMENTUM, 2);
  EXPECT_EQ(v1::OPTIMIZER_KIND_ADAM, 3);
  EXPECT_EQ(v1::INIT_KIND_NORMAL, 1);
  EXPECT_EQ(v1::INIT_KIND_UNIFORM, 2);
  EXPECT_EQ(v1::INIT_KIND_XAVIER, 3);
  EXPECT_EQ(v1::INIT_KIND_KAIMING, 4);
}

// Version1Bytes encodes a checkpoint field by field as a build before API 1.0 wrote it
// (format_version 1, last_loss a float in field 7 and absent when 0), without today's schema.
std::string Version1Bytes(const Model& model) {
  v1::ModelSpec spec;
  SpecToProto(model.spec(), &spec);
  const std::vector<float> parameters = model.GetParameters();
  const std::vector<float> state = model.GetOptimizerState();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    constexpr uint32_t kVarint = 0, kLengthDelimited = 2, kFixed32 = 5;
    const auto tag = [&](uint32_t field, uint32_t wire_type) {
      out.WriteTag((field << 3) | wire_type);
    };
    const auto floats = [&](uint32_t field, const std::vector<float>& values) {
      if (values.empty()) return;
      tag(field, kLengthDelimited);
      out.WriteVarint32(static_cast<uint32_t>(values.size() * sizeof(float)));
      out.WriteRaw(values.data(), static_cast<int>(values.size() * sizeof(float)));
    };
    tag(1, kVarint);
    out.WriteVarint32(1);
    tag(2, kLengthDelimited);
    const std::string spec_bytes = spec.SerializeAsString();
    out.WriteVarint32(static_cast<uint32_t>(spec_bytes.size()));
    out.WriteString(spec_bytes);
    floats(3, parameters);
    floats(4, state);
    if (model.step_count() != 0) {
      tag(5, kVarint);
      out.WriteVarint64(static_cast<uint64_t>(model.step_count()));
      tag(6, kVarint);
      out.WriteVarint64(static_cast<uint64_t>(model.samples_seen()));
    }
    const float loss = model.last_loss();
    if (loss != 0.0f) {
      uint32_t loss_bits;
      std::memcpy(&loss_bits, &loss, sizeof(loss_bits));
      tag(7, kFixed32);
      out.WriteLittleEndian32(loss_bits);
    }
  }
  return bytes;
}

TEST(CheckpointTest, Version1FilesReadWithTheMeaningsTheyWereWrittenWith) {
  for (OptimizerKind optimizer :
       {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam}) {
    std::unique_ptr<Model> model = CreateModel(SpecFor(optimizer, LossKind::kCrossEntropy));
    ASSERT_NE(model, nullptr);
    for (int steps : {0, 3}) {
      TrainSteps(*model, 1, steps);
      v1::Checkpoint old;
      ASSERT_TRUE(old.ParseFromString(Version1Bytes(*model)));
      EXPECT_EQ(old.format_version(), 1u);
      absl::StatusOr<std::unique_ptr<Model>> restored = RestoreCheckpoint(old);
      ASSERT_TRUE(restored.ok()) << restored.status();
      const Model& copy = **restored;
      EXPECT_EQ(copy.spec().optimizer.kind, optimizer);
      EXPECT_EQ(copy.spec().optimizer.momentum, model->spec().optimizer.momentum);
      EXPECT_EQ(copy.spec().optimizer.beta1, model->spec().optimizer.beta1);
      EXPECT_EQ(copy.spec().optimizer.epsilon, model->spec().optimizer.epsilon);
      EXPECT_EQ(Bits(copy.GetParameters()), Bits(model->GetParameters()));
      EXPECT_EQ(Bits(copy.GetOptimizerState()), Bits(model->GetOptimizerState()));
      EXPECT_EQ(copy.step_count(), model->step_count());
      EXPECT_EQ(copy.samples_seen(), model->samples_seen());
      EXPECT_EQ(copy.last_loss(), model->last_loss());
      if (steps > 0) {
        EXPECT_NE(copy.last_loss(), 0.0f);
      }
      // Written again, it is a version 2 checkpoint with the loss where version 2 keeps it.
      absl::StatusOr<v1::Checkpoint> rewritten = MakeCheckpoint(copy);
      ASSERT_TRUE(rewritten.ok());
      EXPECT_EQ(rewritten->format_version(), kCheckpointFormatVersion);
      EXPECT_EQ(rewritten->has_last_loss(), copy.step_count() > 0);
    }
  }
}

class CheckpointRejectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<Model> model =
        CreateModel(SpecFor(OptimizerKind::kMomentum, LossKind::kCrossEntropy));
    ASSERT_NE(model, nullptr);
    TrainSteps(*model, 1, 1);
    absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*model);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    checkpoint_ = *checkpoint;
    ASSERT_TRUE(RestoreCheckpoint(checkpoint_).ok());
  }

  void ExpectRejected(const std::string& message_part) {
    absl::StatusOr<std::unique_ptr<Model>> restored = RestoreCheckpoint(checkpoint_);
    ASSERT_FALSE(restored.ok());
    EXPECT_EQ(restored.status().code(), absl::StatusCode::kInvalidArgument) << restored.status();
    EXPECT_THAT(restored.status().message(), HasSubstr(message_part));
  }

  v1::Checkpoint checkpoint_;
};

TEST_F(CheckpointRejectionTest, WrongFormatVersion) {
  checkpoint_.set_format_version(3);
  ExpectRejected("checkpoint.format_version is 3, this build reads versions 1 and 2");
}

TEST_F(CheckpointRejectionTest, LastLossMissingAfterSteps) {
  checkpoint_.clear_last_loss();
  ExpectRejected("checkpoint.last_loss is unset with step_count 1");
}

TEST_F(CheckpointRejectionTest, LastLossBeforeAnyStep) {
  checkpoint_.set_step_count(0);
  ExpectRejected("checkpoint.last_loss is set with step_count 0");
}

TEST_F(CheckpointRejectionTest, LastLossBeyondFloat) {
  checkpoint_.set_last_loss(1e300);
  ExpectRejected("checkpoint.last_loss is inf, expected a finite float");
}

TEST_F(CheckpointRejectionTest, MissingFormatVersion) {
  checkpoint_.clear_format_version();
  ExpectRejected("checkpoint.format_version is 0");
}

TEST_F(CheckpointRejectionTest, TooFewParameters) {
  checkpoint_.mutable_parameters()->RemoveLast();
  ExpectRejected("checkpoint.parameters has");
}

TEST_F(CheckpointRejectionTest, TooManyParameters) {
  checkpoint_.add_parameters(0.5f);
  ExpectRejected("checkpoint.parameters has");
}

TEST_F(CheckpointRejectionTest, WrongOptimizerStateSize) {
  checkpoint_.add_optimizer_state(0.5f);
  ExpectRejected("checkpoint.optimizer_state has");
}

TEST_F(CheckpointRejectionTest, StateOfAnotherOptimizer) {
  // A momentum checkpoint relabelled as Adam lacks the second moment.
  checkpoint_.mutable_spec()->mutable_optimizer()->set_kind(v1::OPTIMIZER_KIND_ADAM);
  ExpectRejected("checkpoint.optimizer_state has");
}

TEST_F(CheckpointRejectionTest, NonFiniteParameter) {
  checkpoint_.set_parameters(3, std::numeric_limits<float>::quiet_NaN());
  ExpectRejected("checkpoint.parameters[3]");
}

TEST_F(CheckpointRejectionTest, NonFiniteOptimizerState) {
  checkpoint_.set_optimizer_state(1, std::numeric_limits<float>::infinity());
  ExpectRejected("checkpoint.optimizer_state[1]");
}

TEST_F(CheckpointRejectionTest, NegativeCounters) {
  checkpoint_.set_step_count(-1);
  ExpectRejected("checkpoint.step_count is -1");
  checkpoint_.set_step_count(1);
  checkpoint_.set_samples_seen(-5);
  ExpectRejected("checkpoint.samples_seen is -5");
}

TEST_F(CheckpointRejectionTest, CountersNearTheirEnd) {
  // One more step would wrap int64 to a negative count.
  checkpoint_.set_step_count(std::numeric_limits<int64_t>::max());
  ExpectRejected("checkpoint.step_count is 9223372036854775807, expected 0 to");
  checkpoint_.set_step_count(int64_t{1} << 53);
  checkpoint_.set_samples_seen((int64_t{1} << 53) + 1);
  ExpectRejected("checkpoint.samples_seen is 9007199254740993, expected 0 to");
}

TEST_F(CheckpointRejectionTest, UnspecifiedActivation) {
  checkpoint_.mutable_spec()->mutable_layers(1)->set_activation(v1::ACTIVATION_UNSPECIFIED);
  ExpectRejected("activation");
}

TEST_F(CheckpointRejectionTest, LayerWithoutUnits) {
  checkpoint_.mutable_spec()->mutable_layers(0)->set_units(0);
  ExpectRejected("units");
}

}  // namespace
}  // namespace mlpd
