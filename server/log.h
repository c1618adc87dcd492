// log.h: the server's log lines: one line each, timestamped, on stderr.
//
// The server logs its start and stop and every failed call; nothing per successful step, so
// the log stays readable under load. Lines are written whole so threads never interleave.
//
//   LogLine(absl::StrFormat("listening on %s", address));
#ifndef MLPD_SERVER_LOG_H_
#define MLPD_SERVER_LOG_H_

#include "absl/strings/string_view.h"

namespace mlpd {

// LogLine writes "2026-11-27T22:05:18.123Z mlpd: <message>\n" to stderr in one write.
void LogLine(absl::string_view message);

}  // namespace mlpd

#endif  // MLPD_SERVER_LOG_H_
