// The compute handlers: TrainStep, Predict, Evaluate. Each parses its batch on the gRPC thread
// and runs on the session on the executor (see SessionRunner).
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/request_checks.h"
#include "server/service.h"
#include "server/wire.h"

namespace mlpd {

grpc::ServerUnaryReactor* MlpdService::TrainStep(grpc::CallbackServerContext* context,
                                                 const v1::TrainStepRequest* request,
                                                 v1::TrainStepResponse* response) {
  absl::Status precheck = Admit(*context);
  absl::StatusOr<BatchView> batch = absl::UnknownError("unset");
  if (precheck.ok()) {
    batch = ViewBatch("batch", request->batch());
    precheck = batch.status();
  }
  return runner_.Run(
      context, "TrainStep", request->name(), precheck,
      [this, batch = batch.value_or(BatchView{}), response,
       expected_step = ExpectedStep(*request)](Session& session) {
        MLPD_RETURN_IF_ERROR(CheckExpectedStep(expected_step, session.model().step_count()));
        const absl::Time start = absl::Now();
        MLPD_ASSIGN_OR_RETURN(float loss, session.TrainStep(batch));
        const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
        response->set_loss(loss);
        response->set_step(session.model().step_count());
        HistoryPoint point;
        point.step = response->step();
        point.time_unix_ms = NowUnixMs();
        point.train_loss = loss;
        point.samples_per_second = seconds > 0 ? batch.x.rows / seconds : 0.0;
        RecordHistory(session.shared_from_this(), point);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MlpdService::Predict(grpc::CallbackServerContext* context,
                                               const v1::PredictRequest* request,
                                               v1::PredictResponse* response) {
  absl::Status precheck = Admit(*context);
  absl::StatusOr<MatrixView> x = absl::UnknownError("unset");
  if (precheck.ok()) {
    x = ViewTensor("x", request->x());
    precheck = x.status();
  }
  return runner_.Run(
      context, "Predict", request->name(), precheck,
      [this, context, x = x.value_or(MatrixView{}), response](Session& session) {
        MLPD_RETURN_IF_ERROR(session.Predict(
            x, max_message_bytes_, [context] { return context->IsCancelled(); }, &outputs_));
        WriteTensor(outputs_, response->mutable_outputs());
        WriteClasses(session.spec.loss.kind, outputs_, response->mutable_classes());
        return absl::OkStatus();
      },
      /*inline_rows=*/x.ok() ? x->rows : 0);
}

grpc::ServerUnaryReactor* MlpdService::Evaluate(grpc::CallbackServerContext* context,
                                                const v1::EvaluateRequest* request,
                                                v1::EvalResult* response) {
  absl::Status precheck = Admit(*context);
  BatchView batch;
  std::shared_ptr<StoredDataset> dataset;  // Kept alive until the work has run.
  if (precheck.ok()) {
    if (request->has_batch()) {
      absl::StatusOr<BatchView> view = ViewBatch("batch", request->batch());
      precheck = view.status();
      if (view.ok()) batch = *view;
    } else if (request->source_case() == v1::EvaluateRequest::kDataset) {
      absl::StatusOr<std::shared_ptr<StoredDataset>> found =
          datasets_.Find("dataset", request->dataset());
      precheck = found.status();
      if (found.ok()) {
        dataset = *found;
        batch = BatchView{dataset->data.x.view(), dataset->data.targets_view()};
      }
    } else {
      precheck = absl::InvalidArgumentError("source is missing; give a dataset or a batch");
    }
  }
  const std::string field = dataset != nullptr ? "dataset" : "batch";
  return runner_.Run(context, "Evaluate", request->name(), precheck,
                     [context, batch, dataset, field, response](Session& session) {
                       MLPD_ASSIGN_OR_RETURN(Evaluation evaluation,
                                             session.Evaluate(field, batch, [context] {
                                               return context->IsCancelled();
                                             }));
                       WriteEvaluation(evaluation, response);
                       return absl::OkStatus();
                     });
}

}  // namespace mlpd
