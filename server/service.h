// service.h: the mlpd.v1.Mlpd handlers (gRPC callback API) over the sessions and datasets.
//
// Handlers never compute: each one admits the call (drain, token), parses the request, hands
// the work to the SessionRunner, which runs it on the session on the ComputeExecutor, and the
// work answers the call when it has run. Files are written on a SerialWorker, never on the
// executor. Server (server.h) builds one MlpdService and owns the pieces it points to.
//
// The handlers live in one file per group: session_rpcs.cc (Create, Get, List, Delete),
// dataset_rpcs.cc (Upload, Get, List, Delete), compute_rpcs.cc (TrainStep, Predict, Evaluate),
// training_rpcs.cc (Train), job_rpcs.cc (StartTraining, GetJob, ListJobs, CancelJob, WatchJob,
// GetHistory), model_rpcs.cc (Export, Import, Save); this file's .cc holds what they share,
// GetServerInfo and the start-up and shutdown hooks.
//
//   MlpdService service(options, &executor, &store, &writer, /*auth=*/nullptr);
//   builder.RegisterService(&service);
#ifndef MLPD_SERVER_SERVICE_H_
#define MLPD_SERVER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/dataset.h"
#include "core/tensor.h"
#include "mlpd/v1/mlpd.grpc.pb.h"
#include "mlpd/v1/model.pb.h"
#include "server/compute_executor.h"
#include "server/data_dir.h"
#include "server/data_writer.h"
#include "server/datasets.h"
#include "server/history_store.h"
#include "server/job_registry.h"
#include "server/job_runner.h"
#include "server/job_store.h"
#include "server/named_registry.h"
#include "server/options.h"
#include "server/security.h"
#include "server/serial_worker.h"
#include "server/server_info.h"
#include "server/session.h"
#include "server/session_file.h"
#include "server/session_runner.h"
#include "server/train_reactor.h"
#include "server/training_runs.h"

namespace mlpd {

// TrainRunCost is what a Train call or a job (`call` names it) of `request` holds while it runs.
RunCost TrainRunCost(const v1::TrainRequest& request, const Session& session,
                     const StoredDataset& train, const char* call);

class MlpdService final : public v1::Mlpd::CallbackService, private JobHost {
 public:
  // `store` and `writer` may be null together: the service then keeps nothing on disk and
  // SaveSession answers FAILED_PRECONDITION. `auth` may be null: no token is required.
  // `metrics` may be null: steps and snapshots are then not counted.
  MlpdService(const ServerOptions& options, ComputeExecutor* executor, DataDir* store,
              SerialWorker* writer, const TokenAuthenticator* auth, MlpdMetrics* metrics = nullptr);
  ~MlpdService() override;

  // RestoreSession registers a session read back from its file at start-up (already restored
  // from its snapshot by DataDir::LoadAll).
  absl::Status RestoreSession(const std::string& name, LoadedSession loaded);
  // RestoreDataset registers a dataset loaded from disk (start-up); `create_time_unix_ms` is
  // its upload time (0: unknown, use now).
  absl::Status RestoreDataset(const std::string& name, Dataset dataset,
                              int64_t create_time_unix_ms);

  // LoadJobs reads the job records and drops the curves of sessions that are gone (start-up,
  // after the sessions and datasets are restored). OK without a data dir.
  absl::Status LoadJobs();
  // ResumeJobs queues every job the previous server left running, from its session's snapshot.
  void ResumeJobs();
  // StopJobs makes running jobs stop at their next mini-batch; they stay live and resume at the
  // next start.
  void StopJobs();

  // BeginDrain makes every new call answer UNAVAILABLE; work already queued still runs.
  void BeginDrain();
  // StopTrains makes running Train calls stop at their next mini-batch.
  void StopTrains();
  int64_t active_trains() const { return trains_.active.load(); }
  // unsaved_sessions counts the sessions whose last snapshot could not be written.
  int64_t unsaved_sessions() const;
  // SnapshotChanged snapshots every session whose file lags it. Executor only.
  void SnapshotChanged();

  int64_t session_count() const { return sessions_.size(); }
  // session_bytes is the memory of all sessions' parameters and optimizer state.
  int64_t session_bytes() const { return sessions_.bytes(); }
  // session_room_bytes is what the sessions' parameters and state, and the open training runs'
  // memory, leave of --max-sessions-mb for the compute plans (their activations). The executor
  // trims its plans to it after each item, and a call whose activations do not fit in it is
  // refused. -1 without a limit, and while the state alone passes it: sessions kept by a restart
  // under a lower limit work as before, within --max-call-activation-mb.
  int64_t session_room_bytes() const;
  // OverLimits describes how the sessions and datasets read back at start-up pass the limits
  // (they are all kept; new ones are refused until enough are deleted), or is empty.
  std::string OverLimits() const;
  // open_trains counts the open training runs (Train calls and jobs), in --max-trains.
  int64_t open_trains() const { return runs_.open(); }
  // train_run_bytes is the memory the open training runs hold, in --max-sessions-mb.
  int64_t train_run_bytes() const { return sessions_.reserved_bytes(); }
  int64_t dataset_count() const { return datasets_.count(); }
  // dataset_bytes is the memory held by datasets and reserved by uploads in progress.
  int64_t dataset_bytes() const { return datasets_.bytes(); }
  // job_counts counts the jobs held by state (JobRegistry::CountByState).
  std::vector<std::pair<std::string, int64_t>> job_counts() const { return jobs_.CountByState(); }

  // The mlpd.v1.Mlpd methods.
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const v1::GetServerInfoRequest* request,
                                          v1::ServerInfo* response) override;
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
                                     v1::EvalResult* response) override;
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
  grpc::ServerUnaryReactor* StartTraining(grpc::CallbackServerContext* context,
                                          const v1::TrainRequest* request,
                                          v1::Job* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request, v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::Job* response) override;
  grpc::ServerWriteReactor<v1::TrainResponse>* WatchJob(
      grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* GetHistory(grpc::CallbackServerContext* context,
                                       const v1::GetHistoryRequest* request,
                                       v1::GetHistoryResponse* response) override;
  grpc::ServerWriteReactor<v1::ExportSessionResponse>* ExportSession(
      grpc::CallbackServerContext* context, const v1::ExportSessionRequest* request) override;
  grpc::ServerReadReactor<v1::ImportSessionRequest>* ImportSession(
      grpc::CallbackServerContext* context, v1::SessionInfo* response) override;

 private:
  // Admit refuses calls while draining (UNAVAILABLE) and without a valid token.
  absl::Status Admit(const grpc::CallbackServerContext& context) const;
  // CheckTrain checks a Train or StartTraining request against its session and datasets, and
  // finds them (`eval` stays null without an eval dataset).
  absl::Status CheckTrain(const v1::TrainRequest& request, std::shared_ptr<Session>* session,
                          std::shared_ptr<StoredDataset>* train,
                          std::shared_ptr<StoredDataset>* eval) const;
  // JobHost: a job's session and datasets.
  absl::StatusOr<JobTargets> Resolve(const v1::TrainRequest& request) override;
  // RecordHistory adds a point to the session's curve on the disk writer (nothing without a
  // data dir); a point that reaches the writer after the session's deletion is dropped.
  void RecordHistory(std::shared_ptr<Session> session, const HistoryPoint& point) const;
  // ReleasePlans frees the executor's plans for a deleted session's layers unless another
  // session has the same layers. Executor only.
  void ReleasePlans(const ModelSpec& spec);

  const int64_t max_session_params_;  // --max-session-params.
  const int64_t max_message_bytes_;   // --max-message-mb, in bytes.
  const v1::ServerInfo info_;         // GetServerInfo's answer.
  ComputeExecutor* const executor_;
  const TokenAuthenticator* const auth_;
  const DataWriter files_;
  const SessionPolicy policy_;
  const int64_t max_sessions_bytes_;             // --max-sessions-mb, in bytes; 0: no limit.
  SerialWorker* const writer_;                   // Null without a data dir.
  const std::unique_ptr<JobStore> job_store_;    // Null without a data dir.
  const std::unique_ptr<HistoryStore> history_;  // Null without a data dir.

  NamedRegistry<Session> sessions_;
  TrainingRuns runs_;  // Train calls and jobs; their memory is reserved in sessions_.
  SessionRunner runner_;
  Datasets datasets_;
  TrainCalls trains_;
  JobRegistry jobs_;
  JobRunner job_runner_;
  std::atomic<bool> draining_{false};

  Matrix outputs_;  // Predict's output buffer, reused. Executor only.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SERVICE_H_
