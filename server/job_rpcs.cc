// The job handlers: StartTraining, GetJob, ListJobs, CancelJob, WatchJob (the stream itself is
// JobWatchReactor, the runs JobRunner), and what jobs need of the service (JobHost).
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/job_watch_reactor.h"
#include "server/log.h"
#include "server/service.h"

namespace mlpd {

absl::Status MlpdService::LoadJobs() {
  if (job_store_ == nullptr) return absl::OkStatus();
  MLPD_RETURN_IF_ERROR(job_store_->Open());
  MLPD_RETURN_IF_ERROR(history_->Open());
  MLPD_ASSIGN_OR_RETURN(JobStore::Contents contents, job_store_->LoadAll());
  jobs_.Restore(std::move(contents.jobs));
  // Curves whose session is gone (deleted while a point was on its way, or quarantined).
  std::vector<std::string> names;
  for (const std::shared_ptr<Session>& session : sessions_.All()) {
    names.push_back(session->name);
    // Steps past the snapshot were lost with the previous server; a job redoes them.
    const absl::Status kept = history_->KeepUpTo(session->name, session->step_count.load());
    if (!kept.ok()) LogFailure("history", session->name, kept);
  }
  for (const std::string& removed : history_->KeepOnly(names)) {
    LogLine(absl::StrFormat("history of \"%s\" removed: the session is gone", removed));
  }
  return absl::OkStatus();
}

void MlpdService::ResumeJobs() { job_runner_.ResumeAll(); }

void MlpdService::StopJobs() { job_runner_.Stop(); }

absl::StatusOr<JobTargets> MlpdService::Resolve(const v1::TrainRequest& request) {
  MLPD_ASSIGN_OR_RETURN(std::shared_ptr<Session> session, runner_.Find(request.name()));
  MLPD_ASSIGN_OR_RETURN(std::shared_ptr<StoredDataset> train,
                        datasets_.Find("dataset", request.dataset()));
  std::shared_ptr<StoredDataset> eval;
  if (!request.eval_dataset().empty()) {
    MLPD_ASSIGN_OR_RETURN(eval, datasets_.Find("eval_dataset", request.eval_dataset()));
  }
  JobTargets targets;
  MLPD_ASSIGN_OR_RETURN(targets.evaluation_chunks, session->Chunks(nullptr));
  targets.key = session->id;
  targets.cost = TrainRunCost(request, *session, *train, "the job");
  targets.step_count = session->step_count.load();
  targets.train = &train->data;
  targets.eval = eval != nullptr ? &eval->data : nullptr;
  targets.keep_alive =
      std::make_shared<std::tuple<std::shared_ptr<Session>, std::shared_ptr<StoredDataset>,
                                  std::shared_ptr<StoredDataset>>>(session, train, eval);
  Session* const target = session.get();
  targets.model = [target] { return target->has_model() ? &target->model() : nullptr; };
  targets.gone = [target, train = train.get(), eval = eval.get()]() -> absl::Status {
    if (target->deleted) {
      return absl::NotFoundError(
          absl::StrFormat("session \"%s\" was deleted during the job", target->name));
    }
    for (const StoredDataset* dataset : {train, eval}) {
      if (dataset != nullptr && dataset->deleted) {
        return absl::NotFoundError(
            absl::StrFormat("dataset \"%s\" was deleted during the job", dataset->name));
      }
    }
    return absl::OkStatus();
  };
  targets.after_steps = [target] { target->AfterSteps(); };
  targets.snapshot = [target] { target->Snapshot(nullptr); };
  targets.record = [this, target](const HistoryPoint& point) {
    RecordHistory(target->shared_from_this(), point);
  };
  return targets;
}

grpc::ServerUnaryReactor* MlpdService::StartTraining(grpc::CallbackServerContext* context,
                                                     const v1::TrainRequest* request,
                                                     v1::Job* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto start = [&]() -> absl::Status {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    std::shared_ptr<Session> session;
    std::shared_ptr<StoredDataset> train;
    std::shared_ptr<StoredDataset> eval;
    MLPD_RETURN_IF_ERROR(CheckTrain(*request, &session, &train, &eval));
    MLPD_ASSIGN_OR_RETURN(*response, job_runner_.Start(*request));
    return absl::OkStatus();
  };
  const absl::Status started = start();
  if (!started.ok() || writer_ == nullptr) {
    Answer(reactor, "StartTraining", request->name(), started);
    return reactor;
  }
  // The answer waits for the job's record, queued on the writer before this: a job whose id
  // the caller got survives a crash.
  writer_->Post([reactor, name = request->name()] {
    Answer(reactor, "StartTraining", name, absl::OkStatus());
  });
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::GetJob(grpc::CallbackServerContext* context,
                                              const v1::GetJobRequest* request, v1::Job* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto get = [&]() -> absl::Status {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_ASSIGN_OR_RETURN(*response, jobs_.Get(request->id()));
    return absl::OkStatus();
  };
  Answer(reactor, "GetJob", request->id(), get());
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::ListJobs(grpc::CallbackServerContext* context,
                                                const v1::ListJobsRequest* request,
                                                v1::ListJobsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto list = [&]() -> absl::Status {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_ASSIGN_OR_RETURN(*response, jobs_.List(*request));
    return absl::OkStatus();
  };
  Answer(reactor, "ListJobs", request->session(), list());
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::CancelJob(grpc::CallbackServerContext* context,
                                                 const v1::CancelJobRequest* request,
                                                 v1::Job* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto cancel = [&]() -> absl::Status {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_ASSIGN_OR_RETURN(*response, jobs_.RequestCancel(request->id(), "cancelled by CancelJob"));
    return absl::OkStatus();
  };
  Answer(reactor, "CancelJob", request->id(), cancel());
  return reactor;
}

grpc::ServerWriteReactor<v1::TrainResponse>* MlpdService::WatchJob(
    grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) {
  if (const absl::Status status = Admit(*context); !status.ok()) {
    return Refuse<grpc::ServerWriteReactor<v1::TrainResponse>>("WatchJob", request->id(), status);
  }
  auto* reactor = new JobWatchReactor(&jobs_, request->id(), /*cancel_reason=*/"");
  reactor->Start();
  return reactor;
}

}  // namespace mlpd
