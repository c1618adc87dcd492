// client.h: the C++ client library of mlpd, one method per RPC of mlpd.v1.Mlpd.
//
// A Client owns one gRPC channel. Every method blocks, applies a deadline (the client's default
// or the call's own), and returns absl::Status / absl::StatusOr with the server's gRPC code
// mapped 1:1 to the absl code, so callers print "INVALID_ARGUMENT: ..." exactly as the server
// said it.
//
//   ClientOptions options;
//   options.target = "127.0.0.1:50051";
//   absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
//   absl::StatusOr<Dataset> train = ReadIdx(images, labels);
//   (*client)->UploadDataset("train", *train);
//   v1::TrainRequest request;
//   request.set_name("digits");
//   request.set_dataset("train");
//   request.set_epochs(3);
//   absl::StatusOr<v1::TrainSummary> summary = (*client)->Train(
//       request, [](const v1::TrainProgress& progress) { /* draw a progress bar */ });
//
// A job is a Train run the server owns: StartTraining answers at once, and anyone may watch
// the job (WatchJob, re-attachable), look it up (GetJob, ListJobs) or stop it (CancelJob):
//
//   absl::StatusOr<v1::Job> job = (*client)->StartTraining(request);
//   TrainEvents events;
//   events.on_progress = [](const v1::TrainProgress& progress) { /* ... */ };
//   absl::StatusOr<v1::TrainSummary> done = (*client)->WatchJob(job->id(), events);
//
// Routing: every session-scoped call (those whose request names a session) carries the
// metadata header `x-mlpd-session: <session name>`. A proxy in front of several servers (the
// HAProxy router in deploy/) hashes that header, so all calls for one session reach the server
// that holds it. Calls naming a dataset (upload, get, delete) carry CallOptions::routing_session
// when set, else the dataset's own name, so they find the dataset again on the same server. To
// put a dataset beside the session that trains on it, see dataset_placement.h.
//
// Authentication: with ClientOptions::token set, every call carries
// `authorization: Bearer <token>`. TLS comes from ClientOptions::security (credentials.h).
#ifndef MLPD_CLIENT_CLIENT_H_
#define MLPD_CLIENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/credentials.h"
#include "core/dataset.h"
#include "core/tensor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "mlpd/v1/mlpd.grpc.pb.h"

namespace mlpd {

// kDefaultMaxMessageBytes matches the server's default --max-message-mb (64).
inline constexpr int kDefaultMaxMessageBytes = 64 << 20;
// kDefaultUploadChunkBytes keeps each upload message far below any sane message limit while
// large enough that the per-message cost (~0.2 ms) stays small next to the copy.
inline constexpr int64_t kDefaultUploadChunkBytes = 4 << 20;
// kSessionHeader is the routing header of session-scoped calls (see the file comment).
inline constexpr char kSessionHeader[] = "x-mlpd-session";
// kJobIdHeader is the initial metadata of a Train call that names the call's job.
inline constexpr char kJobIdHeader[] = "x-mlpd-job-id";

// ClientOptions configure the channel and the defaults of every call.
struct ClientOptions {
  // host:port, dns:///host:port, or unix:/path/to/socket.
  std::string target = "127.0.0.1:50051";
  // Deadline of each call that sets none of its own; absl::InfiniteDuration() for none.
  absl::Duration timeout = absl::Seconds(60);
  // Largest message sent or received; keep it equal to the server's --max-message-mb.
  int max_message_bytes = kDefaultMaxMessageBytes;
  // Upper bound of one UploadDataset chunk (whole rows; at least one row per chunk) and of the
  // data of one ImportSession chunk.
  int64_t upload_chunk_bytes = kDefaultUploadChunkBytes;
  // TLS files; plaintext when tls_ca_file is empty.
  ClientSecurityOptions security;
  // Bearer token sent on every call; empty: none.
  std::string token;
};

// Cancellation lets another thread (e.g. one woken by SIGINT) stop a running call. Cancel()
// before the call starts makes the call fail with CANCELLED at once. Thread-safe.
class Cancellation {
 public:
  void Cancel();
  bool cancelled() const;

  // Attach registers the context of a starting call (the Client does this); false when
  // already cancelled. Detach unregisters it before the context is destroyed.
  bool Attach(grpc::ClientContext* context);
  void Detach();

 private:
  mutable absl::Mutex mutex_;
  bool cancelled_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;
};

// CallOptions adjust one call.
struct CallOptions {
  // Overrides ClientOptions::timeout when not zero; absl::InfiniteDuration() for none.
  absl::Duration timeout = absl::ZeroDuration();
  // Cancels the call when triggered; may be null.
  Cancellation* cancellation = nullptr;
  // Calls naming a dataset, or a job by its id: the session whose server they go to (routing
  // header). Empty: a dataset call routes by the dataset's name, a job call by nothing.
  std::string routing_session;
};

// HealthStatus is grpc.health.v1's serving status (HealthCheckResponse.ServingStatus, value for
// value).
enum class HealthStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };
const char* HealthStatusName(HealthStatus status);

// TrainProgressCallback receives each progress report of a Train call, on the calling thread.
using TrainProgressCallback = std::function<void(const v1::TrainProgress& progress)>;

// TrainEvents receive the events of a Train or WatchJob stream, on the calling thread; either
// may be empty.
struct TrainEvents {
  // on_job receives the job's state: WatchJob's first event (Train sends none).
  std::function<void(const v1::Job& job)> on_job;
  // on_job_id receives the id of a Train call's job before any progress (a server that names
  // none: never called). CancelJob with it stops the run between mini-batches, the call then
  // ending CANCELLED once no further step can come; WatchJob and GetJob take it while it runs.
  std::function<void(const std::string& id)> on_job_id;
  TrainProgressCallback on_progress;
};

// JobFilter selects the jobs ListJobs returns; empty fields select every job.
struct JobFilter {
  std::string session;
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
};

class Client {
 public:
  // Create builds the channel (TLS and limits from `options`); it does not connect yet.
  static absl::StatusOr<std::unique_ptr<Client>> Create(const ClientOptions& options);
  // Client talks over an existing channel (tests: an in-process server's channel).
  Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sessions.
  absl::StatusOr<v1::SessionInfo> CreateSession(const std::string& name, const v1::ModelSpec& spec,
                                                const CallOptions& call = {});
  absl::StatusOr<v1::SessionInfo> GetSession(const std::string& name, const CallOptions& call = {});
  // ListSessions follows next_page_token until the last page.
  absl::StatusOr<std::vector<v1::SessionInfo>> ListSessions(const CallOptions& call = {});
  absl::Status DeleteSession(const std::string& name, const CallOptions& call = {});
  // SaveSession returns the step count of the snapshot now on disk.
  absl::StatusOr<int64_t> SaveSession(const std::string& name, const CallOptions& call = {});

  // Training and inference on inline batches.
  // TrainStep applies one step; with `expected_step` only if the session is at that step count
  // (else ABORTED and nothing applied), so a retry after a lost answer cannot apply twice.
  absl::StatusOr<v1::TrainStepResponse> TrainStep(
      const std::string& name, const v1::Batch& batch, const CallOptions& call = {},
      std::optional<int64_t> expected_step = std::nullopt);
  absl::StatusOr<v1::PredictResponse> Predict(const std::string& name, const v1::Tensor& x,
                                              const CallOptions& call = {});
  // PredictRows predicts any number of rows: it sends whole rows in requests of at most
  // ClientOptions::upload_chunk_bytes each (so no request nears the message limit) and returns
  // the concatenated outputs [rows, out] and classes.
  absl::StatusOr<v1::PredictResponse> PredictRows(const std::string& name, MatrixView x,
                                                  const CallOptions& call = {});
  absl::StatusOr<v1::EvalResult> Evaluate(const std::string& name, const std::string& dataset,
                                          const CallOptions& call = {});
  absl::StatusOr<v1::EvalResult> EvaluateBatch(const std::string& name, const v1::Batch& batch,
                                               const CallOptions& call = {});

  // Datasets. UploadDataset streams `dataset` in chunks of whole rows, each at most
  // ClientOptions::upload_chunk_bytes (but at least one row).
  absl::StatusOr<v1::DatasetInfo> UploadDataset(const std::string& name, const Dataset& dataset,
                                                const CallOptions& call = {});
  absl::StatusOr<v1::DatasetInfo> GetDataset(const std::string& name, const CallOptions& call = {});
  absl::StatusOr<std::vector<v1::DatasetInfo>> ListDatasets(const CallOptions& call = {});
  absl::Status DeleteDataset(const std::string& name, const CallOptions& call = {});

  // Train runs request.epochs() over an uploaded dataset, calling `on_progress` (may be empty)
  // for each report, and returns the final summary. Cancelled (CallOptions::cancellation) it
  // returns CANCELLED; the steps applied before the cancel stay applied on the server. The
  // default deadline does not apply to Train (it may run for hours): only CallOptions::timeout.
  absl::StatusOr<v1::TrainSummary> Train(const v1::TrainRequest& request,
                                         const TrainProgressCallback& on_progress,
                                         const CallOptions& call = {});
  // Train with every event of the stream, the call's job id included (TrainEvents).
  absl::StatusOr<v1::TrainSummary> Train(const v1::TrainRequest& request, const TrainEvents& events,
                                         const CallOptions& call = {});

  // Jobs: Train runs the server owns (see the file comment). The calls naming a job by its id
  // route by CallOptions::routing_session.
  //
  // StartTraining starts a job and returns it at once (QUEUED or RUNNING).
  absl::StatusOr<v1::Job> StartTraining(const v1::TrainRequest& request,
                                        const CallOptions& call = {});
  absl::StatusOr<v1::Job> GetJob(const std::string& id, const CallOptions& call = {});
  // ListJobsPage returns one page of jobs, newest first: `page_token` is the previous page's
  // next_page_token ("" for the first), `page_size` 0 is the server's default.
  absl::StatusOr<v1::ListJobsResponse> ListJobsPage(const JobFilter& filter, int32_t page_size,
                                                    const std::string& page_token,
                                                    const CallOptions& call = {});
  // ListJobs follows next_page_token until the last page, or until `limit` jobs (0: no limit).
  absl::StatusOr<std::vector<v1::Job>> ListJobs(const JobFilter& filter, int64_t limit = 0,
                                                const CallOptions& call = {});
  // CancelJob asks the job to stop between mini-batches and returns it as it is then (it may
  // still be RUNNING). Cancelling a job that is done is not an error.
  absl::StatusOr<v1::Job> CancelJob(const std::string& id, const CallOptions& call = {});
  // WatchJob follows a job until it ends: `events` receive its state, then each progress
  // report. Returns the summary of a job that succeeded, else the job's error (FAILED's code, or
  // CANCELLED). Ending the call (CallOptions::cancellation, a deadline) only stops watching: the
  // job goes on. As Train, only CallOptions::timeout bounds it.
  absl::StatusOr<v1::TrainSummary> WatchJob(const std::string& id, const TrainEvents& events,
                                            const CallOptions& call = {});

  // GetHistory returns a session's learning curve in step order: the points with step >=
  // `from_step`, evenly thinned by the server to at most `max_points` (0: all of them).
  absl::StatusOr<std::vector<v1::HistoryPoint>> GetHistory(const std::string& name,
                                                           int64_t from_step = 0,
                                                           int32_t max_points = 0,
                                                           const CallOptions& call = {});

  // Models. ExportSession reads the export's stream of chunks whole; ImportSession sends `data`
  // in chunks of at most upload_chunk_bytes. So a model larger than one message travels.
  absl::StatusOr<std::string> ExportSession(const std::string& name, v1::ExportFormat format,
                                            const CallOptions& call = {});
  absl::StatusOr<v1::SessionInfo> ImportSession(const std::string& name, v1::ExportFormat format,
                                                const std::string& data,
                                                const CallOptions& call = {});

  // GetServerInfo asks the server for its version, build, limits and features.
  absl::StatusOr<v1::ServerInfo> GetServerInfo(const CallOptions& call = {});

  // Health asks grpc.health.v1.Health/Check about `service` ("" is the whole server).
  absl::StatusOr<HealthStatus> Health(const std::string& service = "",
                                      const CallOptions& call = {});

  const ClientOptions& options() const { return options_; }

 private:
  // PrepareContext sets the deadline, the token and the routing header of one call.
  void PrepareContext(const CallOptions& call, const std::string& session,
                      grpc::ClientContext* context, bool default_deadline = true) const;

  // ReadTrainStream runs a Train or WatchJob stream to its end, passing its events on; `what`
  // names the stream in the error of one that ends without a summary.
  template <typename Start>
  absl::StatusOr<v1::TrainSummary> ReadTrainStream(const Start& start, const std::string& session,
                                                   const TrainEvents& events,
                                                   const CallOptions& call, const char* what);

  // Unary runs one unary RPC of either service with PrepareContext's settings and converts its
  // status.
  template <typename Stub, typename Request, typename Response>
  absl::Status Unary(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                     const std::string& session, const Request& request, Response* response,
                     const CallOptions& call);

  const ClientOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Mlpd::Stub> stub_;
  const std::unique_ptr<grpc::health::v1::Health::Stub> health_stub_;
};

}  // namespace mlpd

#endif  // MLPD_CLIENT_CLIENT_H_
