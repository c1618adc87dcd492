// mlpctl: the command-line client of mlpd (see mlpctl.h).
#include "client/mlpctl/mlpctl.h"

int main(int argc, char** argv) { return mlpd::mlpctl::RunMlpctl(argc, argv); }
