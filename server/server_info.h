// server_info.h: what GetServerInfo answers, made once from the server's options.
//
//   const v1::ServerInfo info = DescribeServer(options, ServerTraits{true, false, NowUnixMs()});
#ifndef MLPD_SERVER_SERVER_INFO_H_
#define MLPD_SERVER_SERVER_INFO_H_

#include <cstdint>

#include "mlpd/v1/mlpd.pb.h"
#include "server/options.h"

namespace mlpd {

// ServerTraits are what the options alone do not say.
struct ServerTraits {
  bool keeps_data = false;      // A data dir: sessions, datasets and jobs survive restarts.
  bool requires_token = false;  // Calls need a bearer token.
  int64_t start_time_unix_ms = 0;
};

// DescribeServer is the ServerInfo of a server with `options` and `traits`.
v1::ServerInfo DescribeServer(const ServerOptions& options, const ServerTraits& traits);

}  // namespace mlpd

#endif  // MLPD_SERVER_SERVER_INFO_H_
