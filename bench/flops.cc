#include "bench/flops.h"

#include <algorithm>

#include "bench/timing.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace mlpd::bench {

double TrainStepFlops(const std::vector<int64_t>& sizes, int64_t batch) {
  double forward = 0.0;
  for (size_t i = 1; i < sizes.size(); ++i) forward += 2.0 * batch * sizes[i - 1] * sizes[i];
  const double first_layer = 2.0 * batch * sizes[0] * sizes[1];
  return 3.0 * forward - first_layer;
}

double MatmulGflops(int64_t n, double min_seconds) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc md({n, n}, dt::f32, tag::ab);
  dnnl::memory a(md, engine), b(md, engine), c(md, engine);
  std::fill_n(static_cast<float*>(a.get_data_handle()), n * n, 0.5f);
  std::fill_n(static_cast<float*>(b.get_data_handle()), n * n, 0.25f);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(md, md, md), engine);
  dnnl::matmul matmul(pd);
  const std::vector<double> times = TimeCalls(
      [&] {
        matmul.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
        stream.wait();
      },
      min_seconds, 5, /*warmup=*/3);
  return 2.0 * n * n * n / Percentile(times, 0.5) / 1e9;
}

}  // namespace mlpd::bench
