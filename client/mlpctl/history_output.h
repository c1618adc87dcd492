// history_output.h: how mlpctl prints a session's learning curve.
//
// `history` prints the points as an aligned table, as CSV (--csv, a header line then one row
// a point) or as a JSON array (--json); --plot draws them with history_plot.h. A figure a point
// lacks (no evaluation at that point) is "-" in the table, an empty CSV field, and absent in
// JSON.
//
//   std::cout << HistoryTable(points);
#ifndef MLPD_CLIENT_MLPCTL_HISTORY_OUTPUT_H_
#define MLPD_CLIENT_MLPCTL_HISTORY_OUTPUT_H_

#include <string>
#include <vector>

#include "mlpd/v1/mlpd.pb.h"
#include "nlohmann/json.hpp"

namespace mlpd::mlpctl {

// HistoryTable: STEP TIME TRAIN_LOSS EVAL_LOSS EVAL_ERROR SAMPLES/S, header first.
std::string HistoryTable(const std::vector<v1::HistoryPoint>& points);

// HistoryCsv: "step,time_unix_ms,train_loss,eval_loss,eval_error_rate,samples_per_second"
// then a row a point; numbers as precise as their type (they parse back to the same value).
std::string HistoryCsv(const std::vector<v1::HistoryPoint>& points);

// HistoryJson: an array of {"step", "time_unix_ms", "train_loss", "samples_per_second",
// "eval_loss", "eval_error_rate"}.
nlohmann::json HistoryJson(const std::vector<v1::HistoryPoint>& points);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_HISTORY_OUTPUT_H_
