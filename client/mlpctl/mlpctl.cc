#include "client/mlpctl/mlpctl.h"

#include <memory>
#include <vector>

#include "CLI/CLI.hpp"
#include "client/mlpctl/command.h"
#include "client/mlpctl/connection.h"

namespace mlpd::mlpctl {

int RunMlpctl(int argc, const char* const* argv) {
  CLI::App app{
      "mlpctl: create, train, evaluate, predict with and export MLP sessions on an mlpd "
      "server, and follow its training jobs.\nExit codes: 0 ok, 1 the server refused (or the "
      "job watched failed), 2 usage error, 130 interrupted."};
  app.require_subcommand(1);
  app.fallthrough();
  GlobalFlags global;
  CLI::Option* timeout_option = AddGlobalFlags(app, &global);
  app.footer(
      Example("  export MLPD_SERVER=127.0.0.1:50051\n"
              "  mlpctl create digits --layers 784,50,10 --activations tanh,tanh --loss mse \\\n"
              "      --reduction sum --optimizer sgd --lr 1e-4 --init normal:1e-6 --seed 0\n"
              "Run 'mlpctl COMMAND --help' for each command's flags and example."));
  std::vector<std::unique_ptr<Command>> commands = AddRegisteredCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  global.timeout_given = timeout_option->count() > 0;

  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return UsageError(client.status().message());
  for (const std::unique_ptr<Command>& command : commands) {
    if (command->parsed()) return command->Run(CommandContext{**client, global});
  }
  return UsageError("no command given; see mlpctl --help");
}

}  // namespace mlpd::mlpctl
