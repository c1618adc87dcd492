// flag_checks.h: CLI11 validators that check the text typed for a number flag.
//
// CLI11 alone would clamp an integer overflow to the type's limit, wrap "-1" around in an
// unsigned seed, read "010" as octal and turn "1e99" into inf, all silently; these validators
// refuse such text, quoting it.
//
//   command->add_option("--epochs", epochs, "Epochs to run")->transform(IntegerFlag(1));
//   command->add_option("--lr", learning_rate, "Learning rate")->check(Float32Flag());
#ifndef MLPD_CLIENT_MLPCTL_FLAG_CHECKS_H_
#define MLPD_CLIENT_MLPCTL_FLAG_CHECKS_H_

#include <cstdint>
#include <limits>

#include "CLI/CLI.hpp"
#include "absl/numeric/int128.h"

namespace mlpd::mlpctl {

// IntegerFlag checks an integer flag's typed text against [minimum, maximum] and rewrites it in
// decimal for CLI11 (use it with transform()).
CLI::Validator IntegerFlag(absl::int128 minimum,
                           absl::int128 maximum = std::numeric_limits<int64_t>::max());

// Float32Flag checks a float flag's typed text, so the error quotes what was typed ("1e99")
// instead of what it became (inf, blamed on a spec field). Use it with check().
CLI::Validator Float32Flag();

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_FLAG_CHECKS_H_
