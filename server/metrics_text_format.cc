#include "server/metrics_text_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mlpd {
namespace {

bool IsNameCharacter(char c, bool first, bool colon_allowed) {
  if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') return true;
  if (colon_allowed && c == ':') return true;
  return !first && absl::ascii_isdigit(static_cast<unsigned char>(c));
}

bool IsValidName(absl::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameCharacter(name[i], i == 0, colon_allowed)) return false;
  }
  return true;
}

}  // namespace

bool IsValidMetricName(absl::string_view name) { return IsValidName(name, true); }

bool IsValidLabelName(absl::string_view name) {
  return IsValidName(name, false) && !absl::StartsWith(name, "__");
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts and byte sizes are integers: print them whole up to 2^53, where doubles stay exact.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest spelling that reads back as the same double (0.1, not 0.10000000000000001).
  char buffer[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

void AppendEscapedLabelValue(absl::string_view value, std::string& out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void AppendFamilyHeader(absl::string_view name, absl::string_view help, absl::string_view type,
                        std::string& out) {
  absl::StrAppend(&out, "# HELP ", name, " ");
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  absl::StrAppend(&out, "\n# TYPE ", name, " ", type, "\n");
}

void AppendSampleLine(absl::string_view name, const std::vector<std::string>& label_names,
                      const std::vector<std::string>& label_values, double value, std::string& out,
                      absl::string_view extra_label, absl::string_view extra_value) {
  out.append(name.data(), name.size());
  const bool has_extra = !extra_label.empty();
  if (!label_names.empty() || has_extra) {
    out += '{';
    for (size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out += ',';
      absl::StrAppend(&out, label_names[i], "=\"");
      AppendEscapedLabelValue(i < label_values.size() ? label_values[i] : "", out);
      out += '"';
    }
    if (has_extra) {
      if (!label_names.empty()) out += ',';
      absl::StrAppend(&out, extra_label, "=\"");
      AppendEscapedLabelValue(extra_value, out);
      out += '"';
    }
    out += '}';
  }
  absl::StrAppend(&out, " ", FormatMetricValue(value), "\n");
}

}  // namespace mlpd
