// The commands that compute on rows sent with the call: step, evaluate and predict.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/batch_proto.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/data_options.h"
#include "client/mlpctl/output.h"
#include "client/mlpctl/requests.h"

namespace mlpd::mlpctl {
namespace {

// LoadRowsWithTargets loads the inline rows of `command`, which trains or evaluates on them
// and so needs their targets or labels.
absl::StatusOr<v1::Batch> LoadRowsWithTargets(const DataFlags& data, absl::string_view command) {
  absl::Status has_targets = RequireTargets(data, command);
  if (!has_targets.ok()) return has_targets;
  absl::StatusOr<LoadedData> loaded = LoadForCommand(data);
  if (!loaded.ok()) return loaded.status();
  return BatchOfAllRows(loaded->dataset);
}

class StepCommand : public Command {
 public:
  explicit StepCommand(CLI::App& app)
      : Command(app, "step", "Apply one training step on the rows of a CSV") {
    cli().add_option("NAME", name_, "Session name")->required();
    AddDataOptions(&cli(), &data_, /*preprocessing=*/true);
    cli().add_option_function<int64_t>(
        "--expected-step", [this](int64_t step) { expected_step_ = step; },
        "Apply only if the session is at this step count (else ABORTED, nothing applied)");
    cli().footer(Example("  mlpctl step xor --csv xor.csv --target-columns 1 --expected-step 41"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::Batch> batch = LoadRowsWithTargets(data_, "step");
    if (!batch.ok()) return UsageError(batch.status().message());
    absl::StatusOr<v1::TrainStepResponse> response =
        context.client.TrainStep(name_, *batch, CallOptions{}, expected_step_);
    if (!response.ok()) return Refused(response.status());
    Print(context.global.json, {{"loss", response->loss()}, {"step", response->step()}},
          absl::StrFormat("step %d loss %.6g\n", response->step(), response->loss()));
    return kExitOk;
  }

 private:
  std::string name_;
  DataFlags data_;
  std::optional<int64_t> expected_step_;
};

class EvaluateCommand : public Command {
 public:
  explicit EvaluateCommand(CLI::App& app)
      : Command(app, "evaluate", "Loss and error rate on a dataset") {
    cli().add_option("NAME", name_, "Session name")->required();
    cli().add_option("--dataset", dataset_, "Uploaded dataset (or give --csv with columns)");
    AddDataOptions(&cli(), &data_, /*preprocessing=*/true);
    cli().footer(
        Example("  mlpctl --json evaluate practical --dataset test\n"
                "  {\"count\":1000,\"error_rate\":0.158,\"loss\":230.1}"));
  }

  int Run(const CommandContext& context) override {
    const bool inline_data = !data_.csv.empty() || !data_.idx_images.empty();
    if (inline_data == !dataset_.empty()) {
      return UsageError("evaluate needs exactly one of --dataset or inline data (--csv, --idx-*)");
    }
    absl::StatusOr<v1::EvalResult> response;
    if (inline_data) {
      absl::StatusOr<v1::Batch> batch = LoadRowsWithTargets(data_, "evaluate");
      if (!batch.ok()) return UsageError(batch.status().message());
      response = context.client.EvaluateBatch(name_, *batch);
    } else {
      response = context.client.Evaluate(name_, dataset_);
    }
    if (!response.ok()) return Refused(response.status());
    PrintEvaluation(*response, context.global.json);
    return kExitOk;
  }

 private:
  std::string name_;
  std::string dataset_;
  DataFlags data_;
};

// PredictionJson is {"outputs": [[...], ...], "classes": [...]} (classes when the session has
// them).
nlohmann::json PredictionJson(const Matrix& outputs, const v1::PredictResponse& response) {
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t row = 0; row < outputs.rows; ++row) {
    rows.push_back(std::vector<float>(outputs.data.begin() + row * outputs.cols,
                                      outputs.data.begin() + (row + 1) * outputs.cols));
  }
  nlohmann::json result = {{"outputs", rows}};
  if (response.classes_size() > 0) {
    result["classes"] = std::vector<int32_t>(response.classes().begin(), response.classes().end());
  }
  return result;
}

// PredictionCsv is one line per row: its class, or its outputs with every float bit (%.9g), so
// the CSV reads back to the same values.
std::string PredictionCsv(const Matrix& outputs, const v1::PredictResponse& response,
                          bool classes) {
  std::string text;
  for (int64_t row = 0; row < outputs.rows; ++row) {
    if (classes) {
      absl::StrAppend(&text, response.classes(row), "\n");
      continue;
    }
    for (int64_t column = 0; column < outputs.cols; ++column) {
      if (column > 0) text.push_back(',');
      absl::StrAppendFormat(&text, "%.9g", outputs.data[row * outputs.cols + column]);
    }
    text.push_back('\n');
  }
  return text;
}

class PredictCommand : public Command {
 public:
  explicit PredictCommand(CLI::App& app)
      : Command(app, "predict", "Run the network on CSV rows: one output row per input row") {
    cli().add_option("NAME", name_, "Session name")->required();
    AddDataOptions(&cli(), &data_, /*preprocessing=*/false);
    cli().add_flag("--classes", classes_, "Print the predicted class of each row");
    cli().footer(Example(
        "  mlpctl predict practical --csv rows.csv --normalize 32.700928,77.810455 --classes\n"
        "  cat rows.csv | mlpctl predict xor --csv -\n"
        "Columns given by --label-column / --target-columns are read and ignored."));
  }

  int Run(const CommandContext& context) override {
    if (data_.csv.empty()) return UsageError("predict needs --csv FILE (or - for stdin)");
    absl::StatusOr<LoadedData> loaded = LoadForCommand(data_);
    if (!loaded.ok()) return UsageError(loaded.status().message());
    absl::StatusOr<v1::PredictResponse> response =
        context.client.PredictRows(name_, loaded->dataset.x.view());
    if (!response.ok()) return Refused(response.status());
    absl::StatusOr<Matrix> outputs = TensorToMatrix(response->outputs(), "outputs");
    if (!outputs.ok()) return Refused(outputs.status());
    if (classes_ && response->classes_size() != outputs->rows) {
      return UsageError(
          "--classes: this session predicts no classes (an mse session with one output)");
    }
    if (context.global.json) {
      std::cout << PredictionJson(*outputs, *response).dump() << "\n";
    } else {
      std::cout << PredictionCsv(*outputs, *response, classes_);
    }
    return kExitOk;
  }

 private:
  std::string name_;
  DataFlags data_;
  bool classes_ = false;
};

const RegisterCommand<StepCommand> kStep(/*help_order=*/90);
const RegisterCommand<EvaluateCommand> kEvaluate(/*help_order=*/100);
const RegisterCommand<PredictCommand> kPredict(/*help_order=*/110);

}  // namespace
}  // namespace mlpd::mlpctl
