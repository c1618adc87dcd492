// openmp_environment.h: the OpenMP runtime settings a server process wants, applied before
// the runtime starts.
//
// After each parallel region, libgomp's worker threads spin for a while (GOMP_SPINCOUNT,
// 300000 by default) before they sleep. In a server that is a core taken from the gRPC
// threads at the exact moment they parse the next request and send the last answer, and
// measured here it slowed a loopback TrainStep by about 0.5 ms. A short spin keeps the workers
// warm between the primitives of one step and frees the core right after it. libgomp reads
// the variable once, when it loads, so it has to be in the environment before the process
// starts: a process without it sets it and re-executes itself.
//
//   int main(int argc, char** argv) {
//     mlpd::UseServerOpenMpSettings(argv);  // may not return (re-executes)
//     ...
#ifndef MLPD_SERVER_OPENMP_ENVIRONMENT_H_
#define MLPD_SERVER_OPENMP_ENVIRONMENT_H_

namespace mlpd {

// kServerSpinCount is the GOMP_SPINCOUNT the server runs with.
inline constexpr char kServerSpinCount[] = "10000";

// UseServerOpenMpSettings re-executes the program (/proc/self/exe with `argv`) with
// GOMP_SPINCOUNT set, unless GOMP_SPINCOUNT or OMP_WAIT_POLICY is already set (the operator's
// choice wins) or the re-execution fails (then it returns and the process runs as it is).
void UseServerOpenMpSettings(char** argv);

}  // namespace mlpd

#endif  // MLPD_SERVER_OPENMP_ENVIRONMENT_H_
