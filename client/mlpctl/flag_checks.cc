#include "client/mlpctl/flag_checks.h"

#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/spec_flags.h"

namespace mlpd::mlpctl {

CLI::Validator IntegerFlag(absl::int128 minimum, absl::int128 maximum) {
  return CLI::Validator(
      [minimum, maximum](std::string& text) -> std::string {
        constexpr const char* kNotInteger = "is not a decimal integer";
        absl::int128 value = 0;
        const char* problem = nullptr;
        if (!absl::SimpleAtoi(text, &value)) {
          problem = kNotInteger;
        } else if (value < minimum || value > maximum) {
          problem = "is out of range";
        }
        if (problem == nullptr) {
          std::ostringstream decimal;
          decimal << value;
          text = decimal.str();
          return "";
        }
        // A bound that is only the type's limit is named when it is the one exceeded.
        std::ostringstream expected;
        expected << "expected an integer ";
        if (maximum < std::numeric_limits<int64_t>::max()) {
          expected << "from " << minimum << " to " << maximum;
        } else if (problem != kNotInteger && value > maximum) {
          expected << "<= " << maximum;
        } else {
          expected << ">= " << minimum;
        }
        return absl::StrCat("\"", text, "\" ", problem, ", ", expected.str());
      },
      /*validator_desc=*/"");
}

CLI::Validator Float32Flag() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!absl::SimpleAtod(text, &value)) return absl::StrCat("\"", text, "\" is not a number");
        const std::string problem = Float32Problem(value);
        return problem.empty() ? "" : absl::StrCat("\"", text, "\" ", problem);
      },
      /*validator_desc=*/"");
}

}  // namespace mlpd::mlpctl
