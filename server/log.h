// log.h: the server's log lines: one line each, timestamped, on stderr, as text for people or
// as JSON lines for log pipelines (--log-format).
//
// The server logs its start and stop and every failed call; nothing per successful step, so
// the log stays readable under load. Lines are written whole so threads never interleave.
//
//   LogLine(absl::StrFormat("listening on %s", address));
//   LogEvent("call_failed").Level(LogLevel::kWarning).Method("TrainStep").Session(name)
//       .Code("INVALID_ARGUMENT").Duration(elapsed).Message(status.message()).Write();
//
// text: 2026-11-27T22:05:18.123Z mlpd: <message>   (or, without a message: <event> method=...
//       session="a b" code=... duration=0.001200s)
// json: {"time":"2026-11-27T22:05:18.123Z","level":"warning","event":"call_failed",
//        "session":"a b","method":"TrainStep","code":"INVALID_ARGUMENT","duration":0.0012,
//        "message":"..."}
#ifndef MLPD_SERVER_LOG_H_
#define MLPD_SERVER_LOG_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mlpd {

enum class LogFormat { kText, kJson };
enum class LogLevel { kInfo, kWarning, kError };

// ParseLogFormat reads "text" or "json"; nullopt otherwise.
std::optional<LogFormat> ParseLogFormat(absl::string_view text);

// SetLogFormat chooses the format of every later line (text until called); call at start-up.
void SetLogFormat(LogFormat format);

// LogEvent is one line: a short machine-readable event name, optional fields and a sentence for
// people. Unset fields are left out of both formats. As text, the sentence alone is written when
// there is one (it says what the fields say), else the event and its fields.
class LogEvent {
 public:
  explicit LogEvent(absl::string_view event) : event_(event) {}

  LogEvent& Level(LogLevel level) {
    level_ = level;
    return *this;
  }
  LogEvent& Session(absl::string_view session) {
    session_ = std::string(session);
    return *this;
  }
  LogEvent& Job(absl::string_view job) {
    job_ = std::string(job);
    return *this;
  }
  LogEvent& Method(absl::string_view method) {
    method_ = std::string(method);
    return *this;
  }
  LogEvent& Code(absl::string_view code) {
    code_ = std::string(code);
    return *this;
  }
  LogEvent& Duration(absl::Duration duration) {
    duration_ = duration;
    return *this;
  }
  LogEvent& Message(absl::string_view message) {
    message_ = std::string(message);
    return *this;
  }

  // Format renders the line (with its newline) as it would be written now in `format`.
  std::string Format(LogFormat format, absl::Time now) const;
  // Write sends the line to stderr in the chosen format, in one write.
  void Write() const;

 private:
  std::string event_;
  LogLevel level_ = LogLevel::kInfo;
  std::optional<std::string> session_, job_, method_, code_;
  std::optional<absl::Duration> duration_;
  std::string message_;
};

// LogLine writes a plain message (event "message", level info):
// "2026-11-27T22:05:18.123Z mlpd: <message>\n" as text.
void LogLine(absl::string_view message);

}  // namespace mlpd

#endif  // MLPD_SERVER_LOG_H_
