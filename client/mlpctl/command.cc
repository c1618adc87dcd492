#include "client/mlpctl/command.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/grpc_status.h"

namespace mlpd::mlpctl {
namespace {

struct Registration {
  int help_order;
  CommandFactory factory;
};

// Registry is built during static initialisation, so it lives in a function (no order fiasco).
std::vector<Registration>& Registry() {
  static auto* registry = new std::vector<Registration>();
  return *registry;
}

}  // namespace

int UsageError(absl::string_view message) {
  std::cerr << "mlpctl: " << message << "\n";
  return kExitUsage;
}

int Refused(const absl::Status& status) {
  std::cerr << StatusLine(status) << "\n";
  return kExitRefused;
}

std::string Example(absl::string_view lines) { return absl::StrCat("\nExample:\n", lines, "\n"); }

void AddToRegistry(int help_order, CommandFactory factory) {
  for (const Registration& registered : Registry()) {
    if (registered.help_order == help_order) {
      // A programming error caught by every run (and the tests), not a user's mistake.
      std::cerr << "mlpctl: two commands share help order " << help_order << "\n";
      std::abort();
    }
  }
  Registry().push_back({help_order, factory});
}

std::vector<std::unique_ptr<Command>> AddRegisteredCommands(CLI::App& app) {
  std::vector<Registration> ordered = Registry();
  std::sort(ordered.begin(), ordered.end(), [](const Registration& a, const Registration& b) {
    return a.help_order < b.help_order;
  });
  std::vector<std::unique_ptr<Command>> commands;
  for (const Registration& registration : ordered) commands.push_back(registration.factory(app));
  return commands;
}

}  // namespace mlpd::mlpctl
