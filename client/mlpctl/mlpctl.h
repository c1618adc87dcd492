// mlpctl.h: the command-line client of mlpd, as a function (main.cc calls it; tests may too).
//
// The global flags (connection.h) and every registered command (command.h) make up the
// command line; after parsing, the client is built and the chosen command runs.
//
// Exit codes: 0 ok; 1 the server refused (printed as "CODE_NAME: message"), or the job that
// watch followed failed or was cancelled (its reason printed the same way); 2 usage error (bad
// flags, unreadable local files); 130 Ctrl-C (a train cancelled, or a watch left: its job goes
// on).
//
//   int main(int argc, char** argv) { return mlpd::mlpctl::RunMlpctl(argc, argv); }
#ifndef MLPD_CLIENT_MLPCTL_MLPCTL_H_
#define MLPD_CLIENT_MLPCTL_MLPCTL_H_

namespace mlpd::mlpctl {

// RunMlpctl parses `argv`, runs the chosen command and returns the exit code.
int RunMlpctl(int argc, const char* const* argv);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_MLPCTL_H_
