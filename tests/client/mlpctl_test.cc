// Tests of mlpctl's units that need no server: the command registry (every subcommand, in
// --help order, each with an example), the requests built from flags, and the client options
// built from the global flags.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "client/mlpctl/command.h"
#include "client/mlpctl/connection.h"
#include "client/mlpctl/requests.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd::mlpctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CommandRegistryTest, EverySubcommandIsRegisteredInHelpOrderWithAnExample) {
  CLI::App app;
  std::vector<std::unique_ptr<Command>> commands = AddRegisteredCommands(app);
  std::vector<std::string> names;
  for (const std::unique_ptr<Command>& command : commands) names.push_back(command->name());
  EXPECT_THAT(names, ElementsAre("create", "get", "list", "delete", "save", "health", "upload",
                                 "train", "jobs", "job", "watch", "cancel", "history", "step",
                                 "evaluate", "predict", "export", "import", "version"));
  std::vector<std::string> help_order;
  for (const CLI::App* subcommand : app.get_subcommands({})) {
    help_order.push_back(subcommand->get_name());
    EXPECT_THAT(subcommand->get_footer(), HasSubstr("Example:")) << subcommand->get_name();
  }
  EXPECT_EQ(help_order, names);
}

TEST(CommandRegistryTest, OnlyTheChosenCommandIsParsedAndKeepsItsOwnFlags) {
  CLI::App app;
  app.require_subcommand(1);
  std::vector<std::unique_ptr<Command>> commands = AddRegisteredCommands(app);
  app.parse("get train --dataset", /*program_name_included=*/false);
  std::vector<std::string> parsed;
  for (const std::unique_ptr<Command>& command : commands) {
    if (command->parsed()) parsed.push_back(command->name());
  }
  EXPECT_THAT(parsed, ElementsAre("get"));
}

TrainFlags SomeTrainFlags() {
  TrainFlags flags;
  flags.name = "digits";
  flags.dataset = "train";
  flags.eval_dataset = "test";
  flags.epochs = 3;
  flags.shuffle = true;
  flags.seed = 11;
  flags.report_every = 5;
  return flags;
}

TEST(TrainRequestTest, EveryFlagReachesTheRequestAndFullMeansTheWholeDataset) {
  absl::StatusOr<v1::TrainRequest> request = TrainRequestFromFlags(SomeTrainFlags());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->name(), "digits");
  EXPECT_EQ(request->dataset(), "train");
  EXPECT_EQ(request->eval_dataset(), "test");
  EXPECT_EQ(request->epochs(), 3);
  EXPECT_EQ(request->batch_size(), 0);
  EXPECT_TRUE(request->shuffle());
  EXPECT_EQ(request->seed(), 11u);
  EXPECT_EQ(request->report_every_steps(), 5);

  TrainFlags flags = SomeTrainFlags();
  flags.batch_size = "32";
  request = TrainRequestFromFlags(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->batch_size(), 32);
}

TEST(TrainRequestTest, ABatchSizeThatIsNeitherPositiveNorFullIsRefusedNamingTheFlag) {
  for (const char* bad : {"0", "-1", "x", "", "Full", "1.5"}) {
    TrainFlags flags = SomeTrainFlags();
    flags.batch_size = bad;
    absl::Status status = TrainRequestFromFlags(flags).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(),
                HasSubstr(std::string("--batch-size: \"") + bad + "\" is neither"));
  }
}

TEST(TrainRequestTest, EarlyStoppingAndKeepBestReachTheRequest) {
  TrainFlags flags = SomeTrainFlags();
  absl::StatusOr<v1::TrainRequest> request = TrainRequestFromFlags(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->has_early_stopping());
  EXPECT_FALSE(request->keep_best());
  EXPECT_EQ(request->eval_every_steps(), 0);

  flags.eval_every = 25;
  flags.patience = 3;
  flags.min_delta = 0.01;
  flags.keep_best = true;
  request = TrainRequestFromFlags(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->eval_every_steps(), 25);
  EXPECT_EQ(request->early_stopping().patience(), 3);
  EXPECT_DOUBLE_EQ(request->early_stopping().min_delta(), 0.01);
  EXPECT_TRUE(request->keep_best());
}

TEST(TrainRequestTest, WhatDecidesFromEvaluationsNeedsAnEvalDatasetNamingTheFlag) {
  const std::vector<std::pair<void (*)(TrainFlags*), std::string>> cases = {
      {[](TrainFlags* flags) { flags->eval_every = 10; }, "--eval-every needs --eval"},
      {[](TrainFlags* flags) { flags->patience = 2; }, "--patience needs --eval"},
      {[](TrainFlags* flags) { flags->keep_best = true; }, "--keep-best needs --eval"},
  };
  for (const auto& [set, message] : cases) {
    TrainFlags flags = SomeTrainFlags();
    flags.eval_dataset = "";
    set(&flags);
    absl::Status status = TrainRequestFromFlags(flags).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(status.message(), HasSubstr(message));
  }
}

TEST(TrainRequestTest, MinDeltaMustBeAFiniteNonNegativeNumberWithPatience) {
  TrainFlags flags = SomeTrainFlags();
  flags.patience = 2;
  for (double bad :
       {-0.5, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    flags.min_delta = bad;
    absl::Status status = TrainRequestFromFlags(flags).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("expected a finite number >= 0"));
    EXPECT_THAT(status.message(), HasSubstr("--min-delta is "));
  }
  flags.patience = 0;
  flags.min_delta = 0.1;
  EXPECT_THAT(TrainRequestFromFlags(flags).status().message(),
              HasSubstr("--min-delta needs --patience"));
}

TEST(JobStateTest, TheFiveStatesInAnyCaseOthersRefusedNamingTheFlag) {
  EXPECT_EQ(*ParseJobState("queued"), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(*ParseJobState("Running"), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(*ParseJobState("SUCCEEDED"), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(*ParseJobState("failed"), v1::JOB_STATE_FAILED);
  EXPECT_EQ(*ParseJobState("cancelled"), v1::JOB_STATE_CANCELLED);
  for (const char* bad : {"", "unspecified", "done", "JOB_STATE_RUNNING", "canceled"}) {
    absl::Status status = ParseJobState(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(status.message(),
              std::string("--state: \"") + bad +
                  "\" is not one of queued, running, succeeded, failed, cancelled");
  }
}

TEST(UploadCallOptionsTest, TheDeadlineGrowsWithThePayloadAndTheRouteIsKept) {
  GlobalFlags global;
  global.timeout_seconds = 60;
  CallOptions call = UploadCallOptions(global, "practical", int64_t{20} << 20);
  EXPECT_EQ(call.timeout, absl::Seconds(62));
  EXPECT_EQ(call.routing_session, "practical");
  EXPECT_EQ(UploadCallOptions(global, "", 0).timeout, absl::Seconds(60));
}

TEST(BatchOfAllRowsTest, EveryRowAndItsLabelsAreSent) {
  Dataset dataset;
  dataset.x = Matrix{3, 2, {0, 1, 2, 3, 4, 5}};
  dataset.labels = {0, 1, 0};
  dataset.has_labels = true;
  v1::Batch batch = BatchOfAllRows(dataset);
  EXPECT_THAT(batch.x().shape(), ElementsAre(3, 2));
  EXPECT_EQ(batch.x().data_size(), 6);
  EXPECT_THAT(batch.labels(), ElementsAre(0, 1, 0));
}

TEST(ExportFormatTest, NativeAndOnnxInAnyCaseOthersNamed) {
  EXPECT_EQ(*ParseExportFormat("native"), v1::EXPORT_FORMAT_NATIVE);
  EXPECT_EQ(*ParseExportFormat("ONNX"), v1::EXPORT_FORMAT_ONNX);
  absl::Status status = ParseExportFormat("pdf").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "--format: \"pdf\" is not one of native, onnx");
}

TEST(ClientOptionsTest, GlobalFlagsBecomeTheClientOptions) {
  GlobalFlags global;
  global.server = "unix:/tmp/mlpd.sock";
  global.timeout_seconds = 2.5;
  global.max_message_mb = 4;
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags(global);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->target, "unix:/tmp/mlpd.sock");
  EXPECT_EQ(options->timeout, absl::Milliseconds(2500));
  EXPECT_EQ(options->max_message_bytes, 4 << 20);
  EXPECT_EQ(options->upload_chunk_bytes, 2 << 20);

  global.timeout_seconds = 0;
  EXPECT_THAT(ClientOptionsFromFlags(global).status().message(),
              HasSubstr("--timeout is 0, expected seconds > 0"));
}

TEST(ClientOptionsTest, TrainHasADeadlineOnlyWhenOneWasGiven) {
  GlobalFlags global;
  global.timeout_seconds = 7;
  EXPECT_EQ(TrainCallOptions(global).timeout, absl::ZeroDuration());
  global.timeout_given = true;
  EXPECT_EQ(TrainCallOptions(global).timeout, absl::Seconds(7));
}

// TokenFile writes `contents` to a token file of this test and returns its path.
std::string TokenFile(const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/mlpctl_test_token_" + std::to_string(getpid());
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(ClientOptionsTest, TheTokenFilesFirstLineIsSentTrimmed) {
  GlobalFlags global;
  global.token_file = TokenFile("  s3cret-Token_1 \nsecond line\n");
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags(global);
  std::remove(global.token_file.c_str());
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->token, "s3cret-Token_1");
}

// The server refuses to load a token that gRPC cannot send; mlpctl refuses it too, before any
// call, instead of letting every call fail later.
TEST(ClientOptionsTest, ATokenTheServerWouldRefuseIsRefusedBeforeCalling) {
  GlobalFlags global;
  global.token_file = TokenFile("s3cret\x01token\n");
  absl::Status status = ClientOptionsFromFlags(global).status();
  std::remove(global.token_file.c_str());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--token-file: \"" + global.token_file + "\""));
  EXPECT_THAT(status.message(), HasSubstr("printable ASCII without spaces; found byte 1"));

  GlobalFlags from_environment;
  ASSERT_EQ(setenv("MLPD_TOKEN", " two words ", /*overwrite=*/1), 0);
  status = ClientOptionsFromFlags(from_environment).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("$MLPD_TOKEN: the token must be printable ASCII"));

  // An empty $MLPD_TOKEN is no token, as before.
  ASSERT_EQ(setenv("MLPD_TOKEN", " ", /*overwrite=*/1), 0);
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags(from_environment);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->token, "");
  ASSERT_EQ(unsetenv("MLPD_TOKEN"), 0);
}

}  // namespace
}  // namespace mlpd::mlpctl
