// anchor.h: running a PyTorch anchor script (with /usr/bin/python3, which sees Debian's
// python3-torch) from a benchmark, so both sides are measured in the same run.
//
//   std::vector<std::string> lines = AnchorOutput("torch_practical3.py", {mnist_dir, "1"});
//   double seconds = NumberAfter(lines, "time_1000_steps ");
#ifndef MLPD_BENCH_ANCHOR_H_
#define MLPD_BENCH_ANCHOR_H_

#include <string>
#include <vector>

namespace mlpd::bench {

// AnchorOutput runs the script with `arguments` and returns its output lines, or none when it
// could not run or exited with an error (e.g. it refused a reference BLAS).
std::vector<std::string> AnchorOutput(const std::string& script,
                                      const std::vector<std::string>& arguments);

// NumberAfter is the number following the first `key` in `lines`, or 0 when none does.
double NumberAfter(const std::vector<std::string>& lines, const std::string& key);

}  // namespace mlpd::bench

#endif  // MLPD_BENCH_ANCHOR_H_
