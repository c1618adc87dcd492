#include "server/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace mlpd {
namespace {

std::atomic<LogFormat> log_format{LogFormat::kText};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// AppendTextField adds ` key=value`, quoting values a reader could not split on spaces.
void AppendTextField(absl::string_view key, absl::string_view value, std::string& line) {
  const bool quote = value.empty() || value.find_first_of(" \"=\t") != absl::string_view::npos;
  if (quote) {
    absl::StrAppend(&line, " ", key, "=",
                    nlohmann::json(std::string(value))
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    absl::StrAppend(&line, " ", key, "=", value);
  }
}

void WriteWhole(const std::string& line) {
  // One write(2) per line: concurrent lines from different threads stay whole.
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

}  // namespace

std::optional<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return std::nullopt;
}

void SetLogFormat(LogFormat format) { log_format.store(format); }

std::string LogEvent::Format(LogFormat format, absl::Time now) const {
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone());
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json json;
    json["time"] = time;
    json["level"] = LevelName(level_);
    json["event"] = event_;
    if (session_) json["session"] = *session_;
    if (job_) json["job"] = *job_;
    if (method_) json["method"] = *method_;
    if (code_) json["code"] = *code_;
    if (duration_) json["duration"] = absl::ToDoubleSeconds(*duration_);
    if (!message_.empty()) json["message"] = message_;
    // Invalid UTF-8 (a session name is the client's bytes) becomes U+FFFD, never an exception.
    return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  // Text is for people: a line with a sentence is that sentence, as the server always logged
  // it; a bare event shows its fields.
  if (!message_.empty()) return absl::StrCat(time, " mlpd: ", message_, "\n");
  std::string line = absl::StrCat(time, " mlpd: ", event_);
  if (method_) AppendTextField("method", *method_, line);
  if (session_) AppendTextField("session", *session_, line);
  if (job_) AppendTextField("job", *job_, line);
  if (code_) AppendTextField("code", *code_, line);
  if (duration_) {
    absl::StrAppend(&line,
                    " duration=", absl::StrFormat("%.6fs", absl::ToDoubleSeconds(*duration_)));
  }
  line += "\n";
  return line;
}

void LogEvent::Write() const { WriteWhole(Format(log_format.load(), absl::Now())); }

void LogLine(absl::string_view message) { LogEvent("message").Message(message).Write(); }

}  // namespace mlpd
