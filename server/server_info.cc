#include "server/server_info.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/version.h"

namespace mlpd {

v1::ServerInfo DescribeServer(const ServerOptions& options, const ServerTraits& traits) {
  v1::ServerInfo info;
  info.set_version(MlpdVersion());
  info.set_api(kApiVersion);
  info.set_build(BuildDescription());
  v1::ServerLimits* limits = info.mutable_limits();
  limits->set_max_message_bytes(options.max_message_mb << 20);
  limits->set_max_session_params(options.max_session_params);
  limits->set_max_sessions(options.max_sessions);
  limits->set_max_sessions_bytes(options.max_sessions_mb << 20);
  limits->set_max_datasets(options.max_datasets);
  limits->set_max_datasets_bytes(options.max_datasets_mb << 20);
  limits->set_max_call_activation_bytes(options.max_call_activation_mb << 20);
  limits->set_max_queue(options.max_queue);
  limits->set_max_trains(options.max_trains);
  std::vector<std::string> features = {"expected_step", "jobs"};
  if (traits.keeps_data) features.insert(features.end(), {"data_dir", "history"});
  if (traits.requires_token) features.push_back("auth");
  std::sort(features.begin(), features.end());
  for (const std::string& feature : features) info.add_features(feature);
  info.set_start_time_unix_ms(traits.start_time_unix_ms);
  return info;
}

}  // namespace mlpd
