#include "client/mlpctl/output.h"

#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/spec_flags.h"
#include "google/protobuf/util/json_util.h"

namespace mlpd::mlpctl {

void Print(bool json, const nlohmann::json& json_line, absl::string_view text) {
  if (json) {
    std::cout << json_line.dump() << "\n";
  } else {
    std::cout << text;
  }
}

nlohmann::json SessionJson(const v1::SessionInfo& info) {
  std::string spec_json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(info.spec(), &spec_json, options);
  std::string layers = absl::StrCat(info.spec().input_size());
  for (const v1::LayerSpec& layer : info.spec().layers())
    absl::StrAppend(&layers, "-", layer.units());
  return {{"name", info.name()},
          {"layers", layers},
          {"parameter_count", info.parameter_count()},
          {"step_count", info.step_count()},
          {"samples_seen", info.samples_seen()},
          {"last_loss", info.has_last_loss() ? nlohmann::json(info.last_loss()) : nlohmann::json()},
          {"create_time_unix_ms", info.create_time_unix_ms()},
          {"update_time_unix_ms", info.update_time_unix_ms()},
          {"spec", nlohmann::json::parse(spec_json, nullptr, /*allow_exceptions=*/false)}};
}

nlohmann::json DatasetJson(const v1::DatasetInfo& info) {
  return {{"name", info.name()},
          {"rows", info.rows()},
          {"input_size", info.input_size()},
          {"target_size", info.target_size()},
          {"has_labels", info.has_labels()},
          {"bytes", info.bytes()},
          {"create_time_unix_ms", info.create_time_unix_ms()}};
}

std::string DatasetKind(const v1::DatasetInfo& info) {
  return info.has_labels() ? "labels" : absl::StrCat(info.target_size(), " targets");
}

namespace {

// LastLossText is the last step's loss, or "-" before the first step.
std::string LastLossText(const v1::SessionInfo& info) {
  return info.has_last_loss() ? absl::StrFormat("%g", info.last_loss()) : "-";
}

}  // namespace

std::string SessionText(const v1::SessionInfo& info) {
  std::ostringstream text;
  text << "name:        " << info.name() << "\n"
       << "spec:        " << SpecSummary(info.spec()) << "\n"
       << "parameters:  " << info.parameter_count() << "\n"
       << "steps:       " << info.step_count() << "\n"
       << "samples:     " << info.samples_seen() << "\n"
       << "last loss:   " << LastLossText(info) << "\n";
  return text.str();
}

std::string DatasetLine(const v1::DatasetInfo& info) {
  return absl::StrCat(info.name(), ": ", info.rows(), " rows, ", info.input_size(), " inputs, ",
                      DatasetKind(info), ", ", info.bytes(), " bytes\n");
}

std::string SessionTable(const std::vector<v1::SessionInfo>& sessions) {
  std::string table =
      absl::StrFormat("%-24s %10s %10s %-12s %s\n", "NAME", "STEPS", "PARAMS", "LAST_LOSS", "SPEC");
  for (const v1::SessionInfo& info : sessions) {
    absl::StrAppendFormat(&table, "%-24s %10d %10d %-12s %s\n", info.name(), info.step_count(),
                          info.parameter_count(), LastLossText(info), SpecSummary(info.spec()));
  }
  return table;
}

std::string DatasetTable(const std::vector<v1::DatasetInfo>& datasets) {
  std::string table =
      absl::StrFormat("%-24s %8s %6s %-12s %12s\n", "NAME", "ROWS", "INPUTS", "KIND", "BYTES");
  for (const v1::DatasetInfo& info : datasets) {
    absl::StrAppendFormat(&table, "%-24s %8d %6d %-12s %12d\n", info.name(), info.rows(),
                          info.input_size(), DatasetKind(info), info.bytes());
  }
  return table;
}

void PrintEvaluation(const v1::EvalResult& response, bool json) {
  if (json) {
    nlohmann::json line = {{"loss", response.loss()}, {"count", response.count()}};
    line["error_rate"] =
        response.has_error_rate() ? nlohmann::json(response.error_rate()) : nlohmann::json();
    std::cout << line.dump() << "\n";
    return;
  }
  std::cout << absl::StrFormat("loss %.6g", response.loss());
  if (response.has_error_rate()) {
    std::cout << absl::StrFormat(" error_rate %.4f (%.2f%%)", response.error_rate(),
                                 100 * response.error_rate());
  }
  std::cout << " count " << response.count() << "\n";
}

}  // namespace mlpd::mlpctl
