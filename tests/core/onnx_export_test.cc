// Tests of the ONNX export: every file passes the ONNX checker and, evaluated by an independent
// float64 numpy implementation (tests/python/onnx_reference_eval.py on python3-onnx), gives
// Model::Predict's outputs within 1e-5 for every activation and loss.
#include "core/onnx_export.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/core/engine_test_util.h"

namespace mlpd {
namespace {

using ::mlpd::testing::RandomValues;
using ::mlpd::testing::TargetsFor;
using ::mlpd::testing::TestSpec;

constexpr int64_t kInputs = 5;
constexpr char kEvaluator[] = MLPD_SOURCE_DIR "/tests/python/onnx_reference_eval.py";

void WriteFile(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  ASSERT_TRUE(out.good()) << path;
}

struct Case {
  std::string name;
  std::vector<LayerSpec> layers;
  LossKind loss;
};

// ExpectedOperators is the node sequence the issue prescribes for the spec.
std::string ExpectedOperators(const ModelSpec& spec) {
  std::vector<std::string> ops;
  for (const LayerSpec& layer : spec.layers) {
    ops.push_back("Gemm");
    if (layer.activation == Activation::kRelu) ops.push_back("Relu");
    if (layer.activation == Activation::kTanh) ops.push_back("Tanh");
    if (layer.activation == Activation::kSigmoid) ops.push_back("Sigmoid");
  }
  if (spec.loss.kind == LossKind::kCrossEntropy) ops.push_back("Softmax");
  return absl::StrJoin(ops, ",");
}

// ExportCase trains a model of the case's shape a little, exports it and writes the ONNX file,
// random inputs and Predict's outputs (right, and off by 1e-3 in one value) under `prefix`;
// returns the two manifest lines "NAME_right ..." and "NAME_wrong ...".
std::string ExportCase(const Case& test_case, const std::string& prefix) {
  const ModelSpec spec = TestSpec(kInputs, test_case.layers, test_case.loss, Reduction::kMean,
                                  OptimizerKind::kAdam, /*learning_rate=*/0.01f);
  absl::StatusOr<std::unique_ptr<Model>> created = Model::Create(spec);
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) return "";
  Model& model = **created;
  // A few steps so the exported weights are trained ones, not the seeded draw.
  for (int step = 0; step < 3; ++step) {
    const std::vector<float> x = RandomValues(6 * kInputs, 100 + step);
    const testing::BatchTargets y = TargetsFor(model.spec(), 6, 200 + step);
    EXPECT_TRUE(model.TrainStep(MatrixView{x.data(), 6, kInputs}, y.view()).ok());
  }
  absl::StatusOr<std::string> bytes = ExportOnnx(model);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  if (!bytes.ok()) return "";
  // Random inputs, some well outside the training range, and a row count never trained on.
  constexpr int64_t kRows = 37;
  const std::vector<float> x = RandomValues(kRows * kInputs, /*seed=*/9, /*scale=*/3.0f);
  Matrix predicted;
  EXPECT_TRUE(model.Predict(MatrixView{x.data(), kRows, kInputs}, &predicted).ok());
  EXPECT_EQ(predicted.rows, kRows);

  WriteFile(prefix + ".onnx", bytes->data(), bytes->size());
  WriteFile(prefix + ".x", x.data(), x.size() * sizeof(float));
  WriteFile(prefix + ".expected", predicted.data.data(), predicted.data.size() * sizeof(float));
  // The comparison must be live: one value off by 1e-3 has to be caught.
  predicted.data[predicted.data.size() / 2] += 1e-3f;
  WriteFile(prefix + ".wrong", predicted.data.data(), predicted.data.size() * sizeof(float));
  const std::string ops = ExpectedOperators(spec);
  return absl::StrCat(test_case.name, "_right ", prefix, ".onnx ", prefix, ".x ", prefix,
                      ".expected ", ops, "\n", test_case.name, "_wrong ", prefix, ".onnx ", prefix,
                      ".x ", prefix, ".wrong ", ops, "\n");
}

std::vector<Case> EveryActivationAndLoss() {
  const std::pair<const char*, Activation> activations[] = {{"identity", Activation::kIdentity},
                                                            {"relu", Activation::kRelu},
                                                            {"tanh", Activation::kTanh},
                                                            {"sigmoid", Activation::kSigmoid}};
  std::vector<Case> cases;
  for (const auto& [name, activation] : activations) {
    // MSE allows the activation on the output layer too; the other losses need identity there.
    cases.push_back(
        {absl::StrCat(name, "_mse"), {{7, activation}, {3, activation}}, LossKind::kMse});
    cases.push_back({absl::StrCat(name, "_cross_entropy"),
                     {{7, activation}, {6, activation}, {4, Activation::kIdentity}},
                     LossKind::kCrossEntropy});
    cases.push_back({absl::StrCat(name, "_logistic"),
                     {{4, activation}, {1, Activation::kIdentity}},
                     LossKind::kLogistic});
  }
  cases.push_back({"single_layer_identity_mse", {{2, Activation::kIdentity}}, LossKind::kMse});
  cases.push_back(
      {"single_layer_cross_entropy", {{3, Activation::kIdentity}}, LossKind::kCrossEntropy});
  return cases;
}

// One evaluator run checks every case: starting python3 and importing onnx costs a second.
TEST(OnnxExportTest, EveryActivationAndLossPassesTheCheckerAndMatchesPredict) {
  const std::string directory = ::testing::TempDir();
  std::string manifest;
  const std::vector<Case> cases = EveryActivationAndLoss();
  for (const Case& test_case : cases) {
    manifest +=
        ExportCase(test_case, absl::StrCat(directory, "/onnx_export_test_", test_case.name));
  }
  const std::string manifest_path = directory + "/onnx_export_test_manifest.txt";
  WriteFile(manifest_path, manifest.data(), manifest.size());

  const std::string command =
      absl::StrCat("/usr/bin/python3 ", kEvaluator, " --manifest ", manifest_path, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t got = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, got);
  const int status = pclose(pipe);
  std::printf("%s", output.c_str());
  // Some cases are wrong on purpose, so the evaluator must report failure overall.
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
  for (const Case& test_case : cases) {
    EXPECT_TRUE(absl::StrContains(output, absl::StrCat(test_case.name, "_right: ok")))
        << test_case.name << "\n"
        << output;
    EXPECT_TRUE(
        absl::StrContains(output, absl::StrCat(test_case.name, "_wrong: FAIL max |y - expected|")))
        << test_case.name << "\n"
        << output;
  }
}

}  // namespace
}  // namespace mlpd
