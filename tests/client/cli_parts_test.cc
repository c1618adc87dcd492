// Tests of the pieces mlpctl is made of that need no server: status conversion (the client's
// and the server's directions together), spec flags, data flags and the progress renderings.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/data_flags.h"
#include "client/grpc_status.h"
#include "client/spec_flags.h"
#include "client/train_progress.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/wire.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

TEST(GrpcStatusTest, EveryCodeAndMessageSurviveBothWays) {
  for (int code = 1; code <= 16; ++code) {
    const std::string message = absl::StrCat("message ", code);
    grpc::Status grpc_status(static_cast<grpc::StatusCode>(code), message);
    absl::Status converted = ToAbslStatus(grpc_status);
    EXPECT_EQ(static_cast<int>(converted.code()), code);
    EXPECT_EQ(converted.message(), message);
    grpc::Status back = ToGrpcStatus(converted);
    EXPECT_EQ(back.error_code(), grpc_status.error_code());
    EXPECT_EQ(back.error_message(), message);
  }
  EXPECT_TRUE(ToAbslStatus(grpc::Status::OK).ok());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GrpcStatusTest, StatusLineStartsWithTheCodeName) {
  EXPECT_EQ(StatusLine(absl::InvalidArgumentError("x.shape[1] is 3")),
            "INVALID_ARGUMENT: x.shape[1] is 3");
  EXPECT_EQ(StatusLine(absl::NotFoundError("no session")), "NOT_FOUND: no session");
}

SpecFlags PracticalFlags() {
  SpecFlags flags;
  flags.layers = "784,50,10";
  flags.activations = "tanh,tanh";
  flags.loss = "mse";
  flags.reduction = "sum";
  flags.optimizer = "sgd";
  flags.learning_rate = 1e-4;
  flags.init = "normal:1e-6";
  flags.seed = 3;
  return flags;
}

TEST(SpecFlagsTest, ThePracticalFlagsGiveThePracticalSpec) {
  absl::StatusOr<v1::ModelSpec> spec = SpecFromFlags(PracticalFlags());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->input_size(), 784);
  ASSERT_EQ(spec->layers_size(), 2);
  EXPECT_EQ(spec->layers(0).units(), 50);
  EXPECT_EQ(spec->layers(1).units(), 10);
  EXPECT_EQ(spec->layers(0).activation(), v1::ACTIVATION_TANH);
  EXPECT_EQ(spec->layers(1).activation(), v1::ACTIVATION_TANH);
  EXPECT_EQ(spec->loss().kind(), v1::LOSS_KIND_MSE);
  EXPECT_EQ(spec->loss().reduction(), v1::REDUCTION_SUM);
  EXPECT_EQ(spec->optimizer().kind(), v1::OPTIMIZER_KIND_SGD);
  EXPECT_FLOAT_EQ(spec->optimizer().learning_rate(), 1e-4f);
  EXPECT_EQ(spec->init().kind(), v1::INIT_KIND_NORMAL);
  EXPECT_FLOAT_EQ(spec->init().scale(), 1e-6f);
  EXPECT_EQ(spec->init().seed(), 3u);
  EXPECT_THAT(SpecSummary(*spec), HasSubstr("784-50-10 tanh,tanh mse(sum) sgd"));
}

TEST(SpecFlagsTest, OneActivationAppliesToEveryLayerAndAdamKeepsItsHyperparameters) {
  SpecFlags flags = PracticalFlags();
  flags.layers = "4,8,8,3";
  flags.activations = "relu";
  flags.loss = "mse";
  flags.reduction = "";
  flags.optimizer = "adam";
  flags.beta1 = 0.8;
  flags.beta2 = 0.0;  // Given, so sent: 0 is a value, not "the default".
  flags.init = "kaiming";
  absl::StatusOr<v1::ModelSpec> spec = SpecFromFlags(flags);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->layers_size(), 3);
  for (const v1::LayerSpec& layer : spec->layers())
    EXPECT_EQ(layer.activation(), v1::ACTIVATION_RELU);
  EXPECT_EQ(spec->optimizer().kind(), v1::OPTIMIZER_KIND_ADAM);
  EXPECT_FLOAT_EQ(spec->optimizer().beta1(), 0.8f);
  ASSERT_TRUE(spec->optimizer().has_beta2());
  EXPECT_EQ(spec->optimizer().beta2(), 0.0f);
  EXPECT_FALSE(spec->optimizer().has_momentum());
  EXPECT_EQ(spec->init().kind(), v1::INIT_KIND_KAIMING);
}

TEST(SpecFlagsTest, MistakesNameTheFlag) {
  struct Case {
    void (*edit)(SpecFlags*);
    const char* flag;
  } cases[] = {
      {[](SpecFlags* f) { f->layers = "784,x,10"; }, "--layers"},
      {[](SpecFlags* f) { f->layers = "784"; }, "--layers"},
      {[](SpecFlags* f) { f->activations = "tanh,tanh,tanh"; }, "--activations"},
      {[](SpecFlags* f) { f->activations = "tanh,softplus"; }, "--activations"},
      {[](SpecFlags* f) { f->loss = "hinge"; }, "--loss"},
      {[](SpecFlags* f) { f->reduction = "max"; }, "--reduction"},
      {[](SpecFlags* f) { f->optimizer = "rmsprop"; }, "--optimizer"},
      {[](SpecFlags* f) { f->init = "normal"; }, "--init"},
      {[](SpecFlags* f) { f->init = "uniform:-1"; }, "--init"},
      {[](SpecFlags* f) { f->init = "xavier:2"; }, "--init"},
      {[](SpecFlags* f) { f->init = "zeros"; }, "--init"},
  };
  for (const Case& test_case : cases) {
    SpecFlags flags = PracticalFlags();
    test_case.edit(&flags);
    absl::StatusOr<v1::ModelSpec> spec = SpecFromFlags(flags);
    ASSERT_FALSE(spec.ok()) << test_case.flag;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr(test_case.flag));
  }
  SpecFlags zero_rate = PracticalFlags();
  zero_rate.learning_rate = 0;
  EXPECT_FALSE(SpecFromFlags(zero_rate).ok());
}

// The spec is float32 on the wire: a double flag that does not fit would reach the server as
// inf (or as 0, which some flags read as "the default") and be blamed on a proto field.
TEST(SpecFlagsTest, FloatFlagsThatDoNotFitFloat32NameTheFlag) {
  struct Case {
    void (*edit)(SpecFlags*);
    const char* flag;
  } cases[] = {
      {[](SpecFlags* f) { f->learning_rate = 1e99; }, "--lr"},
      {[](SpecFlags* f) { f->learning_rate = std::nan(""); }, "--lr"},
      {[](SpecFlags* f) { f->momentum = -1e99; }, "--momentum"},
      {[](SpecFlags* f) { f->beta1 = 1e99; }, "--beta1"},
      {[](SpecFlags* f) { f->beta2 = HUGE_VAL; }, "--beta2"},
      {[](SpecFlags* f) { f->epsilon = 1e-99; }, "--eps"},
      {[](SpecFlags* f) { f->init = "normal:1e99"; }, "--init: \"normal:1e99\""},
      {[](SpecFlags* f) { f->init = "uniform:1e-99"; }, "--init: \"uniform:1e-99\""},
  };
  for (const Case& test_case : cases) {
    SpecFlags flags = PracticalFlags();
    flags.optimizer = "adam";
    test_case.edit(&flags);
    absl::StatusOr<v1::ModelSpec> spec = SpecFromFlags(flags);
    ASSERT_FALSE(spec.ok()) << test_case.flag;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr(test_case.flag));
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr("float32"));
  }
  EXPECT_EQ(Float32Problem(3e38), "");
  EXPECT_EQ(Float32Problem(-1e-30), "");
  EXPECT_EQ(Float32Problem(0), "");
  EXPECT_THAT(Float32Problem(4e38), HasSubstr("not finite as float32"));
  EXPECT_THAT(Float32Problem(1e-50), HasSubstr("rounds to 0"));
}

class DataFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/data_flags_test.csv");
    std::ofstream(path_) << "1,2,0\n3,4,2\n5,6,1\n7,8,0\n";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(DataFlagsTest, LimitThenNormalizeThenOneHot) {
  DataFlags flags;
  flags.csv = path_;
  flags.label_column = true;
  flags.limit = 3;
  flags.normalize = "2,4";
  flags.one_hot = 0.9;
  flags.one_hot_base = -1;
  absl::StatusOr<LoadedData> data = LoadData(flags);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->dataset.rows(), 3);
  ASSERT_EQ(data->dataset.x.cols, 2);
  EXPECT_FLOAT_EQ(data->dataset.x.data[0], (1 - 2) / 4.0f);
  EXPECT_FLOAT_EQ(data->dataset.x.data[5], (6 - 2) / 4.0f);
  EXPECT_FALSE(data->dataset.has_labels);
  ASSERT_EQ(data->dataset.targets.cols, 3);  // Labels 0..2: three classes.
  // Row 1 has label 2: base -1 everywhere, 0.9 at the label.
  EXPECT_FLOAT_EQ(data->dataset.targets.data[3 + 0], -1.0f);
  EXPECT_FLOAT_EQ(data->dataset.targets.data[3 + 2], 0.9f);
  ASSERT_TRUE(data->standardization.has_value());
  EXPECT_DOUBLE_EQ(data->standardization->mean, 2.0);
}

TEST_F(DataFlagsTest, FitComputesOneScalarMeanAndUnbiasedStd) {
  DataFlags flags;
  flags.csv = path_;
  flags.label_column = true;
  flags.normalize = "fit";
  absl::StatusOr<LoadedData> data = LoadData(flags);
  ASSERT_TRUE(data.ok()) << data.status();
  // Values 1..8: mean 4.5, unbiased variance 6.
  EXPECT_NEAR(data->standardization->mean, 4.5, 1e-9);
  EXPECT_NEAR(data->standardization->std, std::sqrt(6.0), 1e-6);
  EXPECT_TRUE(data->dataset.has_labels);
  EXPECT_EQ(data->dataset.labels, (std::vector<int32_t>{0, 2, 1, 0}));
}

TEST_F(DataFlagsTest, InconsistentFlagsNameTheFlag) {
  DataFlags both;
  both.csv = path_;
  both.label_column = true;
  both.target_columns = 1;
  EXPECT_THAT(std::string(LoadData(both).status().message()), HasSubstr("--target-columns"));
  DataFlags bad_normalize;
  bad_normalize.csv = path_;
  bad_normalize.normalize = "1,0";
  EXPECT_THAT(std::string(LoadData(bad_normalize).status().message()), HasSubstr("--normalize"));
  DataFlags one_hot_targets;
  one_hot_targets.csv = path_;
  one_hot_targets.target_columns = 1;
  one_hot_targets.one_hot = 1;
  EXPECT_THAT(std::string(LoadData(one_hot_targets).status().message()), HasSubstr("--one-hot"));
  DataFlags half_idx;
  half_idx.idx_images = "images";
  EXPECT_THAT(std::string(LoadData(half_idx).status().message()), HasSubstr("--idx-labels"));
  // 0 stands for "not given" (all rows); a negative count is a mistake.
  DataFlags negative_limit;
  negative_limit.csv = path_;
  negative_limit.limit = -2;
  EXPECT_THAT(std::string(LoadData(negative_limit).status().message()),
              HasSubstr("--limit is -2, expected >= 1"));
  DataFlags nothing;
  EXPECT_FALSE(LoadData(nothing).ok());
  DataFlags missing;
  missing.csv = "/nonexistent/file.csv";
  EXPECT_FALSE(LoadData(missing).ok());
}

TEST_F(DataFlagsTest, RequireTargetsSaysWhichFlagsGiveThem) {
  DataFlags flags;
  flags.csv = path_;
  const absl::Status status = RequireTargets(flags, "step");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("step needs targets or labels"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--label-column"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--target-columns K"));
  flags.target_columns = 1;
  EXPECT_TRUE(RequireTargets(flags, "step").ok());
  flags.target_columns = 0;
  flags.label_column = true;
  EXPECT_TRUE(RequireTargets(flags, "step").ok());
  DataFlags idx;  // IDX data always carries its labels.
  idx.idx_images = "images";
  idx.idx_labels = "labels";
  EXPECT_TRUE(RequireTargets(idx, "evaluate").ok());
}

v1::TrainProgress Progress(int64_t done, int64_t total) {
  v1::TrainProgress progress;
  progress.set_epoch(2);
  progress.set_step(done + 10);
  progress.set_steps_done(done);
  progress.set_steps_total(total);
  progress.set_loss(0.25);
  progress.set_samples_per_second(12345);
  return progress;
}

TEST(TrainProgressTest, EtaExtrapolatesTheElapsedTime) {
  EXPECT_DOUBLE_EQ(EtaSeconds(Progress(25, 100), 10.0), 30.0);
  EXPECT_DOUBLE_EQ(EtaSeconds(Progress(100, 100), 10.0), 0.0);
  EXPECT_LT(EtaSeconds(Progress(0, 100), 10.0), 0);
  EXPECT_EQ(FormatDuration(42), "42s");
  EXPECT_EQ(FormatDuration(185), "3m05s");
  EXPECT_EQ(FormatDuration(3723), "1h02m03s");
  EXPECT_EQ(FormatDuration(-1), "?");
}

TEST(TrainProgressTest, RenderingsCarryEpochStepLossRateAndEta) {
  TrainProgressView view;
  view.epochs = 4;
  view.elapsed_seconds = 10;
  view.bar_width = 10;
  const v1::TrainProgress progress = Progress(25, 100);
  const std::string bar = ProgressBarLine(progress, view);
  EXPECT_THAT(bar, HasSubstr("epoch 2/4 [##--------]  25% step 25/100 loss 0.25"));
  EXPECT_THAT(bar, HasSubstr("12.3k samples/s ETA 30s"));
  const std::string plain = ProgressPlainLine(progress, view);
  EXPECT_THAT(plain, HasSubstr("epoch=2/4 step=35 steps_done=25/100 loss=0.25"));
  EXPECT_THAT(plain, HasSubstr("eta=30s"));
  nlohmann::json json = nlohmann::json::parse(ProgressJsonLine(progress, view));
  EXPECT_EQ(json["event"], "progress");
  EXPECT_EQ(json["steps_done"], 25);
  EXPECT_DOUBLE_EQ(json["eta_seconds"].get<double>(), 30.0);
  EXPECT_FALSE(json.contains("eval_loss"));
  v1::TrainProgress with_eval = progress;
  with_eval.mutable_eval()->set_loss(1.5);
  with_eval.mutable_eval()->set_error_rate(0.125);
  EXPECT_THAT(ProgressPlainLine(with_eval, view), HasSubstr("eval_loss=1.5 eval_error=12.50%"));
  json = nlohmann::json::parse(ProgressJsonLine(with_eval, view));
  EXPECT_DOUBLE_EQ(json["eval_error_rate"].get<double>(), 0.125);
}

}  // namespace
}  // namespace mlpd
