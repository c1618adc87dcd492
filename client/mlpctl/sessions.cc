// The session commands: create, get, list, delete and save. get, list and delete also describe
// and remove datasets (--dataset / --datasets), the one noun mlpctl names by a flag.
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/flag_checks.h"
#include "client/mlpctl/output.h"
#include "client/spec_flags.h"
#include "core/spec_enums.h"

namespace mlpd::mlpctl {
namespace {

// Dataset calls name no session; behind a proxy that routes on the session header (see
// deploy/), --session sends them to the server holding that session.
constexpr const char* kRouteHelp =
    "With the dataset flag: route the call to the server holding this session (behind a proxy)";

// SessionOrDataset is what get and delete act on: NAME, a session unless --dataset says it is
// a dataset, which --session may route.
struct SessionOrDataset {
  std::string name;
  bool dataset = false;
  CallOptions call;

  void AddOptions(CLI::App& cli) {
    cli.add_option("NAME", name, "Session name")->required();
    CLI::Option* dataset_flag = cli.add_flag("--dataset", dataset, "NAME is a dataset");
    cli.add_option("--session", call.routing_session, kRouteHelp)->needs(dataset_flag);
  }
};

class CreateCommand : public Command {
 public:
  explicit CreateCommand(CLI::App& app)
      : Command(app, "create", "Create a session with fresh weights") {
    cli().add_option("NAME", name_, "Session name")->required();
    cli().add_option("--layers", spec_.layers, "Input size then each layer's units")->required();
    cli()
        .add_option("--activations", spec_.activations,
                    "One per layer (or one for all): " + JoinedNames(kActivationTable))
        ->required();
    cli().add_option("--loss", spec_.loss, "mse, cross_entropy or logistic")->capture_default_str();
    cli().add_option("--reduction", spec_.reduction, "mean or sum (default: mean)");
    cli()
        .add_option("--optimizer", spec_.optimizer, "sgd, momentum or adam")
        ->capture_default_str();
    cli()
        .add_option("--lr", spec_.learning_rate, "Learning rate")
        ->check(Float32Flag())
        ->capture_default_str();
    // Each hyperparameter is sent only when given, so 0 is a value like any other.
    const std::tuple<const char*, std::optional<double>*, const char*> hyperparameters[] = {
        {"--momentum", &spec_.momentum, "momentum: coefficient (default 0.9)"},
        {"--beta1", &spec_.beta1, "adam: beta1 (default 0.9)"},
        {"--beta2", &spec_.beta2, "adam: beta2 (default 0.999)"},
        {"--eps", &spec_.epsilon, "adam: epsilon (default 1e-8)"}};
    for (const auto& [flag, target, help] : hyperparameters) {
      cli()
          .add_option_function<double>(
              flag, [target = target](double value) { *target = value; }, help)
          ->check(Float32Flag());
    }
    cli()
        .add_option("--init", spec_.init, "normal:STD, uniform:A, xavier or kaiming")
        ->capture_default_str();
    cli()
        .add_option("--seed", spec_.seed, "Seed of the initialisation")
        ->transform(IntegerFlag(0, std::numeric_limits<uint64_t>::max()))
        ->capture_default_str();
    cli().footer(Example(
        "  mlpctl create practical --layers 784,50,10 --activations tanh,tanh --loss mse \\\n"
        "      --reduction sum --optimizer sgd --lr 1e-4 --init normal:1e-6 --seed 0"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::ModelSpec> spec = SpecFromFlags(spec_);
    if (!spec.ok()) return UsageError(spec.status().message());
    absl::StatusOr<v1::SessionInfo> info = context.client.CreateSession(name_, *spec);
    if (!info.ok()) return Refused(info.status());
    Print(context.global.json, SessionJson(*info),
          absl::StrCat("created session ", info->name(), ": ", SpecSummary(info->spec()), " (",
                       info->parameter_count(), " parameters)\n"));
    return kExitOk;
  }

 private:
  std::string name_;
  SpecFlags spec_;
};

class GetCommand : public Command {
 public:
  explicit GetCommand(CLI::App& app) : Command(app, "get", "Describe a session (or a dataset)") {
    object_.AddOptions(cli());
    cli().footer(
        Example("  mlpctl get practical\n  mlpctl get --dataset train --json\n"
                "  mlpctl get --dataset train --session practical"));
  }

  int Run(const CommandContext& context) override {
    if (object_.dataset) {
      absl::StatusOr<v1::DatasetInfo> info = context.client.GetDataset(object_.name, object_.call);
      if (!info.ok()) return Refused(info.status());
      Print(context.global.json, DatasetJson(*info), DatasetLine(*info));
      return kExitOk;
    }
    absl::StatusOr<v1::SessionInfo> info = context.client.GetSession(object_.name);
    if (!info.ok()) return Refused(info.status());
    Print(context.global.json, SessionJson(*info), SessionText(*info));
    return kExitOk;
  }

 private:
  SessionOrDataset object_;
};

class ListCommand : public Command {
 public:
  explicit ListCommand(CLI::App& app) : Command(app, "list", "List sessions (or datasets)") {
    CLI::Option* datasets =
        cli().add_flag("--datasets", datasets_, "List datasets instead of sessions");
    cli().add_option("--session", call_.routing_session, kRouteHelp)->needs(datasets);
    cli().footer(Example("  mlpctl list\n  mlpctl list --datasets --json"));
  }

  int Run(const CommandContext& context) override {
    nlohmann::json all = nlohmann::json::array();
    if (datasets_) {
      absl::StatusOr<std::vector<v1::DatasetInfo>> datasets = context.client.ListDatasets(call_);
      if (!datasets.ok()) return Refused(datasets.status());
      for (const v1::DatasetInfo& info : *datasets) all.push_back(DatasetJson(info));
      Print(context.global.json, all, DatasetTable(*datasets));
      return kExitOk;
    }
    absl::StatusOr<std::vector<v1::SessionInfo>> sessions = context.client.ListSessions();
    if (!sessions.ok()) return Refused(sessions.status());
    for (const v1::SessionInfo& info : *sessions) all.push_back(SessionJson(info));
    Print(context.global.json, all, SessionTable(*sessions));
    return kExitOk;
  }

 private:
  bool datasets_ = false;
  CallOptions call_;
};

class DeleteCommand : public Command {
 public:
  explicit DeleteCommand(CLI::App& app)
      : Command(app, "delete", "Delete a session (or a dataset)") {
    object_.AddOptions(cli());
    cli().footer(Example("  mlpctl delete practical\n  mlpctl delete --dataset train"));
  }

  int Run(const CommandContext& context) override {
    absl::Status status = object_.dataset ? context.client.DeleteDataset(object_.name, object_.call)
                                          : context.client.DeleteSession(object_.name);
    if (!status.ok()) return Refused(status);
    Print(context.global.json, {{"deleted", object_.name}},
          absl::StrCat("deleted ", object_.dataset ? "dataset " : "session ", object_.name, "\n"));
    return kExitOk;
  }

 private:
  SessionOrDataset object_;
};

class SaveCommand : public Command {
 public:
  explicit SaveCommand(CLI::App& app)
      : Command(app, "save", "Write a durable snapshot of a session") {
    cli().add_option("NAME", name_, "Session name")->required();
    cli().footer(Example("  mlpctl save practical"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<int64_t> saved = context.client.SaveSession(name_);
    if (!saved.ok()) return Refused(saved.status());
    Print(context.global.json, {{"name", name_}, {"step_count", *saved}},
          absl::StrCat("saved session ", name_, " at step ", *saved, "\n"));
    return kExitOk;
  }

 private:
  std::string name_;
};

const RegisterCommand<CreateCommand> kCreate(/*help_order=*/10);
const RegisterCommand<GetCommand> kGet(/*help_order=*/20);
const RegisterCommand<ListCommand> kList(/*help_order=*/30);
const RegisterCommand<DeleteCommand> kDelete(/*help_order=*/40);
const RegisterCommand<SaveCommand> kSave(/*help_order=*/50);

}  // namespace
}  // namespace mlpd::mlpctl
