#include "server/server.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/plan_cache.h"
#include "core/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"
#include "server/log.h"

namespace mlpd {
namespace {

constexpr char kServiceName[] = "mlpd.v1.Mlpd";

}  // namespace

Server::Server() = default;

Server::~Server() {
  if (running_) Shutdown();
}

absl::Status Server::LoadDataDir() {
  MLPD_ASSIGN_OR_RETURN(DataDir::Contents contents, store_->LoadAll());
  for (const std::string& quarantined : contents.quarantined) {
    LogLine(absl::StrFormat("quarantined %s", quarantined));
  }
  for (auto& [name, session] : contents.sessions) {
    const absl::Status restored = service_->RestoreSession(name, std::move(session));
    if (!restored.ok()) {
      LogLine(absl::StrFormat("session \"%s\" was not restored: %s", name, restored.ToString()));
    }
  }
  for (auto& [name, dataset] : contents.datasets) {
    const absl::Status restored =
        service_->RestoreDataset(name, std::move(dataset), store_->DatasetCreatedUnixMs(name));
    if (!restored.ok()) {
      LogLine(absl::StrFormat("dataset \"%s\" was not restored: %s", name, restored.ToString()));
    }
  }
  return absl::OkStatus();
}

void Server::StartMetrics() {
  ServerMetrics::Options metrics_options;
  metrics_options.http_listen = options_.http_listen;
  metrics_options.token = auth_ != nullptr ? auth_->token() : "";
  metrics_options.metrics_without_token = options_.http_metrics_open;
  metrics_options.limits = {options_.max_sessions, options_.max_sessions_mb << 20,
                            options_.max_datasets, options_.max_datasets_mb << 20,
                            options_.max_queue};
  // Scrapes read the service and the executor, which Start makes before opening the HTTP port.
  metrics_ = std::make_unique<ServerMetrics>(
      metrics_options,
      [this] {
        return MlpdMetrics::Held{service_->session_count(), service_->session_bytes(),
                                 service_->dataset_count(), service_->dataset_bytes()};
      },
      [this] { return executor_->queued(); });
  metrics_->mlpd().AddJobs([this] { return service_->job_counts(); });
}

absl::StatusOr<int> Server::Listen(const std::shared_ptr<grpc::ServerCredentials>& credentials) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options_.listen, credentials, &port);
  const int max_bytes = static_cast<int>(
      std::min<int64_t>(options_.max_message_mb << 20, std::numeric_limits<int>::max()));
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  builder.RegisterService(service_.get());
  builder.experimental().SetInterceptorCreators(metrics_->InterceptorFactories());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    executor_->Stop();
    return absl::UnavailableError(absl::StrFormat(
        "could not listen on --listen=%s (in use, or not an address)", options_.listen));
  }
  if (!absl::StartsWith(options_.listen, "unix:") && port == 0) {
    server_->Shutdown();
    executor_->Stop();
    return absl::UnavailableError(absl::StrFormat("could not bind --listen=%s", options_.listen));
  }
  return port;
}

absl::StatusOr<int> Server::Start(const ServerOptions& options) {
  if (running_) return absl::FailedPreconditionError("the server is already running");
  options_ = options;
  MLPD_RETURN_IF_ERROR(ValidateOptions(options_));
  if (!options_.security.auth_token_file.empty()) {
    MLPD_ASSIGN_OR_RETURN(auth_, TokenAuthenticator::FromFile(options_.security.auth_token_file));
  }
  MLPD_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                        MakeServerCredentials(options_.security, auth_.get()));

  StartMetrics();
  MlpdMetrics* mlpd_metrics = &metrics_->mlpd();
  executor_ = std::make_unique<ComputeExecutor>(ComputeExecutor::Options{
      options_.max_queue, options_.threads, absl::Microseconds(options_.executor_spin_us),
      [this, mlpd_metrics](absl::Duration waited, absl::Duration ran) {
        mlpd_metrics->ExecutorItemRan(waited, ran);
        // The plans a call built (its activations) count in --max-sessions-mb with the
        // sessions' state: they keep to what the state leaves, at most the cache's own bound.
        const int64_t room = service_ != nullptr ? service_->session_room_bytes() : -1;
        PlanCache::ForThisThread().Trim(room < 0 ? PlanCache::kMaxBytes
                                                 : std::min(room, PlanCache::kMaxBytes));
      }});
  DataDir* store = nullptr;
  if (!options_.data_dir.empty()) {
    store_ = std::make_unique<DataDir>(options_.data_dir);
    MLPD_RETURN_IF_ERROR(store_->Open());
    writer_ = std::make_unique<SerialWorker>();
    store = store_.get();
  }
  service_ = std::make_unique<MlpdService>(options_, executor_.get(), store, writer_.get(),
                                           auth_.get(), mlpd_metrics);

  if (store_ != nullptr) {
    MLPD_RETURN_IF_ERROR(LoadDataDir());
    MLPD_RETURN_IF_ERROR(service_->LoadJobs());
  }

  MLPD_ASSIGN_OR_RETURN(const int port, Listen(credentials));
  const bool unix_socket = absl::StartsWith(options_.listen, "unix:");
  // SERVING only once the HTTP port is open too, so a probe that passed can scrape.
  absl::StatusOr<int> http_port = metrics_->StartHttp(server_->InProcessChannel({}));
  if (!http_port.ok()) {
    server_->Shutdown();
    executor_->Stop();
    return http_port.status();
  }
  http_port_ = *http_port;
  if (http_port_ > 0) {
    const std::string host = options_.http_listen.substr(0, options_.http_listen.rfind(':'));
    LogLine(absl::StrFormat("metrics and dashboard on http://%s:%d/", host, http_port_));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    health->SetServingStatus(kServiceName, true);
  }
  if (store_ != nullptr && options_.checkpoint_interval_seconds > 0) {
    timer_ = std::thread([this] { SnapshotTimer(); });
  }
  running_ = true;
  // Jobs the previous server left running go on from their sessions' snapshots.
  service_->ResumeJobs();
  LogLine(absl::StrFormat("serving on %s%s, data dir %s, %d sessions and %d datasets loaded",
                          options_.listen, unix_socket ? "" : absl::StrFormat(" (port %d)", port),
                          options_.data_dir.empty() ? "(none)" : options_.data_dir,
                          service_->session_count(), service_->dataset_count()));
  if (const std::string over = service_->OverLimits(); !over.empty()) {
    LogLine(absl::StrFormat("loaded %s: all are kept, new ones are refused until some are deleted",
                            over));
  }
  return unix_socket ? 0 : port;
}

void Server::SnapshotTimer() {
  const absl::Duration period =
      absl::Milliseconds(static_cast<int64_t>(options_.checkpoint_interval_seconds * 1000));
  absl::MutexLock lock(&timer_mutex_);
  while (!timer_mutex_.AwaitWithTimeout(absl::Condition(&timer_stop_), period)) {
    MlpdService* service = service_.get();
    executor_->Continue(0, [service](bool cancelled) {
      if (!cancelled) service->SnapshotChanged();
    });
  }
}

void Server::Shutdown() {
  if (!running_) return;
  running_ = false;
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(options_.drain_seconds);
  LogLine(absl::StrFormat("draining (up to %.1f s)", options_.drain_seconds));
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(false);
    health->SetServingStatus(kServiceName, false);
  }
  service_->BeginDrain();
  // Jobs stop between mini-batches at once, without ending: they resume at the next start.
  service_->StopJobs();
  // In-flight work gets the drain deadline; Train calls still running then stop between
  // mini-batches, their applied steps kept.
  while (absl::Now() < deadline &&
         (service_->active_trains() > 0 || !executor_->WaitIdle(absl::Now()))) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (service_->active_trains() > 0) service_->StopTrains();
  executor_->WaitIdle(absl::InfiniteFuture());

  {
    absl::MutexLock lock(&timer_mutex_);
    timer_stop_ = true;
  }
  if (timer_.joinable()) timer_.join();
  if (writer_ != nullptr) {
    MlpdService* service = service_.get();
    executor_->RunAndWait(0, [service] { service->SnapshotChanged(); });
    writer_->Flush();
  }
  // The dashboard reads through the gRPC server: close its port first.
  metrics_->StopHttp();
  // Calls answered already are written out within this grace period.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  executor_->Stop();
  if (writer_ != nullptr) writer_->Flush();
  const int64_t unsaved = writer_ != nullptr ? service_->unsaved_sessions() : 0;
  LogLine(absl::StrFormat(
      "stopped after draining for %.2f s; %d sessions saved%s",
      absl::ToDoubleSeconds(absl::Now() - start),
      writer_ != nullptr ? service_->session_count() - unsaved : 0,
      unsaved == 0 ? ""
                   : absl::StrFormat(", %d NOT saved (see the snapshot errors above): their "
                                     "files hold older steps or nothing",
                                     unsaved)));
}

}  // namespace mlpd
