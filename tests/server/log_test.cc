// Tests of the server's log lines in both formats.
#include "server/log.h"

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace mlpd {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 27, 22, 5, 18), absl::UTCTimeZone()) +
    absl::Milliseconds(123);

TEST(LogTest, ParsesTheTwoFormats) {
  EXPECT_EQ(ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("JSON ").has_value());
  EXPECT_FALSE(ParseLogFormat("").has_value());
}

TEST(LogTest, PlainMessagesKeepTheirTextLine) {
  EXPECT_EQ(
      LogEvent("message").Message("serving on 127.0.0.1:50051").Format(LogFormat::kText, kNow),
      "2026-11-27T22:05:18.123Z mlpd: serving on 127.0.0.1:50051\n");
}

TEST(LogTest, JsonLinesCarryEveryFieldThatIsSet) {
  const std::string line = LogEvent("call_failed")
                               .Level(LogLevel::kWarning)
                               .Session("a \"quoted\" name")
                               .Job("job-7")
                               .Method("TrainStep")
                               .Code("INVALID_ARGUMENT")
                               .Duration(absl::Microseconds(1500))
                               .Message("x.shape[1] is 783")
                               .Format(LogFormat::kJson, kNow);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  const nlohmann::json json = nlohmann::json::parse(line);
  EXPECT_EQ(json["time"], "2026-11-27T22:05:18.123Z");
  EXPECT_EQ(json["level"], "warning");
  EXPECT_EQ(json["event"], "call_failed");
  EXPECT_EQ(json["session"], "a \"quoted\" name");
  EXPECT_EQ(json["job"], "job-7");
  EXPECT_EQ(json["method"], "TrainStep");
  EXPECT_EQ(json["code"], "INVALID_ARGUMENT");
  EXPECT_DOUBLE_EQ(json["duration"].get<double>(), 0.0015);
  EXPECT_EQ(json["message"], "x.shape[1] is 783");
}

TEST(LogTest, JsonLeavesOutUnsetFieldsAndSurvivesInvalidUtf8) {
  const nlohmann::json json = nlohmann::json::parse(
      LogEvent("started").Session(std::string("bad\xff", 4)).Format(LogFormat::kJson, kNow));
  EXPECT_EQ(json["level"], "info");
  EXPECT_FALSE(json.contains("job"));
  EXPECT_FALSE(json.contains("duration"));
  EXPECT_FALSE(json.contains("message"));
  EXPECT_EQ(json["session"], "bad\xEF\xBF\xBD");
}

TEST(LogTest, TextLinesAreTheSentenceOrTheEventWithItsFields) {
  const LogEvent failed = LogEvent("call_failed")
                              .Method("Predict")
                              .Session("my model")
                              .Code("NOT_FOUND")
                              .Duration(absl::Milliseconds(2));
  EXPECT_EQ(
      LogEvent(failed).Message("Predict failed: code=NOT_FOUND").Format(LogFormat::kText, kNow),
      "2026-11-27T22:05:18.123Z mlpd: Predict failed: code=NOT_FOUND\n");
  EXPECT_EQ(failed.Format(LogFormat::kText, kNow),
            "2026-11-27T22:05:18.123Z mlpd: call_failed method=Predict session=\"my model\" "
            "code=NOT_FOUND duration=0.002000s\n");
}

}  // namespace
}  // namespace mlpd
