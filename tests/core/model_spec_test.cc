// ModelSpec validation, defaults, names, and conversion to and from mlpd.v1.ModelSpec.
#include "core/model_spec.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/spec_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

ModelSpec PracticalSpec() {
  ModelSpec spec;
  spec.input_size = 784;
  spec.layers = {{50, Activation::kTanh}, {10, Activation::kTanh}};
  spec.loss = {LossKind::kMse, Reduction::kSum};
  spec.optimizer.kind = OptimizerKind::kSgd;
  spec.optimizer.learning_rate = 1e-4f;
  spec.init = {InitKind::kNormal, 1e-6f, 0};
  return spec;
}

void ExpectInvalid(const ModelSpec& spec, const std::string& message_part) {
  const absl::Status status = ValidateModelSpec(WithDefaults(spec));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message_part;
  EXPECT_THAT(status.message(), HasSubstr(message_part));
}

TEST(ModelSpecTest, ThePracticalIsValid) {
  const ModelSpec spec = PracticalSpec();
  EXPECT_TRUE(ValidateModelSpec(WithDefaults(spec)).ok());
  EXPECT_EQ(ParameterCount(spec), 784 * 50 + 50 + 50 * 10 + 10);
  EXPECT_EQ(LayerSizesString(spec), "784-50-10");
  EXPECT_EQ(spec.output_size(), 10);
}

TEST(ModelSpecTest, BadShapesAreNamed) {
  ModelSpec spec = PracticalSpec();
  spec.layers[1].units = 0;
  ExpectInvalid(spec, "spec.layers[1].units is 0");
  spec = PracticalSpec();
  spec.input_size = 0;
  ExpectInvalid(spec, "spec.input_size is 0");
  spec = PracticalSpec();
  spec.layers.clear();
  ExpectInvalid(spec, "spec.layers is empty");
  spec = PracticalSpec();
  spec.layers[0].units = kMaxLayerUnits + 1;
  ExpectInvalid(spec, "spec.layers[0].units is 1048577");
  spec = PracticalSpec();
  spec.input_size = 1 << 20;
  spec.layers[0].units = 1 << 20;  // 2^40 weights.
  ExpectInvalid(spec, "parameters");
  spec = PracticalSpec();
  spec.layers.assign(kMaxLayers + 1, LayerSpec{2, Activation::kRelu});
  ExpectInvalid(spec, "65 layers");
  spec = PracticalSpec();
  spec.layers[0].activation = static_cast<Activation>(17);
  ExpectInvalid(spec, "spec.layers[0].activation is unknown");
}

TEST(ModelSpecTest, LossMustFitTheOutputLayer) {
  ModelSpec spec = PracticalSpec();
  spec.loss = {LossKind::kLogistic, Reduction::kMean};
  spec.layers = {{3, Activation::kIdentity}};
  ExpectInvalid(spec, "spec.layers[0].units is 3, expected 1 for the logistic loss");
  spec.layers = {{1, Activation::kSigmoid}};
  ExpectInvalid(spec, "expected identity for the logistic loss");
  spec.loss = {LossKind::kCrossEntropy, Reduction::kMean};
  spec.layers = {{10, Activation::kTanh}};
  ExpectInvalid(spec, "expected identity for cross_entropy");
  spec.layers = {{1, Activation::kIdentity}};
  ExpectInvalid(spec, "at least 2 classes");
  spec.layers = {{10, Activation::kIdentity}};
  spec.loss.reduction = Reduction::kSum;
  ExpectInvalid(spec, "expected mean for cross_entropy");
}

TEST(ModelSpecTest, HyperparametersAreChecked) {
  ModelSpec spec = PracticalSpec();
  spec.optimizer.learning_rate = 0.0f;
  ExpectInvalid(spec, "spec.optimizer.learning_rate is 0");
  spec.optimizer.learning_rate = std::numeric_limits<float>::quiet_NaN();
  ExpectInvalid(spec, "spec.optimizer.learning_rate is nan");
  spec = PracticalSpec();
  spec.optimizer.kind = OptimizerKind::kMomentum;
  spec.optimizer.momentum = 1.0f;
  ExpectInvalid(spec, "spec.optimizer.momentum is 1");
  spec = PracticalSpec();
  spec.optimizer.kind = OptimizerKind::kAdam;
  spec.optimizer.beta2 = -0.5f;
  ExpectInvalid(spec, "spec.optimizer.beta2 is -0.5");
  spec = PracticalSpec();
  spec.init.scale = 0.0f;
  ExpectInvalid(spec, "spec.init.scale is 0");
  spec.init.kind = InitKind::kXavier;  // Ignores the scale.
  EXPECT_TRUE(ValidateModelSpec(WithDefaults(spec)).ok());
}

TEST(ModelSpecTest, DefaultsFillOnlyTheChosenOptimizer) {
  ModelSpec spec = PracticalSpec();
  spec.optimizer.kind = OptimizerKind::kAdam;
  const ModelSpec adam = WithDefaults(spec);
  EXPECT_EQ(adam.optimizer.beta1, 0.9f);
  EXPECT_EQ(adam.optimizer.beta2, 0.999f);
  EXPECT_EQ(adam.optimizer.epsilon, 1e-8f);
  EXPECT_FALSE(adam.optimizer.momentum.has_value());
  spec.optimizer.kind = OptimizerKind::kMomentum;
  spec.optimizer.momentum = 0.5f;
  EXPECT_EQ(WithDefaults(spec).optimizer.momentum, 0.5f);
  // A set 0 is a value, not "the default".
  spec.optimizer.momentum = 0.0f;
  EXPECT_EQ(WithDefaults(spec).optimizer.momentum, 0.0f);
  EXPECT_TRUE(ValidateModelSpec(WithDefaults(spec)).ok());
  spec.optimizer.kind = OptimizerKind::kAdam;
  spec.optimizer.beta1 = 0.0f;
  EXPECT_EQ(WithDefaults(spec).optimizer.beta1, 0.0f);
  EXPECT_EQ(WithDefaults(spec).optimizer.beta2, 0.999f);
  spec.optimizer.beta1.reset();
  // Another optimizer's hyperparameters, even invalid ones, are dropped.
  spec.optimizer.kind = OptimizerKind::kSgd;
  spec.optimizer.momentum = std::nanf("");
  spec.optimizer.beta1 = std::nanf("");
  spec.optimizer.epsilon = -1.0f;
  const ModelSpec sgd = WithDefaults(spec);
  EXPECT_FALSE(sgd.optimizer.momentum.has_value());
  EXPECT_FALSE(sgd.optimizer.beta1.has_value());
  EXPECT_FALSE(sgd.optimizer.epsilon.has_value());
  EXPECT_TRUE(ValidateModelSpec(sgd).ok());
}

TEST(ModelSpecTest, NamesRoundTrip) {
  for (Activation a :
       {Activation::kIdentity, Activation::kRelu, Activation::kTanh, Activation::kSigmoid}) {
    EXPECT_EQ(*ParseActivation(ActivationName(a)), a);
  }
  for (LossKind k : {LossKind::kMse, LossKind::kCrossEntropy, LossKind::kLogistic}) {
    EXPECT_EQ(*ParseLossKind(LossKindName(k)), k);
  }
  for (OptimizerKind k : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam}) {
    EXPECT_EQ(*ParseOptimizerKind(OptimizerKindName(k)), k);
  }
  for (InitKind k :
       {InitKind::kNormal, InitKind::kUniform, InitKind::kXavier, InitKind::kKaiming}) {
    EXPECT_EQ(*ParseInitKind(InitKindName(k)), k);
  }
  EXPECT_EQ(*ParseReduction("SUM"), Reduction::kSum);
  EXPECT_EQ(*ParseActivation("TANH"), Activation::kTanh);
  const absl::StatusOr<Activation> unknown = ParseActivation("softplus");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown activation 'softplus'"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("identity, relu, tanh, sigmoid"));
}

TEST(SpecProtoTest, RoundTripKeepsEveryField) {
  ModelSpec spec = PracticalSpec();
  spec.layers.push_back({4, Activation::kRelu});
  spec.layers.push_back({3, Activation::kSigmoid});
  spec.optimizer = {OptimizerKind::kAdam, 0.01f, 0.0f, 0.8f, 0.99f, 1e-7f};
  spec.init = {InitKind::kUniform, 0.25f, 123456789012345ULL};
  v1::ModelSpec proto;
  SpecToProto(spec, &proto);
  EXPECT_EQ(proto.layers(2).activation(), v1::ACTIVATION_RELU);
  EXPECT_EQ(proto.loss().reduction(), v1::REDUCTION_SUM);
  absl::StatusOr<ModelSpec> back = SpecFromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->input_size, spec.input_size);
  ASSERT_EQ(back->layers.size(), spec.layers.size());
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    EXPECT_EQ(back->layers[l].units, spec.layers[l].units);
    EXPECT_EQ(back->layers[l].activation, spec.layers[l].activation);
  }
  EXPECT_EQ(back->loss.kind, spec.loss.kind);
  EXPECT_EQ(back->loss.reduction, spec.loss.reduction);
  EXPECT_EQ(back->optimizer.kind, OptimizerKind::kAdam);
  EXPECT_FLOAT_EQ(back->optimizer.learning_rate, 0.01f);
  EXPECT_EQ(back->optimizer.beta1, 0.8f);
  EXPECT_EQ(back->optimizer.beta2, 0.99f);
  EXPECT_EQ(back->optimizer.epsilon, 1e-7f);
  EXPECT_EQ(back->init.kind, InitKind::kUniform);
  EXPECT_FLOAT_EQ(back->init.scale, 0.25f);
  EXPECT_EQ(back->init.seed, 123456789012345ULL);
}

TEST(SpecProtoTest, UnspecifiedEnumsAreNamedAndDefaultsFilled) {
  v1::ModelSpec proto;
  SpecToProto(PracticalSpec(), &proto);
  proto.mutable_layers(1)->set_activation(v1::ACTIVATION_UNSPECIFIED);
  EXPECT_THAT(SpecFromProto(proto).status().message(),
              HasSubstr("spec.layers[1].activation is unspecified"));
  SpecToProto(PracticalSpec(), &proto);
  proto.mutable_optimizer()->set_kind(v1::OPTIMIZER_KIND_UNSPECIFIED);
  EXPECT_THAT(SpecFromProto(proto).status().message(),
              HasSubstr("spec.optimizer.kind is unspecified"));
  SpecToProto(PracticalSpec(), &proto);
  proto.mutable_init()->set_kind(static_cast<v1::InitKind>(42));
  EXPECT_THAT(SpecFromProto(proto).status().message(), HasSubstr("spec.init.kind"));

  SpecToProto(PracticalSpec(), &proto);
  proto.mutable_loss()->set_reduction(v1::REDUCTION_UNSPECIFIED);
  proto.mutable_optimizer()->set_kind(v1::OPTIMIZER_KIND_MOMENTUM);
  absl::StatusOr<ModelSpec> spec = SpecFromProto(proto);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->loss.reduction, Reduction::kMean);
  EXPECT_EQ(spec->optimizer.momentum, 0.9f);

  // Presence on the wire: unset takes the default, a set 0 stays 0, and the spec written back
  // sets exactly the chosen optimizer's hyperparameters.
  proto.mutable_optimizer()->set_momentum(0.0f);
  spec = SpecFromProto(proto);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->optimizer.momentum, 0.0f);
  SpecToProto(*spec, &proto);
  EXPECT_TRUE(proto.optimizer().has_momentum());
  EXPECT_EQ(proto.optimizer().momentum(), 0.0f);
  EXPECT_FALSE(proto.optimizer().has_beta1());
  EXPECT_FALSE(proto.optimizer().has_epsilon());
}

}  // namespace
}  // namespace mlpd
