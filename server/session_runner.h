// session_runner.h: runs a call's work on its session on the compute executor, and answers it.
//
// A handler admits and parses its request, then hands the runner the session's name and the
// work; the runner finds the session, queues the work under the session's key (or runs tiny
// work inline on an idle executor), and answers the call with the work's status. So a request
// reaches the engine one way: handler -> SessionRunner -> executor -> Session -> Model.
//
//   return runner_.Run(context, "TrainStep", request->name(), precheck,
//                      [batch, response](Session& session) { ... return absl::OkStatus(); });
#ifndef MLPD_SERVER_SESSION_RUNNER_H_
#define MLPD_SERVER_SESSION_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model.h"
#include "core/model_spec.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/compute_executor.h"
#include "server/named_registry.h"
#include "server/session.h"

namespace mlpd {

class SessionRunner {
 public:
  // Work runs on the executor against a live session and returns the call's status.
  using Work = std::function<absl::Status(Session&)>;
  // MakeModel builds a new session's model on the executor.
  using MakeModel = std::function<absl::StatusOr<std::unique_ptr<Model>>()>;
  // Done receives the status a call ends with (and answers it).
  using Done = std::function<void(const absl::Status&)>;

  SessionRunner(ComputeExecutor* executor, NamedRegistry<Session>* sessions,
                const SessionPolicy* policy)
      : executor_(executor), sessions_(sessions), policy_(policy) {}

  // Find validates the name and looks the session up.
  absl::StatusOr<std::shared_ptr<Session>> Find(const std::string& name) const;

  // Run queues `work` for the session and answers the call with its status; a `precheck` error
  // answers at once, and a call cancelled while it waited never runs. Work on `inline_rows`
  // rows whose cost (rows x the session's parameters) is small runs on the calling thread when
  // the executor is idle.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, const char* method,
                                const std::string& name, const absl::Status& precheck, Work work,
                                int64_t inline_rows = 0);
  // Submit is Run for any shape of call: `done` receives the status (a streaming call answers
  // with it and with what `work` left for it).
  void Submit(grpc::CallbackServerContext* context, const std::string& name,
              const absl::Status& precheck, Work work, Done done, int64_t inline_rows = 0);

  // Create registers a new session whose model `make_model` builds on the executor, snapshots
  // it, fills `response` and calls `done`. Used by CreateSession and ImportSession.
  void Create(const std::string& name, const ModelSpec& spec, MakeModel make_model,
              v1::SessionInfo* response, Done done);

  // NewSession makes a session object (not registered) with the next id.
  std::shared_ptr<Session> NewSession(const std::string& name, const ModelSpec& spec,
                                      int64_t create_time_unix_ms);

 private:
  ComputeExecutor* const executor_;
  NamedRegistry<Session>* const sessions_;
  const SessionPolicy* const policy_;
  std::atomic<uint64_t> next_session_id_{1};
};

}  // namespace mlpd

#endif  // MLPD_SERVER_SESSION_RUNNER_H_
