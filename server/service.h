// service.h: the mlpd.v1.Mlpd handlers (gRPC callback API) over the session and dataset
// registries.
//
// Handlers never compute: they authenticate, validate and convert the request, then queue the
// engine work on the ComputeExecutor keyed by the session, and the work answers the call when
// it has run. Snapshot and dataset files are written on a SerialWorker, never on the executor.
// Server (server.h) builds one MlpdService and owns the pieces it points to.
//
//   MlpdService service(options, &executor, &store, &writer, /*auth=*/nullptr);
//   builder.RegisterService(&service);
#ifndef MLPD_SERVER_SERVICE_H_
#define MLPD_SERVER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "core/dataset.h"
#include "core/tensor.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "mlpd/v1/model.pb.h"
#include "server/compute_executor.h"
#include "server/named_registry.h"
#include "server/security.h"
#include "server/serial_worker.h"
#include "server/session.h"
#include "server/session_store.h"

namespace mlpd {

// ServiceOptions are the limits and the snapshot policy of the service.
struct ServiceOptions {
  int64_t max_sessions = 10000;                   // 0: no limit.
  int64_t max_session_params = 100000000;         // Parameters of one session.
  int64_t max_session_bytes = int64_t{4} << 30;   // All sessions' parameters and state; 0: none.
  int64_t max_datasets = 1000;                    // 0: no limit.
  int64_t max_dataset_bytes = int64_t{2} << 30;   // All datasets together.
  int64_t checkpoint_every = 1000;                // Snapshot every N steps of a session; 0: never.
  int64_t max_message_bytes = int64_t{64} << 20;  // Largest answer gRPC will send.
};

// StoredDataset is an uploaded dataset; immutable once registered.
struct StoredDataset {
  std::string name;
  Dataset data;
  int64_t create_time_unix_ms = 0;
};

class MlpdService final : public v1::Mlpd::CallbackService {
 public:
  // `store` and `writer` may be null together: the service then keeps nothing on disk and
  // SaveSession answers FAILED_PRECONDITION. `auth` may be null: no token is required.
  MlpdService(ServiceOptions options, ComputeExecutor* executor, SessionStore* store,
              SerialWorker* writer, const TokenAuthenticator* auth);
  ~MlpdService() override;

  // RestoreSession registers a session from its snapshot (start-up; not on the executor).
  absl::Status RestoreSession(const std::string& name, const v1::Checkpoint& checkpoint);
  // RestoreDataset registers a dataset loaded from disk (start-up); `create_time_unix_ms` is
  // its upload time (0: unknown, use now).
  absl::Status RestoreDataset(const std::string& name, Dataset dataset,
                              int64_t create_time_unix_ms);

  // BeginDrain makes every new call answer UNAVAILABLE; work already queued still runs.
  void BeginDrain();
  // StopTrains makes running Train calls stop at their next mini-batch.
  void StopTrains();
  int64_t active_trains() const { return active_trains_.load(); }
  // unsaved_sessions counts the sessions whose last snapshot could not be written.
  int64_t unsaved_sessions() const;
  // SnapshotChanged snapshots every session whose file lags it. Executor only.
  void SnapshotChanged();

  int64_t session_count() const { return sessions_.size(); }
  // session_bytes is the memory of all sessions' parameters and optimizer state.
  int64_t session_bytes() const { return sessions_.bytes(); }
  // OverLimits describes how the sessions and datasets read back at start-up pass the limits
  // (they are all kept; new ones are refused until enough are deleted), or is empty.
  std::string OverLimits() const;
  int64_t dataset_count() const { return datasets_.size(); }

  // The mlpd.v1.Mlpd methods.
  grpc::ServerUnaryReactor* CreateSession(grpc::CallbackServerContext* context,
                                          const v1::CreateSessionRequest* request,
                                          v1::SessionInfo* response) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* context,
                                       const v1::GetSessionRequest* request,
                                       v1::SessionInfo* response) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* context,
                                         const v1::ListSessionsRequest* request,
                                         v1::ListSessionsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteSession(grpc::CallbackServerContext* context,
                                          const v1::DeleteSessionRequest* request,
                                          v1::DeleteSessionResponse* response) override;
  grpc::ServerUnaryReactor* SaveSession(grpc::CallbackServerContext* context,
                                        const v1::SaveSessionRequest* request,
                                        v1::SaveSessionResponse* response) override;
  grpc::ServerUnaryReactor* TrainStep(grpc::CallbackServerContext* context,
                                      const v1::TrainStepRequest* request,
                                      v1::TrainStepResponse* response) override;
  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const v1::PredictRequest* request,
                                    v1::PredictResponse* response) override;
  grpc::ServerUnaryReactor* Evaluate(grpc::CallbackServerContext* context,
                                     const v1::EvaluateRequest* request,
                                     v1::EvaluateResponse* response) override;
  grpc::ServerReadReactor<v1::UploadDatasetRequest>* UploadDataset(
      grpc::CallbackServerContext* context, v1::DatasetInfo* response) override;
  grpc::ServerUnaryReactor* GetDataset(grpc::CallbackServerContext* context,
                                       const v1::GetDatasetRequest* request,
                                       v1::DatasetInfo* response) override;
  grpc::ServerUnaryReactor* ListDatasets(grpc::CallbackServerContext* context,
                                         const v1::ListDatasetsRequest* request,
                                         v1::ListDatasetsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteDataset(grpc::CallbackServerContext* context,
                                          const v1::DeleteDatasetRequest* request,
                                          v1::DeleteDatasetResponse* response) override;
  grpc::ServerWriteReactor<v1::TrainResponse>* Train(grpc::CallbackServerContext* context,
                                                     const v1::TrainRequest* request) override;
  grpc::ServerUnaryReactor* ExportSession(grpc::CallbackServerContext* context,
                                          const v1::ExportSessionRequest* request,
                                          v1::ExportSessionResponse* response) override;
  grpc::ServerUnaryReactor* ImportSession(grpc::CallbackServerContext* context,
                                          const v1::ImportSessionRequest* request,
                                          v1::SessionInfo* response) override;

 private:
  class UploadReactor;
  class TrainReactor;
  // SessionWork runs on the executor against a live session and returns the call's status.
  using SessionWork = std::function<absl::Status(Session&)>;
  using SnapshotDone = std::function<void(const absl::Status&, int64_t step)>;

  // Admit refuses calls while draining (UNAVAILABLE) and without a valid token.
  absl::Status Admit(const grpc::CallbackServerContext& context) const;
  // FindSession validates the name and looks the session up.
  absl::StatusOr<std::shared_ptr<Session>> FindSession(const std::string& name) const;
  // RunOnSession queues `work` for the session and answers the call with its status; a
  // `precheck` error answers at once, and a call cancelled while it waited never runs. Work on
  // `inline_rows` rows whose cost (rows x the session's parameters) is small runs on the calling
  // thread when the executor is idle.
  grpc::ServerUnaryReactor* RunOnSession(grpc::CallbackServerContext* context, const char* method,
                                         const std::string& name, absl::Status precheck,
                                         SessionWork work, int64_t inline_rows = 0);
  // AddSession registers a new session whose model `make_model` builds on the executor, then
  // fills `response`. Used by CreateSession and ImportSession.
  grpc::ServerUnaryReactor* AddSession(
      grpc::ServerUnaryReactor* reactor, const char* method, const std::string& name,
      const ModelSpec& spec, std::function<absl::StatusOr<std::unique_ptr<Model>>()> make_model,
      v1::SessionInfo* response);
  // CheckSessionSize answers RESOURCE_EXHAUSTED above --max-session-params.
  absl::Status CheckSessionSize(const ModelSpec& spec) const;

  // Snapshot copies the session's state now and writes it on the writer; `done` (may be
  // empty) runs on the writer once it is durable. Executor only.
  void Snapshot(Session& session, SnapshotDone done);
  // RemoveThenForget runs `remove` (a file removal) on the writer, behind every file write
  // queued before it, then `forget` (the removal from memory) if it succeeded, and answers the
  // call with the first failure. Without a data dir only `forget` runs, at once. So memory
  // follows disk: a deletion that fails on disk leaves the entry in both.
  void RemoveThenForget(grpc::ServerUnaryReactor* reactor, const char* method,
                        const std::string& name, std::function<absl::Status(SessionStore&)> remove,
                        std::function<absl::Status()> forget);
  // AfterSteps publishes counters and snapshots every checkpoint_every steps. Executor only.
  void AfterSteps(Session& session);

  const ServiceOptions options_;
  ComputeExecutor* const executor_;
  SessionStore* const store_;
  SerialWorker* const writer_;
  const TokenAuthenticator* const auth_;

  NamedRegistry<Session> sessions_;
  NamedRegistry<StoredDataset> datasets_;
  std::atomic<uint64_t> next_session_id_{1};
  std::atomic<int64_t> dataset_bytes_{0};  // Held and reserved by uploads in progress.
  std::atomic<bool> draining_{false};
  std::atomic<bool> stop_trains_{false};
  std::atomic<int64_t> active_trains_{0};

  Matrix outputs_;  // Predict's output buffer, reused. Executor only.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SERVICE_H_
