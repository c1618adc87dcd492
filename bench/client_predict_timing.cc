// mlpd-client-predict-timing: the C++ client's Predict of one random [rows, cols] batch against
// a running mlpd, timed as every benchmark here is (timing.h). The floor the Python package is
// measured against: bench/python_client_predict.py runs both in one run and prints the ratio.
//
//   mlpd-client-predict-timing TARGET SESSION ROWS COLS MIN_SECONDS
//   -> {"median_seconds": 0.0041, "calls": 240}
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "client/client.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s TARGET SESSION ROWS COLS MIN_SECONDS\n", argv[0]);
    return 2;
  }
  mlpd::ClientOptions options;
  options.target = argv[1];
  const std::string session = argv[2];
  mlpd::Matrix x;
  x.rows = std::stoll(argv[3]);
  x.cols = std::stoll(argv[4]);
  const double min_seconds = std::stod(argv[5]);
  std::mt19937 random(1);
  std::normal_distribution<float> normal;
  x.data.resize(x.rows * x.cols);
  for (float& value : x.data) value = normal(random);

  absl::StatusOr<std::unique_ptr<mlpd::Client>> client = mlpd::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  bool failed = false;
  const std::vector<double> times = mlpd::bench::TimeCalls(
      [&] {
        absl::StatusOr<mlpd::v1::PredictResponse> response =
            (*client)->PredictRows(session, x.view());
        if (!response.ok()) {
          if (!failed) std::fprintf(stderr, "%s\n", response.status().ToString().c_str());
          failed = true;
        }
      },
      min_seconds, 10);
  if (failed) return 1;
  std::printf("{\"median_seconds\": %.6f, \"calls\": %zu}\n", mlpd::bench::Percentile(times, 0.5),
              times.size());
  return 0;
}
