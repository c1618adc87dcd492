// command.h: how an mlpctl subcommand is written, registered and run.
//
// Each subcommand is a class in the file of its noun (sessions.cc, datasets.cc, training.cc,
// ...). Its constructor adds the CLI11 subcommand with the options it alone reads (members of
// the class); Run() executes it once the command line is parsed and the client is built. A
// RegisterCommand object puts the class on the list mlpctl builds its command line from, so
// adding a subcommand is adding a class in a file: nothing else names the commands.
//
//   class SaveCommand : public Command {
//    public:
//     explicit SaveCommand(CLI::App& app)
//         : Command(app, "save", "Write a durable snapshot of a session") {
//       cli().add_option("NAME", name_, "Session name")->required();
//       cli().footer(Example("  mlpctl save practical"));
//     }
//     int Run(const CommandContext& context) override;
//
//    private:
//     std::string name_;
//   };
//   const RegisterCommand<SaveCommand> kSave(/*help_order=*/50);
#ifndef MLPD_CLIENT_MLPCTL_COMMAND_H_
#define MLPD_CLIENT_MLPCTL_COMMAND_H_

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/client.h"
#include "client/mlpctl/connection.h"

namespace mlpd::mlpctl {

// Exit codes of mlpctl (its --help says the same).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;        // The server refused: "CODE_NAME: message".
inline constexpr int kExitUsage = 2;          // Bad flags or unreadable local files.
inline constexpr int kExitInterrupted = 130;  // Ctrl-C: a train cancelled, a watch left.

// UsageError prints "mlpctl: <message>" to stderr and returns kExitUsage.
int UsageError(absl::string_view message);
// Refused prints the server's status as "CODE_NAME: message" and returns kExitRefused.
int Refused(const absl::Status& status);
// Example formats a --help footer: "\nExample:\n<lines>\n".
std::string Example(absl::string_view lines);

// CommandContext is what every command runs with: the connected client and the global flags.
struct CommandContext {
  Client& client;
  const GlobalFlags& global;
};

// Command is one mlpctl subcommand (see the file comment).
class Command {
 public:
  virtual ~Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  // Run executes the parsed command and returns mlpctl's exit code.
  virtual int Run(const CommandContext& context) = 0;

  // parsed is true when the command line chose this command.
  bool parsed() const { return cli_->parsed(); }
  const std::string& name() const { return cli_->get_name(); }

 protected:
  // Command adds the subcommand `name` to `app`; the subclass adds its options to cli().
  Command(CLI::App& app, const std::string& name, const std::string& description)
      : cli_(app.add_subcommand(name, description)) {}
  CLI::App& cli() { return *cli_; }

 private:
  CLI::App* const cli_;
};

using CommandFactory = std::unique_ptr<Command> (*)(CLI::App& app);

// AddToRegistry is RegisterCommand's work; call RegisterCommand instead.
void AddToRegistry(int help_order, CommandFactory factory);

// RegisterCommand adds CommandClass (constructible from CLI::App&) to the commands of mlpctl.
// `help_order` places it in --help (create is 10, import 130); two commands may not share one.
template <typename CommandClass>
class RegisterCommand {
 public:
  explicit RegisterCommand(int help_order) {
    AddToRegistry(help_order, [](CLI::App& app) -> std::unique_ptr<Command> {
      return std::make_unique<CommandClass>(app);
    });
  }
};

// AddRegisteredCommands adds every registered command to `app`, in help order.
std::vector<std::unique_ptr<Command>> AddRegisteredCommands(CLI::App& app);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_COMMAND_H_
