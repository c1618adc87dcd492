// The dataset command that has a noun of its own: upload (get, list and delete take
// --dataset; see sessions.cc).
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/data_options.h"
#include "client/mlpctl/output.h"
#include "client/mlpctl/requests.h"

namespace mlpd::mlpctl {
namespace {

class UploadCommand : public Command {
 public:
  explicit UploadCommand(CLI::App& app)
      : Command(app, "upload", "Upload a dataset (IDX or CSV) under a name") {
    cli().add_option("DATASET", name_, "Dataset name")->required();
    AddDataOptions(&cli(), &data_, /*preprocessing=*/true);
    cli().add_option("--session", routing_session_,
                     "Route the dataset to the server holding this session (behind a proxy; "
                     "default: routed by the dataset's name)");
    cli().footer(Example(
        "  mlpctl upload train --idx-images data/mnist/train-images-idx3-ubyte \\\n"
        "      --idx-labels data/mnist/train-labels-idx1-ubyte --limit 1000 --normalize fit \\\n"
        "      --one-hot 0.9\n"
        "  mlpctl upload iris --csv iris.csv --label-column"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<LoadedData> loaded = LoadForCommand(data_);
    if (!loaded.ok()) return UsageError(loaded.status().message());
    const CallOptions call =
        UploadCallOptions(context.global, routing_session_, loaded->dataset.ByteSize());
    absl::StatusOr<v1::DatasetInfo> info =
        context.client.UploadDataset(name_, loaded->dataset, call);
    if (!info.ok()) return Refused(info.status());
    const std::optional<Standardization>& fitted = loaded->standardization;
    nlohmann::json line = DatasetJson(*info);
    std::string text;
    if (fitted.has_value()) {
      line["mean"] = fitted->mean;
      line["std"] = fitted->std;
      if (data_.normalize == "fit") {
        text = absl::StrFormat(
            "normalize: mean=%.9g std=%.9g (reuse on other data with --normalize %.9g,%.9g)\n",
            fitted->mean, fitted->std, fitted->mean, fitted->std);
      }
    }
    absl::StrAppend(&text, "uploaded dataset ", info->name(), ": ", info->rows(), " rows, ",
                    info->input_size(), " inputs, ", DatasetKind(*info), "\n");
    Print(context.global.json, line, text);
    return kExitOk;
  }

 private:
  std::string name_;
  DataFlags data_;
  std::string routing_session_;
};

const RegisterCommand<UploadCommand> kUpload(/*help_order=*/70);

}  // namespace
}  // namespace mlpd::mlpctl
