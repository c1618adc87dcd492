// Request checks, alone: each refusal names the field, the expected and the received value, and
// a request that fits passes.
#include "server/request_checks.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/engine_test_util.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;
using testing::TestSpec;

// Refused expects INVALID_ARGUMENT (or `code`) with every fragment in the message.
void ExpectRefused(const absl::Status& status, const std::vector<std::string>& fragments,
                   absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  EXPECT_EQ(status.code(), code) << status;
  for (const std::string& fragment : fragments) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(fragment));
  }
}

ModelSpec Classifier(LossKind loss, int64_t outputs) {
  return TestSpec(2, {{outputs, Activation::kIdentity}}, loss);
}

TEST(RequestChecksTest, InputColumnsMustMatchTheSession) {
  const std::vector<float> x(6, 0.5f);
  const ModelSpec spec = Classifier(LossKind::kMse, 1);
  EXPECT_TRUE(CheckInput("x", MatrixView{x.data(), 3, 2}, spec).ok());
  ExpectRefused(CheckInput("x", MatrixView{x.data(), 2, 3}, spec),
                {"x.shape[1] is 3", "input size is 2"});
}

TEST(RequestChecksTest, TargetsFollowTheSessionsLoss) {
  const std::vector<float> x(4, 0.5f);
  const std::vector<float> targets(4, 1.0f);
  const std::vector<int32_t> labels = {0, 2};
  const MatrixView rows{x.data(), 2, 2};
  const BatchView with_labels{rows, TargetsView::Labels(labels.data(), 2)};
  const BatchView with_targets{rows, TargetsView::Values(MatrixView{targets.data(), 2, 2})};

  ExpectRefused(
      CheckBatch("batch", with_labels, Classifier(LossKind::kLogistic, 1), TargetUse::kEvaluation),
      {"batch.labels are given", "LOGISTIC", "-1 or +1"});
  ExpectRefused(
      CheckBatch("batch", with_labels, Classifier(LossKind::kMse, 3), TargetUse::kTraining),
      {"batch.labels are given", "MSE sessions train on targets [N, 3]"});
  EXPECT_TRUE(
      CheckBatch("batch", with_labels, Classifier(LossKind::kMse, 3), TargetUse::kEvaluation).ok());
  ExpectRefused(CheckBatch("batch", with_labels, Classifier(LossKind::kCrossEntropy, 2),
                           TargetUse::kTraining),
                {"batch.labels[1] is 2", "2 classes (0 to 1)"});
  ExpectRefused(CheckBatch("batch", with_targets, Classifier(LossKind::kCrossEntropy, 2),
                           TargetUse::kEvaluation),
                {"batch.targets are given", "CROSS_ENTROPY"});
  ExpectRefused(
      CheckBatch("batch", with_targets, Classifier(LossKind::kMse, 3), TargetUse::kTraining),
      {"batch.targets.shape[1] is 2", "output size is 3"});
  EXPECT_TRUE(
      CheckBatch("batch", with_targets, Classifier(LossKind::kMse, 2), TargetUse::kTraining).ok());
}

TEST(RequestChecksTest, TrainOptionsAndLength) {
  v1::TrainRequest request;
  request.set_epochs(1);
  EXPECT_TRUE(CheckTrainOptions(request).ok());
  request.set_epochs(0);
  ExpectRefused(CheckTrainOptions(request), {"epochs is 0", ">= 1"});
  request.set_epochs(2);
  request.set_batch_size(-1);
  ExpectRefused(CheckTrainOptions(request), {"batch_size is -1"});
  request.set_batch_size(1);
  request.set_report_every_steps(-2);
  ExpectRefused(CheckTrainOptions(request), {"report_every_steps is -2"});

  request.set_epochs(kMaxTrainSteps / 10);
  EXPECT_TRUE(CheckTrainLength(request, 10).ok());
  request.set_epochs(kMaxTrainSteps / 10 + 1);
  ExpectRefused(CheckTrainLength(request, 10), {"at 10 steps per epoch", "at most"});
}

TEST(RequestChecksTest, SessionSizeAndAnswerSizeNameTheirFlags) {
  const ModelSpec spec = Classifier(LossKind::kMse, 3);  // 2 x 3 + 3 = 9 parameters.
  EXPECT_TRUE(CheckSessionSize(spec, 9).ok());
  ExpectRefused(CheckSessionSize(spec, 8), {"9 parameters", "--max-session-params is 8"},
                absl::StatusCode::kResourceExhausted);
  // Each row answers 3 floats and a class: 17 bytes.
  EXPECT_TRUE(CheckAnswerSize(int64_t{1} << 20, spec, int64_t{17} << 20).ok());
  ExpectRefused(CheckAnswerSize((int64_t{1} << 20) + 1, spec, int64_t{17} << 20),
                {"--max-message-mb of 17 MiB"}, absl::StatusCode::kResourceExhausted);
}

TEST(RequestChecksTest, CreateAndImportNeedASpec) {
  v1::CreateSessionRequest create;
  ExpectRefused(ParseCreate(create).status(), {"spec is missing"});

  v1::Checkpoint checkpoint;
  ExpectRefused(CheckImportFormat(v1::EXPORT_FORMAT_ONNX),
                {"format is EXPORT_FORMAT_ONNX", "EXPORT_FORMAT_NATIVE only"});
  EXPECT_TRUE(CheckImportFormat(v1::EXPORT_FORMAT_NATIVE).ok());
  ExpectRefused(ParseImport("", &checkpoint).status(), {"data (0 bytes)"});
  v1::Checkpoint empty;
  empty.set_format_version(1);
  ExpectRefused(ParseImport(empty.SerializeAsString(), &checkpoint).status(), {"holds no spec"});
}

TEST(RequestChecksTest, ImportBytesAreBoundByTheLargestSessionAllowed) {
  // 10 parameters with Adam's two slots: 120 bytes of floats, plus 1 MiB for the rest.
  EXPECT_EQ(ImportBytesLimit(10), 120 + (1 << 20));
  // The default --max-session-params (100 M) with Adam is 1.2 GB: it must fit.
  EXPECT_GE(ImportBytesLimit(100000000), int64_t{1200000000});
  EXPECT_TRUE(CheckImportBytes("total_bytes", 100, 100).ok());
  ExpectRefused(CheckImportBytes("total_bytes", 101, 100),
                {"total_bytes is 101 bytes", "--max-session-params allows is 100 bytes"},
                absl::StatusCode::kResourceExhausted);
  ExpectRefused(CheckImportBytes("total_bytes", -1, 100), {"total_bytes is -1 bytes"});
}

TEST(RequestChecksTest, ExpectedStepIsATestAndSet) {
  v1::TrainStepRequest request;
  EXPECT_EQ(ExpectedStep(request), std::nullopt);
  EXPECT_TRUE(CheckExpectedStep(std::nullopt, 7).ok());
  request.set_expected_step(0);  // 0 is a count like any other: set, it is checked.
  ASSERT_EQ(ExpectedStep(request), 0);
  EXPECT_TRUE(CheckExpectedStep(0, 0).ok());
  const absl::Status refused = CheckExpectedStep(ExpectedStep(request), 7);
  EXPECT_EQ(refused.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(refused.message(),
            "expected_step is 0, the session's step count is 7; nothing was applied");
}

TEST(RequestChecksTest, ExportFormatsAreNamedByNumberWhenUnknown) {
  EXPECT_TRUE(CheckExportFormat(v1::EXPORT_FORMAT_NATIVE).ok());
  EXPECT_TRUE(CheckExportFormat(v1::EXPORT_FORMAT_ONNX).ok());
  ExpectRefused(CheckExportFormat(static_cast<v1::ExportFormat>(42)), {"format is 42"});
}

TEST(RequestChecksTest, UploadChunksContinueTheFirst) {
  v1::UploadDatasetRequest first;
  ExpectRefused(CheckFirstChunk(first), {"name"});
  first.set_name("digits");
  first.set_total_rows(-1);
  ExpectRefused(CheckFirstChunk(first), {"total_rows is -1"});
  first.set_total_rows(0);
  EXPECT_TRUE(CheckFirstChunk(first).ok());

  v1::UploadDatasetRequest later;
  EXPECT_TRUE(CheckChunkName(1, later, "digits").ok());
  later.set_name("other");
  ExpectRefused(CheckChunkName(1, later, "digits"), {"chunk 1: name is \"other\"", "\"digits\""});

  Dataset data;
  data.x.cols = 2;
  data.has_labels = true;
  const std::vector<float> x(3, 0.0f);
  const std::vector<int32_t> labels = {0};
  ExpectRefused(
      CheckChunkShape("chunk 1: rows",
                      BatchView{MatrixView{x.data(), 1, 3}, TargetsView::Labels(labels.data(), 1)},
                      data),
      {"chunk 1: rows.x.shape[1] is 3", "earlier chunks have 2"});
  ExpectRefused(CheckChunkShape("chunk 1: rows",
                                BatchView{MatrixView{x.data(), 1, 2},
                                          TargetsView::Values(MatrixView{x.data(), 1, 1})},
                                data),
                {"has targets; earlier chunks have labels"});
  EXPECT_TRUE(
      CheckChunkShape("chunk 1: rows",
                      BatchView{MatrixView{x.data(), 1, 2}, TargetsView::Labels(labels.data(), 1)},
                      data)
          .ok());
}

}  // namespace
}  // namespace mlpd
