// The health command: asks the server's grpc.health.v1 service, for scripts and probes.
#include <string>

#include "absl/strings/str_cat.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/output.h"

namespace mlpd::mlpctl {
namespace {

class HealthCommand : public Command {
 public:
  explicit HealthCommand(CLI::App& app)
      : Command(app, "health", "Ask the server's health service; exit 0 only when SERVING") {
    cli().add_option("--service", service_,
                     "Ask about one service (e.g. mlpd.v1.Mlpd) instead of the whole server");
    cli().footer(
        Example("  mlpctl health || echo not ready\n  mlpctl health --service mlpd.v1.Mlpd"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<HealthStatus> status = context.client.Health(service_);
    if (!status.ok()) return Refused(status.status());
    const std::string name = HealthStatusName(*status);
    Print(context.global.json, {{"status", name}}, absl::StrCat(name, "\n"));
    return *status == HealthStatus::kServing ? kExitOk : kExitRefused;
  }

 private:
  std::string service_;
};

const RegisterCommand<HealthCommand> kHealth(/*help_order=*/60);

}  // namespace
}  // namespace mlpd::mlpctl
