// The learning-curve handler, GetHistory, and how points reach the curve (HistoryStore, on the
// disk writer so training never waits for a disk).
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/log.h"
#include "server/service.h"

namespace mlpd {
namespace {

void FillPoint(const HistoryPoint& point, v1::HistoryPoint* out) {
  out->set_step(point.step);
  out->set_time_unix_ms(point.time_unix_ms);
  out->set_train_loss(point.train_loss);
  out->set_samples_per_second(point.samples_per_second);
  if (point.has_eval) {
    v1::EvalResult* eval = out->mutable_eval();
    eval->set_loss(point.eval_loss);
    if (point.eval_has_error_rate) eval->set_error_rate(point.eval_error_rate);
  }
}

}  // namespace

void MlpdService::RecordHistory(std::shared_ptr<Session> session, const HistoryPoint& point) const {
  if (history_ == nullptr) return;
  writer_->Post([history = history_.get(), session = std::move(session), point] {
    // DeleteSession removes the curve and sets `deleted` in one writer task: a point queued
    // after it must not bring the curve back.
    if (session->deleted) return;
    const absl::Status added = history->Append(session->name, point);
    if (!added.ok()) LogFailure("history", session->name, added);
  });
}

grpc::ServerUnaryReactor* MlpdService::GetHistory(grpc::CallbackServerContext* context,
                                                  const v1::GetHistoryRequest* request,
                                                  v1::GetHistoryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto check = [&]() -> absl::Status {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_RETURN_IF_ERROR(runner_.Find(request->name()).status());
    if (request->max_points() < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "max_points is %d; expected >= 1, or 0 for every point", request->max_points()));
    }
    if (history_ == nullptr) {
      return absl::FailedPreconditionError(
          "the server keeps no data (it runs without --data-dir), so it records no history");
    }
    return absl::OkStatus();
  };
  if (const absl::Status status = check(); !status.ok()) {
    Answer(reactor, "GetHistory", request->name(), status);
    return reactor;
  }
  // Read on the writer, behind the points already posted: a caller sees every step it was
  // answered for.
  writer_->Post([history = history_.get(), reactor, request, response] {
    absl::StatusOr<std::vector<HistoryPoint>> points =
        history->Read(request->name(), request->from_step(), request->max_points());
    if (points.ok()) {
      for (const HistoryPoint& point : *points) FillPoint(point, response->add_points());
    }
    Answer(reactor, "GetHistory", request->name(), points.status());
  });
  return reactor;
}

}  // namespace mlpd
