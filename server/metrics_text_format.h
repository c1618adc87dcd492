// metrics_text_format.h: the pieces of the Prometheus text exposition format (version 0.0.4):
// names, escaped label values, numbers, one sample line, one family header.
//
// The registry writes its families with these; they are apart so the format's rules (what a
// name may hold, how a quote in a label value is written, how +Inf is spelt) are tested alone.
//
//   std::string out;
//   AppendFamilyHeader("grpc_server_started_total", "RPCs started.", "counter", out);
//   AppendSampleLine("grpc_server_started_total", {"grpc_method"}, {"TrainStep"}, 3, out);
//   // grpc_server_started_total{grpc_method="TrainStep"} 3
#ifndef MLPD_SERVER_METRICS_TEXT_FORMAT_H_
#define MLPD_SERVER_METRICS_TEXT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mlpd {

// IsValidMetricName: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(absl::string_view name);

// IsValidLabelName: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(absl::string_view name);

// FormatMetricValue spells a value as Prometheus reads it: integers without exponent or
// fraction, others with the fewest digits that read back the same, and +Inf, -Inf, NaN.
std::string FormatMetricValue(double value);

// AppendEscapedLabelValue appends `value` with backslash, double quote and newline escaped.
void AppendEscapedLabelValue(absl::string_view value, std::string& out);

// AppendFamilyHeader appends "# HELP name help" (backslash and newline escaped) and
// "# TYPE name type" lines.
void AppendFamilyHeader(absl::string_view name, absl::string_view help, absl::string_view type,
                        std::string& out);

// AppendSampleLine appends `name{label="value",...} value\n`; `label_values` pairs with
// `label_names`. `extra_label`/`extra_value` (e.g. le="0.5" of a bucket) come last when set.
void AppendSampleLine(absl::string_view name, const std::vector<std::string>& label_names,
                      const std::vector<std::string>& label_values, double value, std::string& out,
                      absl::string_view extra_label = {}, absl::string_view extra_value = {});

}  // namespace mlpd

#endif  // MLPD_SERVER_METRICS_TEXT_FORMAT_H_
