// exposition_test_util.h: reads one sample out of a Prometheus text exposition in tests.
//
//   EXPECT_EQ(ExposedValue(registry.TextExposition(), "process_open_fds"), 12);
#ifndef MLPD_TESTS_SERVER_EXPOSITION_TEST_UTIL_H_
#define MLPD_TESTS_SERVER_EXPOSITION_TEST_UTIL_H_

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace testing {

// ExposedValue returns the value of `series` (the name and labels exactly as exposed, e.g.
// `x_total{a="b"}`), failing the test and returning -1 when it is not there.
inline double ExposedValue(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    double value;
    if (absl::ConsumePrefix(&line, series + " ") && absl::SimpleAtod(line, &value)) return value;
  }
  ADD_FAILURE() << series << " is not in the exposition:\n" << text;
  return -1;
}

}  // namespace testing
}  // namespace mlpd

#endif  // MLPD_TESTS_SERVER_EXPOSITION_TEST_UTIL_H_
