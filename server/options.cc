#include "server/options.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "core/model_spec.h"
#include "core/status_macros.h"
#include "server/http/http_server.h"
#include "server/log.h"

namespace mlpd {
namespace {

// ValidateListen checks what gRPC would otherwise take loosely (a port past 65535 was bound
// modulo 65536): unix:PATH with a path, or HOST:PORT with a port from 0 to 65535.
absl::Status ValidateListen(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) {
    if (listen.size() > 5) return absl::OkStatus();
    return absl::InvalidArgumentError("--listen is \"unix:\"; expected unix:/path/to/socket");
  }
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(listen).substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--listen is \"%s\"; expected HOST:PORT with a port from 0 to 65535, or unix:PATH",
        listen));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateOptions(const ServerOptions& options) {
  MLPD_RETURN_IF_ERROR(ValidateListen(options.listen));
  if (!options.http_listen.empty()) {
    MLPD_RETURN_IF_ERROR(ParseHostPort(options.http_listen).status());
  }
  if (!ParseLogFormat(options.log_format).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--log-format is \"%s\"; expected text or json", options.log_format));
  }
  // Memory limits in MiB are turned into bytes: 1 PiB is beyond any machine and far from
  // overflowing.
  constexpr int64_t kMaxMib = int64_t{1} << 30;
  constexpr double kMax = std::numeric_limits<double>::max();
  struct Range {
    const char* flag;
    double value;
    double min;
    double max;
  };
  for (const Range& range : {
           Range{"--max-message-mb", static_cast<double>(options.max_message_mb), 1, 2047},
           Range{"--max-sessions", static_cast<double>(options.max_sessions), 0, kMax},
           Range{"--max-session-params", static_cast<double>(options.max_session_params), 1,
                 static_cast<double>(kMaxParameters)},
           Range{"--max-sessions-mb", static_cast<double>(options.max_sessions_mb), 0, kMaxMib},
           Range{"--max-datasets", static_cast<double>(options.max_datasets), 0, kMax},
           Range{"--max-datasets-mb", static_cast<double>(options.max_datasets_mb), 0, kMaxMib},
           Range{"--max-call-activation-mb", static_cast<double>(options.max_call_activation_mb), 0,
                 kMaxMib},
           Range{"--max-queue", static_cast<double>(options.max_queue), 1, kMax},
           Range{"--max-trains", static_cast<double>(options.max_trains), 0, kMax},
           Range{"--threads", static_cast<double>(options.threads), 0, 1024},
           Range{"--executor-spin-us", options.executor_spin_us, 0, 1e6},
           Range{"--checkpoint-every", static_cast<double>(options.checkpoint_every), 0, kMax},
           Range{"--checkpoint-interval", options.checkpoint_interval_seconds, 0, 1e9},
           Range{"--drain-seconds", options.drain_seconds, 0, 1e9},
       }) {
    // Written so that NaN fails too.
    if (!(range.value >= range.min && range.value <= range.max)) {
      return absl::InvalidArgumentError(
          range.max == kMax
              ? absl::StrFormat("%s is %g; expected >= %g", range.flag, range.value, range.min)
              : absl::StrFormat("%s is %g; expected %g to %g", range.flag, range.value, range.min,
                                range.max));
    }
  }
  return absl::OkStatus();
}

}  // namespace mlpd
