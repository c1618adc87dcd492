#include "server/server_info.h"

#include <string>
#include <vector>

#include "core/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::ElementsAre;

TEST(ServerInfoTest, LimitsAreTheOptionsInBytes) {
  ServerOptions options;
  options.max_message_mb = 5;
  options.max_session_params = 1234;
  options.max_sessions = 7;
  options.max_sessions_mb = 0;  // No limit: stays 0.
  options.max_datasets = 9;
  options.max_datasets_mb = 3;
  options.max_call_activation_mb = 2;
  options.max_queue = 11;
  options.max_trains = 13;
  const v1::ServerInfo info = DescribeServer(options, ServerTraits{false, false, 42});
  EXPECT_EQ(info.limits().max_message_bytes(), 5 << 20);
  EXPECT_EQ(info.limits().max_session_params(), 1234);
  EXPECT_EQ(info.limits().max_sessions(), 7);
  EXPECT_EQ(info.limits().max_sessions_bytes(), 0);
  EXPECT_EQ(info.limits().max_datasets(), 9);
  EXPECT_EQ(info.limits().max_datasets_bytes(), 3 << 20);
  EXPECT_EQ(info.limits().max_call_activation_bytes(), 2 << 20);
  EXPECT_EQ(info.limits().max_queue(), 11);
  EXPECT_EQ(info.limits().max_trains(), 13);
  EXPECT_EQ(info.start_time_unix_ms(), 42);
  EXPECT_EQ(info.api(), "mlpd.v1 1.0");
  // The version is the project's "MAJOR.MINOR.PATCH"; the build names a compiler.
  EXPECT_THAT(info.version(), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_EQ(info.version(), MlpdVersion());
  EXPECT_THAT(info.build(), ::testing::HasSubstr(", "));
}

TEST(ServerInfoTest, FeaturesFollowTheDataDirAndTheToken) {
  const ServerOptions options;
  const v1::ServerInfo bare = DescribeServer(options, ServerTraits{false, false, 0});
  EXPECT_THAT(bare.features(), ElementsAre("expected_step", "jobs"));
  const v1::ServerInfo kept = DescribeServer(options, ServerTraits{true, true, 0});
  EXPECT_THAT(kept.features(), ElementsAre("auth", "data_dir", "expected_step", "history", "jobs"));
}

}  // namespace
}  // namespace mlpd
