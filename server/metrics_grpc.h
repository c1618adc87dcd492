// metrics_grpc.h: the gRPC server families of the go-grpc-prometheus convention, counted by a
// server interceptor, so dashboards written for Go and Java gRPC servers work on mlpd as is:
//
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}  (histogram)
//   grpc_server_msg_received_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_msg_sent_total{grpc_type,grpc_service,grpc_method}
//
// grpc_type is unary, client_stream, server_stream or bidi_stream; grpc_code is the code's Go
// name (OK, InvalidArgument, ResourceExhausted, ...). Like go-grpc-prometheus, the methods of
// the services named at construction start at zero for every code, so a query sees them before
// the first call. Unknown method names (clients may send any) share the families' cap.
//
//   GrpcServerMetrics grpc_metrics(registry, {"mlpd.v1.Mlpd"});
//   grpc::ServerBuilder builder;
//   std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
//   f.push_back(grpc_metrics.NewInterceptorFactory());
//   builder.experimental().SetInterceptorCreators(std::move(f));
#ifndef MLPD_SERVER_METRICS_GRPC_H_
#define MLPD_SERVER_METRICS_GRPC_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "server/metrics_registry.h"

namespace mlpd {

// GrpcCodeName is the Go name of a status code ("OK", "NotFound", ...), as grpc_code shows it.
absl::string_view GrpcCodeName(grpc::StatusCode code);

// kGrpcHandlingSecondsBounds: from 100 us (a TrainStep here takes ~0.2 ms) to 5 min (a Train
// stream over epochs).
const std::vector<double>& GrpcHandlingSecondsBounds();

class GrpcServerMetrics {
 public:
  // The series of one method; every reference points into the registry's families.
  struct Method {
    Counter* started;
    Counter* received;
    Counter* sent;
    Histogram* handling_seconds;
    std::array<Counter*, 17> handled;  // By grpc::StatusCode (0 OK ... 16 UNAUTHENTICATED).
  };

  // Registers the five families in `registry` (which must outlive this object) and starts at
  // zero the methods of `services` (full names in the generated descriptor pool).
  GrpcServerMetrics(MetricsRegistry& registry, const std::vector<std::string>& services);
  GrpcServerMetrics(const GrpcServerMetrics&) = delete;
  GrpcServerMetrics& operator=(const GrpcServerMetrics&) = delete;

  // NewInterceptorFactory returns a factory for grpc::ServerBuilder; it must not outlive this.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  // MethodSeries returns the series of `full_method` ("/package.Service/Method") called as
  // `type`, created on first use.
  Method& MethodSeries(absl::string_view full_method, grpc::experimental::ServerRpcInfo::Type type);

 private:
  Method& Create(absl::string_view full_method, grpc::experimental::ServerRpcInfo::Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  CounterFamily& started_;
  CounterFamily& handled_;
  HistogramFamily& handling_seconds_;
  CounterFamily& received_;
  CounterFamily& sent_;

  absl::Mutex mutex_;
  // The same method may be seen under two types only through a misbehaving client; the key
  // holds both so the labels stay exact.
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mlpd

#endif  // MLPD_SERVER_METRICS_GRPC_H_
