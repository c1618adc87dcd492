#include "server/metrics_server.h"

#include <utility>

#include "server/metrics_process.h"

namespace mlpd {

ServerMetrics::ServerMetrics(Options options, std::function<MlpdMetrics::Held()> held,
                             std::function<int64_t()> queue_depth)
    : options_(std::move(options)),
      grpc_(registry_, {"mlpd.v1.Mlpd", "grpc.health.v1.Health"}),
      mlpd_(registry_, options_.limits, std::move(held), std::move(queue_depth)) {
  AddProcessMetrics(registry_);
}

ServerMetrics::~ServerMetrics() { StopHttp(); }

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
ServerMetrics::InterceptorFactories() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(grpc_.NewInterceptorFactory());
  return factories;
}

absl::StatusOr<int> ServerMetrics::StartHttp(std::shared_ptr<grpc::Channel> channel) {
  if (options_.http_listen.empty()) return 0;
  HttpServerOptions http_options;
  http_options.listen = options_.http_listen;
  http_options.token = options_.token;
  http_options.metrics_without_token = options_.metrics_without_token;
  http_ = std::make_unique<HttpServer>(
      http_options, [this] { return registry_.TextExposition(); }, std::move(channel));
  return http_->Start();
}

void ServerMetrics::StopHttp() {
  if (http_ != nullptr) http_->Stop();
}

}  // namespace mlpd
