// The commands that move a whole model: export (native checkpoint or ONNX) and import.
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/output.h"
#include "client/mlpctl/requests.h"
#include "client/spec_flags.h"
#include "core/input_file.h"

namespace mlpd::mlpctl {
namespace {

class ExportCommand : public Command {
 public:
  explicit ExportCommand(CLI::App& app) : Command(app, "export", "Write a session to a file") {
    cli().add_option("NAME", name_, "Session name")->required();
    cli().add_option("--format", format_, "native (checkpoint) or onnx")->capture_default_str();
    cli().add_option("-o,--output", file_, "Output file")->required();
    cli().footer(Example("  mlpctl export practical --format onnx -o practical.onnx"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::ExportFormat> format = ParseExportFormat(format_);
    if (!format.ok()) return UsageError(format.status().message());
    absl::StatusOr<std::string> bytes = context.client.ExportSession(name_, *format);
    if (!bytes.ok()) return Refused(bytes.status());
    std::ofstream out(file_, std::ios::binary | std::ios::trunc);
    out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    out.close();
    if (!out) return UsageError(absl::StrCat("--output: cannot write \"", file_, "\""));
    const std::string format_name = absl::AsciiStrToLower(format_);
    Print(context.global.json,
          {{"name", name_}, {"format", format_name}, {"bytes", bytes->size()}, {"file", file_}},
          absl::StrCat("exported session ", name_, " (", format_name, ", ", bytes->size(),
                       " bytes) to ", file_, "\n"));
    return kExitOk;
  }

 private:
  std::string name_;
  std::string format_ = "native";
  std::string file_;
};

class ImportCommand : public Command {
 public:
  explicit ImportCommand(CLI::App& app)
      : Command(app, "import", "Create a session from a native export") {
    cli().add_option("NAME", name_, "Name of the new session")->required();
    cli().add_option("-i,--input", file_, "File written by 'mlpctl export'")->required();
    cli().add_option("--format", format_, "native")->capture_default_str();
    cli().footer(Example("  mlpctl import practical-copy -i practical.ckpt"));
  }

  int Run(const CommandContext& context) override {
    absl::StatusOr<v1::ExportFormat> format = ParseExportFormat(format_);
    if (!format.ok()) return UsageError(format.status().message());
    absl::StatusOr<std::string> bytes = ReadWholeFile("--input", file_);
    if (!bytes.ok()) return UsageError(bytes.status().message());
    absl::StatusOr<v1::SessionInfo> info = context.client.ImportSession(name_, *format, *bytes);
    if (!info.ok()) return Refused(info.status());
    Print(context.global.json, SessionJson(*info),
          absl::StrCat("imported session ", info->name(), ": ", SpecSummary(info->spec()),
                       " at step ", info->step_count(), "\n"));
    return kExitOk;
  }

 private:
  std::string name_;
  std::string format_ = "native";
  std::string file_;
};

const RegisterCommand<ExportCommand> kExport(/*help_order=*/120);
const RegisterCommand<ImportCommand> kImport(/*help_order=*/130);

}  // namespace
}  // namespace mlpd::mlpctl
