// The training handler: Train, a stream of progress over epochs of a stored dataset (the run
// itself is TrainReactor), and the checks Train and StartTraining share.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/model_spec.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/request_checks.h"
#include "server/service.h"
#include "server/train_reactor.h"

namespace mlpd {

RunCost TrainRunCost(const v1::TrainRequest& request, const Session& session,
                     const StoredDataset& train, const char* call) {
  const int64_t parameters = ParameterCount(session.spec);
  std::vector<std::string> held;
  if (request.shuffle()) {
    held.push_back(
        absl::StrFormat("the shuffle order of %d rows, a mini-batch", train.data.rows()));
  }
  if (request.keep_best()) held.push_back(absl::StrFormat("%d kept parameters", parameters));
  return {
      JobRun::MemoryBytes(request, train.data, parameters),
      absl::StrFormat("%s of session \"%s\" over dataset \"%s\"", call, session.name, train.name),
      held.empty() ? "nothing" : absl::StrJoin(held, ", ")};
}

absl::Status MlpdService::CheckTrain(const v1::TrainRequest& request,
                                     std::shared_ptr<Session>* session,
                                     std::shared_ptr<StoredDataset>* train,
                                     std::shared_ptr<StoredDataset>* eval) const {
  MLPD_ASSIGN_OR_RETURN(*session, runner_.Find(request.name()));
  MLPD_ASSIGN_OR_RETURN(*train, datasets_.Find("dataset", request.dataset()));
  const ModelSpec& spec = (*session)->spec;
  if (!request.eval_dataset().empty()) {
    MLPD_ASSIGN_OR_RETURN(*eval, datasets_.Find("eval_dataset", request.eval_dataset()));
    MLPD_RETURN_IF_ERROR(
        CheckDataset("eval_dataset", (*eval)->name, (*eval)->data, spec, TargetUse::kEvaluation));
  }
  MLPD_RETURN_IF_ERROR(CheckTrainOptions(request));
  // Every row is checked before the first step, so a bad value deep in the dataset refuses
  // the call instead of stopping it with steps applied.
  MLPD_RETURN_IF_ERROR(
      CheckDataset("dataset", (*train)->name, (*train)->data, spec, TargetUse::kTraining));
  MLPD_RETURN_IF_ERROR(CheckTrainLength(request, (*train)->data.rows()));
  // batch_size 0 is the whole dataset.
  const int64_t rows = (*train)->data.rows();
  return (*session)->CheckStepMemory(
      request.batch_size() == 0 ? rows : std::min<int64_t>(request.batch_size(), rows));
}

grpc::ServerWriteReactor<v1::TrainResponse>* MlpdService::Train(
    grpc::CallbackServerContext* context, const v1::TrainRequest* request) {
  std::shared_ptr<Session> session;
  std::shared_ptr<StoredDataset> train;
  std::shared_ptr<StoredDataset> eval;
  auto parse = [&]() -> absl::Status {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_RETURN_IF_ERROR(CheckTrain(*request, &session, &train, &eval));
    // A job owns its session's training until it ends.
    return jobs_.CheckNoLiveJob(request->name());
  };
  if (const absl::Status status = parse(); !status.ok()) {
    return Refuse<grpc::ServerWriteReactor<v1::TrainResponse>>("Train", request->name(), status);
  }
  // Refused before anything of the run is allocated when it does not fit.
  absl::StatusOr<TrainingRuns::Lease> lease =
      runs_.Open(TrainRunCost(*request, *session, *train, "Train"));
  if (!lease.ok()) {
    return Refuse<grpc::ServerWriteReactor<v1::TrainResponse>>("Train", request->name(),
                                                               lease.status());
  }
  // The call's run is an attached job: its id lets the caller (or anyone) watch or stop it.
  absl::StatusOr<v1::Job> job =
      jobs_.Admit(*request, session->step_count.load(),
                  JobRun::StepsTotal(*request, train->data.rows()), NowUnixMs(), /*attached=*/true);
  if (!job.ok()) {
    return Refuse<grpc::ServerWriteReactor<v1::TrainResponse>>("Train", request->name(),
                                                               job.status());
  }
  context->AddInitialMetadata(kJobIdMetadataKey, job->id());
  Session* const target = session.get();
  auto* reactor = new TrainReactor(executor_, &trains_, &jobs_, job->id(), *std::move(lease),
                                   std::move(session), std::move(train), std::move(eval), *request,
                                   [this, target](const HistoryPoint& point) {
                                     RecordHistory(target->shared_from_this(), point);
                                   });
  reactor->Start();
  return reactor;
}

}  // namespace mlpd
