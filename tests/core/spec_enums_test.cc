// Tests of the spec enum tables (spec_enums.h): each table covers every value of its API enum
// but UNSPECIFIED, every row converts both ways, and the conversions that read the tables
// (names, parsing, proto) agree with them.
#include "core/spec_enums.h"

#include <set>
#include <string>

#include "core/model_spec.h"
#include "core/spec_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

// ExpectTableCoversTheApiEnum checks `table` against the descriptor of its proto enum: one row
// per value but the 0 (UNSPECIFIED), distinct names, and conversions back and forth.
template <typename Core, typename Proto, size_t N>
void ExpectTableCoversTheApiEnum(const EnumRow<Core, Proto> (&table)[N],
                                 const google::protobuf::EnumDescriptor* descriptor) {
  SCOPED_TRACE(descriptor->full_name());
  EXPECT_EQ(static_cast<int>(N), descriptor->value_count() - 1);
  std::set<int> numbers;
  std::set<std::string> names;
  for (const EnumRow<Core, Proto>& row : table) {
    EXPECT_NE(descriptor->FindValueByNumber(row.proto), nullptr) << row.name;
    EXPECT_NE(static_cast<int>(row.proto), 0) << row.name;
    numbers.insert(row.proto);
    names.insert(std::string(row.name));
    EXPECT_EQ(CoreOfProto(table, row.proto), row.core) << row.name;
    EXPECT_EQ(ProtoOf(table, row.core), row.proto) << row.name;
    EXPECT_EQ(CoreOfName(table, row.name), row.core) << row.name;
    EXPECT_EQ(NameOf(table, row.core), row.name);
    EXPECT_TRUE(IsKnown(table, row.core)) << row.name;
  }
  EXPECT_EQ(numbers.size(), N);
  EXPECT_EQ(names.size(), N);
  EXPECT_EQ(CoreOfProto(table, static_cast<Proto>(0)), std::nullopt);
  EXPECT_EQ(CoreOfName(table, "no-such-name"), std::nullopt);
}

TEST(SpecEnumsTest, EveryTableCoversItsApiEnum) {
  ExpectTableCoversTheApiEnum(kActivationTable, v1::Activation_descriptor());
  ExpectTableCoversTheApiEnum(kLossKindTable, v1::LossKind_descriptor());
  ExpectTableCoversTheApiEnum(kReductionTable, v1::Reduction_descriptor());
  ExpectTableCoversTheApiEnum(kOptimizerKindTable, v1::OptimizerKind_descriptor());
  ExpectTableCoversTheApiEnum(kInitKindTable, v1::InitKind_descriptor());
}

TEST(SpecEnumsTest, NamesAndParsingReadTheTables) {
  EXPECT_EQ(JoinedNames(kActivationTable), "identity, relu, tanh, sigmoid");
  EXPECT_EQ(ActivationName(Activation::kSigmoid), "sigmoid");
  EXPECT_EQ(ActivationName(static_cast<Activation>(99)), "unknown");
  EXPECT_EQ(*ParseLossKind("CROSS_ENTROPY"), LossKind::kCrossEntropy);
  absl::Status unknown = ParseOptimizerKind("rmsprop").status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.message(), "unknown optimizer 'rmsprop'; expected one of: sgd, momentum, adam");
}

TEST(SpecEnumsTest, ProtoConversionRefusesUnspecifiedAndUnknownButReductionDefaultsToMean) {
  v1::ModelSpec proto;
  proto.set_input_size(2);
  v1::LayerSpec* layer = proto.add_layers();
  layer->set_units(1);
  layer->set_activation(v1::ACTIVATION_IDENTITY);
  proto.mutable_loss()->set_kind(v1::LOSS_KIND_MSE);
  proto.mutable_optimizer()->set_kind(v1::OPTIMIZER_KIND_ADAM);
  proto.mutable_init()->set_kind(v1::INIT_KIND_KAIMING);
  absl::StatusOr<ModelSpec> spec = SpecFromProto(proto);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->loss.reduction, Reduction::kMean);
  EXPECT_EQ(spec->optimizer.kind, OptimizerKind::kAdam);
  EXPECT_EQ(spec->init.kind, InitKind::kKaiming);
  v1::ModelSpec back;
  SpecToProto(*spec, &back);
  EXPECT_EQ(back.loss().reduction(), v1::REDUCTION_MEAN);
  EXPECT_EQ(back.init().kind(), v1::INIT_KIND_KAIMING);

  v1::ModelSpec unspecified = proto;
  unspecified.mutable_layers(0)->set_activation(v1::ACTIVATION_UNSPECIFIED);
  EXPECT_EQ(SpecFromProto(unspecified).status().message(),
            "spec.layers[0].activation is unspecified");

  v1::ModelSpec unknown = proto;
  unknown.mutable_init()->set_kind(static_cast<v1::InitKind>(42));
  EXPECT_EQ(SpecFromProto(unknown).status().message(), "spec.init.kind has unknown value 42");
  unknown = proto;
  unknown.mutable_loss()->set_reduction(static_cast<v1::Reduction>(7));
  EXPECT_THAT(SpecFromProto(unknown).status().message(),
              HasSubstr("spec.loss.reduction has unknown value 7"));
}

}  // namespace
}  // namespace mlpd
