// mlpd-client-predict-timing: the C++ client's Predict of one random [rows, cols] batch against
// a running mlpd, in blocks a driver asks for, so that it can interleave them with its own
// calls: bench/python_client_predict.py alternates blocks of this and of the Python package
// on the same server, and compares the medians (this machine's load drifts within seconds).
//
//   mlpd-client-predict-timing TARGET SESSION ROWS COLS
//   stdin: a count of calls per line; stdout: each call's seconds, one line per block.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "client/client.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s TARGET SESSION ROWS COLS < counts\n", argv[0]);
    return 2;
  }
  mlpd::ClientOptions options;
  options.target = argv[1];
  const std::string session = argv[2];
  mlpd::Matrix x;
  x.rows = std::stoll(argv[3]);
  x.cols = std::stoll(argv[4]);
  std::mt19937 random(1);
  std::normal_distribution<float> normal;
  x.data.resize(x.rows * x.cols);
  for (float& value : x.data) value = normal(random);

  absl::StatusOr<std::unique_ptr<mlpd::Client>> client = mlpd::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  long long calls = 0;
  while (std::cin >> calls) {
    for (long long call = 0; call < calls; ++call) {
      const Clock::time_point before = Clock::now();
      absl::StatusOr<mlpd::v1::PredictResponse> response =
          (*client)->PredictRows(session, x.view());
      const Clock::time_point after = Clock::now();
      if (!response.ok()) {
        std::fprintf(stderr, "%s\n", response.status().ToString().c_str());
        return 1;
      }
      std::printf("%s%.9f", call == 0 ? "" : " ",
                  std::chrono::duration<double>(after - before).count());
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
