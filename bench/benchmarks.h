// benchmarks.h: the entry points of mlpd-bench's subcommands. Each takes the arguments after
// the subcommand name (argv[0] is the subcommand) and returns the process exit code.
#ifndef MLPD_BENCH_BENCHMARKS_H_
#define MLPD_BENCH_BENCHMARKS_H_

namespace mlpd::bench {

int RunEngine(int argc, char** argv);
int RunPractical(int argc, char** argv);
int RunService(int argc, char** argv);

}  // namespace mlpd::bench

#endif  // MLPD_BENCH_BENCHMARKS_H_
