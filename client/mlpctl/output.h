// output.h: how mlpctl prints what the server answered.
//
// Every command prints either a human line or table, or (--json) one JSON value per line that
// scripts parse; the renderings of sessions, datasets and evaluations shared by several
// commands live here so that they read the same everywhere.
//
//   Print(context.global.json, SessionJson(info), "created session " + info.name() + "\n");
#ifndef MLPD_CLIENT_MLPCTL_OUTPUT_H_
#define MLPD_CLIENT_MLPCTL_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "mlpd/v1/mlpd.pb.h"
#include "nlohmann/json.hpp"

namespace mlpd::mlpctl {

// Print writes `json_line` dumped on one line when `json`, else `text` as it is.
void Print(bool json, const nlohmann::json& json_line, absl::string_view text);

// SessionJson: name, layers ("784-50-10"), counters, times and the spec as proto JSON.
nlohmann::json SessionJson(const v1::SessionInfo& info);
// DatasetJson: name, rows, sizes, has_labels, bytes and creation time.
nlohmann::json DatasetJson(const v1::DatasetInfo& info);
// DatasetKind is "labels" or "K targets".
std::string DatasetKind(const v1::DatasetInfo& info);

// SessionText is the multi-line description `get` prints.
std::string SessionText(const v1::SessionInfo& info);
// DatasetLine: "NAME: ROWS rows, N inputs, KIND, BYTES bytes\n".
std::string DatasetLine(const v1::DatasetInfo& info);
// SessionTable and DatasetTable are `list`'s aligned tables, header first.
std::string SessionTable(const std::vector<v1::SessionInfo>& sessions);
std::string DatasetTable(const std::vector<v1::DatasetInfo>& datasets);

// PrintEvaluation prints loss, error rate (when the session has classes) and count.
void PrintEvaluation(const v1::EvalResult& response, bool json);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_OUTPUT_H_
