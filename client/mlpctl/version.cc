// The version command: mlpctl's own version and the server's (GetServerInfo), with the limits
// the server enforces and the features it offers.
#include "core/version.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/output.h"

namespace mlpd::mlpctl {
namespace {

nlohmann::json LimitsJson(const v1::ServerLimits& limits) {
  return {{"max_message_bytes", limits.max_message_bytes()},
          {"max_session_params", limits.max_session_params()},
          {"max_sessions", limits.max_sessions()},
          {"max_sessions_bytes", limits.max_sessions_bytes()},
          {"max_datasets", limits.max_datasets()},
          {"max_datasets_bytes", limits.max_datasets_bytes()},
          {"max_call_activation_bytes", limits.max_call_activation_bytes()},
          {"max_queue", limits.max_queue()},
          {"max_trains", limits.max_trains()}};
}

std::string ServerText(const v1::ServerInfo& info) {
  std::string limits;
  const nlohmann::json limit_values = LimitsJson(info.limits());
  for (const auto& [name, value] : limit_values.items()) {
    absl::StrAppend(&limits, " ", name, "=", value.dump());
  }
  return absl::StrCat("server: mlpd ", info.version(), ", API ", info.api(), " (", info.build(),
                      ")\nfeatures: ", absl::StrJoin(info.features(), " "), "\nlimits:", limits,
                      "\n");
}

class VersionCommand : public Command {
 public:
  explicit VersionCommand(CLI::App& app)
      : Command(app, "version", "Print mlpctl's version and the server's, limits and features") {
    cli().footer(Example("  mlpctl version\n  mlpctl --json version"));
  }

  int Run(const CommandContext& context) override {
    const nlohmann::json client = {
        {"version", MlpdVersion()}, {"api", kApiVersion}, {"build", BuildDescription()}};
    const std::string client_line = absl::StrCat("mlpctl ", MlpdVersion(), ", API ", kApiVersion,
                                                 " (", BuildDescription(), ")\n");
    absl::StatusOr<v1::ServerInfo> info = context.client.GetServerInfo();
    if (!info.ok()) {
      // The client's own version is still worth printing when the server cannot be asked.
      Print(context.global.json, {{"client", client}}, client_line);
      return Refused(info.status());
    }
    const nlohmann::json server = {
        {"version", info->version()},
        {"api", info->api()},
        {"build", info->build()},
        {"features", std::vector<std::string>(info->features().begin(), info->features().end())},
        {"limits", LimitsJson(info->limits())},
        {"start_time_unix_ms", info->start_time_unix_ms()}};
    Print(context.global.json, {{"client", client}, {"server", server}},
          client_line + ServerText(*info));
    return kExitOk;
  }
};

const RegisterCommand<VersionCommand> kVersion(/*help_order=*/140);

}  // namespace
}  // namespace mlpd::mlpctl
