#include "server/service.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/checkpoint.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/onnx_export.h"
#include "core/spec_proto.h"
#include "core/status_macros.h"
#include "server/log.h"
#include "server/names.h"
#include "server/wire.h"

namespace mlpd {
namespace {

// The executor key of work that belongs to no session (periodic snapshots).
constexpr uint64_t kServiceKey = 0;

// Work up to this many multiply-adds (rows x parameters) may run inline on an idle executor:
// a one-row Predict of a small MLP takes microseconds, less than waking the executor thread.
constexpr int64_t kInlineCostLimit = 1 << 16;

void LogFailure(absl::string_view method, absl::string_view name, const absl::Status& status) {
  LogLine(absl::StrFormat("%s failed: code=%s name=\"%s\" %s", method,
                          StatusCodeName(status.code()), name, status.message()));
}

// Finish answers a unary call, logging it when it failed.
void Finish(grpc::ServerUnaryReactor* reactor, absl::string_view method, absl::string_view name,
            const absl::Status& status) {
  if (!status.ok()) LogFailure(method, name, status);
  reactor->Finish(ToGrpcStatus(status));
}

absl::Status SessionGone(const Session& session, bool cancelled) {
  if (session.deleted.load()) {
    return absl::NotFoundError(
        absl::StrFormat("session \"%s\" was deleted before the call ran", session.name));
  }
  if (cancelled) {
    return absl::UnavailableError("the server is shutting down; the call did not run");
  }
  if (session.model == nullptr) {
    return absl::NotFoundError(absl::StrFormat("session \"%s\" does not exist", session.name));
  }
  return absl::OkStatus();
}

// CheckInput compares a batch with the session's sizes, so the message names the session's
// expectation rather than the engine's.
absl::Status CheckInput(absl::string_view field, MatrixView x, const ModelSpec& spec) {
  if (x.cols != spec.input_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.shape[1] is %d, the session's input size is %d", field, x.cols, spec.input_size));
  }
  return absl::OkStatus();
}

absl::Status CheckTargets(absl::string_view field, TargetsView y, const ModelSpec& spec,
                          bool evaluating) {
  const int64_t outputs = spec.output_size();
  if (y.has_labels()) {
    if (spec.loss.kind == LossKind::kLogistic) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.labels are given; LOGISTIC sessions take targets [N, 1] of -1 or +1", field));
    }
    if (spec.loss.kind == LossKind::kMse && !evaluating) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.labels are given; MSE sessions train on targets [N, %d]", field, outputs));
    }
    if (outputs < 2) {
      // One class: every prediction is "right", and the error rate would mean nothing.
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.labels are given; the session has 1 output, so labels name no class: give "
          "targets [N, 1]",
          field));
    }
    const int32_t classes = static_cast<int32_t>(outputs);
    for (int64_t i = 0; i < y.label_count; ++i) {
      if (y.labels[i] >= classes) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s.labels[%d] is %d; the session has %d classes (0 to %d)", field, i,
                            y.labels[i], classes, classes - 1));
      }
    }
    return absl::OkStatus();
  }
  if (spec.loss.kind == LossKind::kCrossEntropy) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.targets are given; CROSS_ENTROPY sessions take labels [N] of class indices", field));
  }
  if (y.values.cols != outputs) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s.targets.shape[1] is %d, the session's output size is %d", field,
                        y.values.cols, outputs));
  }
  return absl::OkStatus();
}

absl::Status CheckBatch(absl::string_view field, const BatchView& batch, const ModelSpec& spec,
                        bool evaluating) {
  MLPD_RETURN_IF_ERROR(CheckInput(absl::StrCat(field, ".x"), batch.x, spec));
  return CheckTargets(field, batch.y, spec, evaluating);
}

// WriteClasses sets the predicted class of each output row (see PredictResponse.classes).
void WriteClasses(const ModelSpec& spec, const Matrix& outputs,
                  google::protobuf::RepeatedField<int32_t>* classes) {
  classes->Clear();
  if (spec.loss.kind == LossKind::kLogistic) {
    classes->Reserve(static_cast<int>(outputs.rows));
    for (int64_t r = 0; r < outputs.rows; ++r) {
      classes->Add(outputs.data[r * outputs.cols] > 0.0f ? 1 : -1);
    }
    return;
  }
  if (outputs.cols < 2) return;
  classes->Reserve(static_cast<int>(outputs.rows));
  for (int64_t r = 0; r < outputs.rows; ++r) {
    const float* row = outputs.data.data() + r * outputs.cols;
    classes->Add(static_cast<int32_t>(std::max_element(row, row + outputs.cols) - row));
  }
}

void FillDatasetInfo(const StoredDataset& dataset, v1::DatasetInfo* info) {
  info->set_name(dataset.name);
  info->set_rows(dataset.data.rows());
  info->set_input_size(dataset.data.x.cols);
  info->set_target_size(dataset.data.has_labels ? 0 : dataset.data.targets.cols);
  info->set_has_labels(dataset.data.has_labels);
  info->set_bytes(dataset.data.ByteSize());
  info->set_create_time_unix_ms(dataset.create_time_unix_ms);
}

// FormatName is the enum's name, or its number when it has none (a newer or a bad client).
std::string FormatName(v1::ExportFormat format) {
  const std::string& name = v1::ExportFormat_Name(format);
  return name.empty() ? absl::StrCat(static_cast<int>(format)) : name;
}

BatchView DatasetView(const Dataset& dataset) {
  return BatchView{dataset.x.view(), dataset.targets_view()};
}

// One Train call runs at most this many steps: far beyond any real run, and far from wrapping
// the step counters.
constexpr int64_t kMaxTrainSteps = int64_t{1} << 53;

// CheckAllTargets applies the engine's target rules to every row of a dataset; the message
// names the dataset and the row within it.
absl::Status CheckAllTargets(absl::string_view field, const StoredDataset& dataset,
                             const ModelSpec& spec, TargetUse use) {
  const BatchView view = DatasetView(dataset.data);
  const absl::Status status = ValidateTargets(spec, view.x.rows, view.y, use);
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrFormat("%s \"%s\": %s", field, dataset.name, status.message()));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// UploadReactor: reads chunks, checks each one and appends it; registers the dataset at the
// end of the stream and answers once its file is written.
class MlpdService::UploadReactor : public grpc::ServerReadReactor<v1::UploadDatasetRequest> {
 public:
  UploadReactor(MlpdService* service, grpc::CallbackServerContext* context,
                v1::DatasetInfo* response)
      : service_(service), context_(context), response_(response) {
    dataset_ = std::make_shared<StoredDataset>();
    StartRead(&chunk_);
  }

  void Fail(const absl::Status& status) {
    LogFailure("UploadDataset", dataset_->name, status);
    // Give the budget back before answering: the caller may upload again the moment it hears.
    ReleaseBudget();
    Finish(ToGrpcStatus(status));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The stream ended: a client half-close completes the upload; a cancelled call (the
      // client cancelled, hit its deadline or went away) leaves nothing behind.
      if (context_->IsCancelled()) {
        Fail(absl::CancelledError(absl::StrFormat(
            "the upload was cancelled after %d chunks; nothing was registered", chunks_)));
        return;
      }
      Complete();
      return;
    }
    const absl::Status status = Append();
    if (!status.ok()) {
      Fail(status);
      return;
    }
    chunk_.Clear();
    StartRead(&chunk_);
  }

  void OnDone() override {
    ReleaseBudget();
    delete this;
  }

 private:
  // ReleaseBudget returns the bytes this upload counted unless the dataset was registered
  // (then they belong to it). Called once the upload has failed or ended.
  void ReleaseBudget() {
    if (registered_) return;
    service_->dataset_bytes_ -= reserved_;
    reserved_ = 0;
  }

  absl::Status Append() {
    const std::string field = absl::StrFormat("chunk %d: rows", chunks_);
    if (chunks_ == 0) {
      MLPD_RETURN_IF_ERROR(ValidateName("name", chunk_.name()));
      dataset_->name = chunk_.name();
      // Refuse a taken name before any data is sent; the final Add checks again.
      if (service_->datasets_.Find(chunk_.name()).ok()) {
        return absl::AlreadyExistsError(
            absl::StrFormat("dataset \"%s\" already exists", chunk_.name()));
      }
      if (chunk_.total_rows() < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "total_rows is %d; expected the rows of the whole stream, or 0 when not known",
            chunk_.total_rows()));
      }
      total_rows_ = chunk_.total_rows();
    } else if (!chunk_.name().empty() && chunk_.name() != dataset_->name) {
      return absl::InvalidArgumentError(
          absl::StrFormat("chunk %d: name is \"%s\"; the first chunk named the dataset \"%s\"",
                          chunks_, chunk_.name(), dataset_->name));
    }
    MLPD_ASSIGN_OR_RETURN(BatchView rows, ViewBatch(field, chunk_.rows()));
    Dataset& data = dataset_->data;
    if (chunks_ == 0) {
      data.has_labels = rows.y.has_labels();
      data.x.cols = rows.x.cols;
      data.targets.cols = data.has_labels ? 0 : rows.y.values.cols;
    } else {
      if (rows.x.cols != data.x.cols) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s.x.shape[1] is %d; earlier chunks have %d columns", field,
                            rows.x.cols, data.x.cols));
      }
      if (rows.y.has_labels() != data.has_labels) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s has %s; earlier chunks have %s", field, rows.y.has_labels() ? "labels" : "targets",
            data.has_labels ? "labels" : "targets"));
      }
      if (!data.has_labels && rows.y.values.cols != data.targets.cols) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s.targets.shape[1] is %d; earlier chunks have %d columns", field,
                            rows.y.values.cols, data.targets.cols));
      }
    }
    const int64_t width = rows.x.cols + (data.has_labels ? 1 : data.targets.cols);
    const int64_t bytes = rows.x.rows * width * 4;
    const int64_t held = service_->dataset_bytes_.fetch_add(bytes) + bytes;
    reserved_ += bytes;
    if (held > service_->options_.max_dataset_bytes) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "datasets would hold %d bytes with this chunk; the limit --max-datasets-mb is %d MiB",
          held, service_->options_.max_dataset_bytes >> 20));
    }
    data.x.data.insert(data.x.data.end(), rows.x.data, rows.x.data + rows.x.rows * rows.x.cols);
    data.x.rows += rows.x.rows;
    if (data.has_labels) {
      data.labels.insert(data.labels.end(), rows.y.labels, rows.y.labels + rows.y.label_count);
    } else {
      const MatrixView& t = rows.y.values;
      data.targets.data.insert(data.targets.data.end(), t.data, t.data + t.rows * t.cols);
      data.targets.rows += t.rows;
    }
    ++chunks_;
    return absl::OkStatus();
  }

  void Complete() {
    if (chunks_ == 0) {
      Fail(
          absl::InvalidArgumentError("the stream had no chunks; the first chunk names the "
                                     "dataset and carries rows"));
      return;
    }
    if (total_rows_ > 0 && dataset_->data.rows() != total_rows_) {
      Fail(absl::InvalidArgumentError(absl::StrFormat(
          "the stream ended after %d rows in %d chunks; its first chunk announced total_rows %d "
          "(a chunk cut short or one that could not be parsed ends a stream early); nothing was "
          "registered",
          dataset_->data.rows(), chunks_, total_rows_)));
      return;
    }
    dataset_->create_time_unix_ms = NowUnixMs();
    const absl::Status added = service_->datasets_.Add(dataset_->name, dataset_);
    if (!added.ok()) {
      Fail(added);
      return;
    }
    registered_ = true;
    FillDatasetInfo(*dataset_, response_);
    if (service_->store_ == nullptr) {
      Finish(grpc::Status::OK);
      return;
    }
    // Answer once the file is durable, so an acknowledged upload survives a crash.
    std::shared_ptr<StoredDataset> dataset = dataset_;
    SessionStore* store = service_->store_;
    service_->writer_->Post([this, dataset, store] {
      const absl::Status saved =
          store->SaveDataset(dataset->name, dataset->data, dataset->create_time_unix_ms);
      if (saved.ok()) {
        Finish(grpc::Status::OK);
        return;
      }
      // Not on disk, so not uploaded: take it back out. RemoveIf takes only this upload's
      // entry; were it gone, whoever removed it also took its bytes back.
      if (service_->datasets_.RemoveIf(dataset->name, dataset.get())) registered_ = false;
      Fail(saved);
    });
  }

  MlpdService* const service_;
  grpc::CallbackServerContext* const context_;
  v1::DatasetInfo* const response_;
  v1::UploadDatasetRequest chunk_;
  std::shared_ptr<StoredDataset> dataset_;
  int64_t chunks_ = 0;
  int64_t total_rows_ = 0;  // From the first chunk; 0: not announced.
  int64_t reserved_ = 0;    // Bytes counted in service_->dataset_bytes_ by this upload.
  bool registered_ = false;
};

// ---------------------------------------------------------------------------------------------
// TrainReactor: one executor item per mini-batch, each queuing the next with Continue, so other
// sessions' work runs between them. Progress messages are written one at a time (gRPC allows
// one outstanding write); the stream finishes once the last one is written. Training does not
// wait for a slow reader: past kMaxQueuedReports waiting reports, the newest replaces the last
// one queued, so memory stays bounded whatever the client does.
class MlpdService::TrainReactor : public grpc::ServerWriteReactor<v1::TrainResponse> {
 public:
  // Reports waiting behind the one being written before newer ones replace the last: a client
  // reading as fast as its network allows misses none; one that stops reading costs a few KB.
  static constexpr size_t kMaxQueuedReports = 64;

  TrainReactor(MlpdService* service, std::shared_ptr<Session> session,
               std::shared_ptr<StoredDataset> train, std::shared_ptr<StoredDataset> eval,
               const v1::TrainRequest& request)
      : service_(service),
        session_(std::move(session)),
        train_(std::move(train)),
        eval_(std::move(eval)),
        epochs_(request.epochs()),
        report_every_(request.report_every_steps()),
        batches_(train_->data, request.batch_size(), request.shuffle(), request.seed()),
        steps_total_(epochs_ * batches_.batches_per_epoch()) {
    ++service_->active_trains_;
  }

  // Start queues the first mini-batch; false when the queue refused it (already answered).
  void Start() {
    start_ = absl::Now();
    report_start_ = start_;
    const absl::Status queued =
        service_->executor_->Submit(session_->id, [this](bool cancelled) { Step(cancelled); });
    if (!queued.ok()) End(queued);
  }

  void OnCancel() override { cancelled_ = true; }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.pop_front();
    if (!ok) cancelled_ = true;
    if (!pending_.empty()) {
      StartWrite(&pending_.front());
    } else if (finishing_) {
      Finish(final_status_);
    }
  }

  void OnDone() override {
    --service_->active_trains_;
    delete this;
  }

 private:
  // Step runs one mini-batch on the executor and queues the next.
  void Step(bool cancelled) {
    absl::Status gone = SessionGone(*session_, cancelled);
    if (!gone.ok()) {
      if (steps_done_ > 0 && session_->deleted) {
        gone = absl::NotFoundError(
            absl::StrFormat("session \"%s\" was deleted during Train, after %d of %d steps",
                            session_->name, steps_done_, steps_total_));
      }
      End(gone);
      return;
    }
    if (cancelled_) {
      End(absl::CancelledError(absl::StrFormat(
          "Train was cancelled by the client after %d of %d steps", steps_done_, steps_total_)));
      return;
    }
    if (service_->stop_trains_) {
      End(absl::UnavailableError(
          absl::StrFormat("the server is shutting down; Train stopped after %d of %d steps "
                          "(they are kept)",
                          steps_done_, steps_total_)));
      return;
    }
    Model& model = *session_->model;
    MatrixView x;
    TargetsView y;
    if (!batches_.Next(&x, &y)) {
      End(absl::InternalError("the dataset ran out of batches before the epoch ended"));
      return;
    }
    absl::StatusOr<float> loss = model.TrainStep(x, y);
    if (!loss.ok()) {
      End(absl::Status(loss.status().code(),
                       absl::StrFormat("step %d of %d (epoch %d): %s", steps_done_ + 1,
                                       steps_total_, epoch_, loss.status().message())));
      return;
    }
    ++steps_done_;
    ++steps_since_report_;
    ++steps_in_epoch_;
    samples_since_report_ += x.rows;
    loss_since_report_ += *loss;
    last_loss_ = *loss;
    service_->AfterSteps(*session_);

    const bool epoch_ended = steps_in_epoch_ == batches_.batches_per_epoch();
    const bool report = report_every_ > 0 ? steps_done_ % report_every_ == 0 : epoch_ended;
    if (report) Report();
    if (epoch_ended) {
      ++epochs_done_;
      steps_in_epoch_ = 0;
      if (epochs_done_ < epochs_) {
        ++epoch_;
        batches_.Reset();
      }
    }
    if (steps_done_ == steps_total_) {
      End(absl::OkStatus());
      return;
    }
    service_->executor_->Continue(session_->id, [this](bool cancelled) { Step(cancelled); });
  }

  // Evaluation on the eval dataset, when one was given.
  bool EvaluateInto(double* loss, bool* has_error_rate, double* error_rate) {
    if (eval_ == nullptr) return false;
    const BatchView view = DatasetView(eval_->data);
    absl::StatusOr<Evaluation> evaluation = session_->model->Evaluate(view.x, view.y);
    if (!evaluation.ok()) {
      LogFailure("Train", session_->name, evaluation.status());
      return false;
    }
    *loss = evaluation->loss;
    *has_error_rate = evaluation->has_error_rate;
    *error_rate = evaluation->error_rate;
    return true;
  }

  void Report() {
    const absl::Time now = absl::Now();
    v1::TrainResponse message;
    v1::TrainProgress* progress = message.mutable_progress();
    progress->set_epoch(epoch_);
    progress->set_step(session_->model->step_count());
    progress->set_steps_done(steps_done_);
    progress->set_steps_total(steps_total_);
    progress->set_loss(static_cast<float>(loss_since_report_ / steps_since_report_));
    const double seconds = absl::ToDoubleSeconds(now - report_start_);
    progress->set_samples_per_second(seconds > 0 ? samples_since_report_ / seconds : 0.0);
    double eval_loss = 0, error_rate = 0;
    bool has_error_rate = false;
    if (EvaluateInto(&eval_loss, &has_error_rate, &error_rate)) {
      progress->set_has_eval(true);
      progress->set_eval_loss(eval_loss);
      progress->set_eval_has_error_rate(has_error_rate);
      progress->set_eval_error_rate(error_rate);
    }
    Send(std::move(message));
    steps_since_report_ = 0;
    samples_since_report_ = 0;
    loss_since_report_ = 0;
    report_start_ = absl::Now();  // Evaluation time is not training throughput.
  }

  // End sends the summary (when training ran) and finishes the stream with `status`.
  void End(const absl::Status& status) {
    if (!status.ok()) LogFailure("Train", session_->name, status);
    if (status.ok()) {
      v1::TrainResponse message;
      v1::TrainSummary* summary = message.mutable_summary();
      summary->set_steps(steps_done_);
      summary->set_epochs(epochs_done_);
      summary->set_step(session_->model->step_count());
      summary->set_last_loss(last_loss_);
      summary->set_seconds(absl::ToDoubleSeconds(absl::Now() - start_));
      double eval_loss = 0, error_rate = 0;
      bool has_error_rate = false;
      if (EvaluateInto(&eval_loss, &has_error_rate, &error_rate)) {
        summary->set_has_eval(true);
        summary->set_eval_loss(eval_loss);
        summary->set_eval_has_error_rate(has_error_rate);
        summary->set_eval_error_rate(error_rate);
      }
      Send(std::move(message));
    }
    // A Train call's end is a natural snapshot point; whatever stopped it, applied steps stay.
    if (steps_done_ > 0 && session_->model != nullptr && !session_->deleted &&
        service_->store_ != nullptr && session_->Dirty()) {
      service_->Snapshot(*session_, nullptr);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    finishing_ = true;
    final_status_ = ToGrpcStatus(status);
    if (pending_.empty()) Finish(final_status_);
  }

  void Send(v1::TrainResponse message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.size() > kMaxQueuedReports && pending_.back().has_progress()) {
      pending_.back() = std::move(message);  // Not started yet: the newer report replaces it.
      return;
    }
    pending_.push_back(std::move(message));
    if (pending_.size() == 1) StartWrite(&pending_.front());
  }

  MlpdService* const service_;
  const std::shared_ptr<Session> session_;
  const std::shared_ptr<StoredDataset> train_;
  const std::shared_ptr<StoredDataset> eval_;
  const int64_t epochs_;
  const int64_t report_every_;

  // Executor only.
  BatchIterator batches_;
  const int64_t steps_total_;
  int64_t epoch_ = 1;
  int64_t epochs_done_ = 0;
  int64_t steps_done_ = 0;
  int64_t steps_in_epoch_ = 0;
  int64_t steps_since_report_ = 0;
  int64_t samples_since_report_ = 0;
  double loss_since_report_ = 0;
  float last_loss_ = 0;
  absl::Time start_;
  absl::Time report_start_;

  std::atomic<bool> cancelled_{false};

  std::mutex mutex_;
  std::deque<v1::TrainResponse> pending_;  // Guarded by mutex_; front() is being written.
  bool finishing_ = false;                 // Guarded by mutex_.
  grpc::Status final_status_;              // Guarded by mutex_.
};

// ---------------------------------------------------------------------------------------------

MlpdService::MlpdService(ServiceOptions options, ComputeExecutor* executor, SessionStore* store,
                         SerialWorker* writer, const TokenAuthenticator* auth)
    : options_(options),
      executor_(executor),
      store_(writer != nullptr ? store : nullptr),
      writer_(writer),
      auth_(auth),
      sessions_("session", {options.max_sessions, "--max-sessions"},
                {options.max_session_bytes, "--max-sessions-mb"}),
      datasets_("dataset", {options.max_datasets, "--max-datasets"}) {}

std::string MlpdService::OverLimits() const {
  std::vector<std::string> over = {sessions_.OverLimit(), datasets_.OverLimit()};
  // Dataset memory is counted here rather than in the registry: uploads reserve it as they go.
  if (const int64_t held = dataset_bytes_.load(); held > options_.max_dataset_bytes) {
    over.push_back(absl::StrFormat("datasets of %.1f MiB, over the limit --max-datasets-mb of %d",
                                   static_cast<double>(held) / (1 << 20),
                                   options_.max_dataset_bytes >> 20));
  }
  over.erase(std::remove(over.begin(), over.end(), ""), over.end());
  return absl::StrJoin(over, "; ");
}

MlpdService::~MlpdService() = default;

absl::Status MlpdService::Admit(const grpc::CallbackServerContext& context) const {
  if (draining_.load()) {
    return absl::UnavailableError("the server is shutting down; no new calls are accepted");
  }
  if (auth_ != nullptr) return auth_->Check(context);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Session>> MlpdService::FindSession(const std::string& name) const {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  return sessions_.Find(name);
}

absl::Status MlpdService::CheckSessionSize(const ModelSpec& spec) const {
  const int64_t parameters = ParameterCount(spec);
  if (parameters > options_.max_session_params) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("spec has %d parameters; the limit --max-session-params is %d", parameters,
                        options_.max_session_params));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* MlpdService::RunOnSession(grpc::CallbackServerContext* context,
                                                    const char* method, const std::string& name,
                                                    absl::Status precheck, SessionWork work,
                                                    int64_t inline_rows) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = precheck;
  if (status.ok()) {
    absl::StatusOr<std::shared_ptr<Session>> session = FindSession(name);
    status = session.status();
    if (status.ok()) {
      std::shared_ptr<Session> target = *std::move(session);
      const uint64_t key = target->id;
      // Tiny work on an idle executor runs right here: the hand-off would cost more.
      if (inline_rows > 0 && inline_rows * target->parameter_count <= kInlineCostLimit &&
          executor_->TryRunInline([&] {
            absl::Status result = SessionGone(*target, /*cancelled=*/false);
            if (result.ok()) result = work(*target);
            Finish(reactor, method, target->name, result);
          })) {
        return reactor;
      }
      status = executor_->Submit(key, [context, reactor, method, target = std::move(target),
                                       work = std::move(work)](bool cancelled) {
        absl::Status result = SessionGone(*target, cancelled);
        // A caller that gave up while the call waited (its deadline passed, it cancelled or
        // went away) has its answer already: do not apply a step it will never hear of.
        if (result.ok() && context->IsCancelled()) {
          result = absl::CancelledError(
              "the call was cancelled or passed its deadline while it waited; it did not run");
        }
        if (result.ok()) result = work(*target);
        Finish(reactor, method, target->name, result);
      });
    }
  }
  if (!status.ok()) Finish(reactor, method, name, status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::AddSession(
    grpc::ServerUnaryReactor* reactor, const char* method, const std::string& name,
    const ModelSpec& spec, std::function<absl::StatusOr<std::unique_ptr<Model>>()> make_model,
    v1::SessionInfo* response) {
  auto session = std::make_shared<Session>(next_session_id_++, name, spec, NowUnixMs());
  absl::Status status = sessions_.Add(name, session, session->memory_bytes);
  if (status.ok()) {
    status = executor_->Submit(session->id, [this, reactor, method, session, response,
                                             make_model = std::move(make_model)](bool cancelled) {
      absl::Status result;
      if (session->deleted) {
        result = absl::NotFoundError(
            absl::StrFormat("session \"%s\" was deleted before it was created", session->name));
      } else if (cancelled) {
        result = absl::UnavailableError("the server is shutting down; the session was not made");
      } else {
        absl::StatusOr<std::unique_ptr<Model>> model = make_model();
        result = model.status();
        if (result.ok()) {
          session->model = *std::move(model);
          session->PublishCounters(session->create_time_unix_ms);
          session->ready = true;
          session->FillInfo(response);
          // A session exists on disk from its creation on, not only after its first steps.
          if (store_ != nullptr) Snapshot(*session, nullptr);
        }
      }
      if (!result.ok()) sessions_.RemoveIf(session->name, session.get());
      Finish(reactor, method, session->name, result);
    });
    if (!status.ok()) sessions_.RemoveIf(name, session.get());
  }
  if (!status.ok()) Finish(reactor, method, name, status);
  return reactor;
}

void MlpdService::Snapshot(Session& target, SnapshotDone done) {
  std::shared_ptr<Session> session = target.shared_from_this();
  if (store_ == nullptr) {
    if (done) {
      done(absl::FailedPreconditionError("the server keeps no data: it runs without --data-dir"),
           0);
    }
    return;
  }
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*session->model);
  if (!checkpoint.ok()) {
    LogFailure("snapshot", session->name, checkpoint.status());
    if (done) done(checkpoint.status(), 0);
    return;
  }
  checkpoint->set_create_time_unix_ms(session->create_time_unix_ms);
  checkpoint->set_update_time_unix_ms(session->update_time_unix_ms.load());
  const int64_t step = session->model->step_count();
  session->snapshot_step = step;
  session->snapshot_failed = false;
  auto copy = std::make_shared<v1::Checkpoint>(*std::move(checkpoint));
  SessionStore* store = store_;
  writer_->Post([store, session, copy, step, done = std::move(done)] {
    // A deleted session must not come back from its file. A deletion removes the file and sets
    // `deleted` in one writer task: a snapshot queued before it is removed with the file, one
    // queued after it sees the flag.
    absl::Status saved = session->deleted
                             ? absl::NotFoundError(absl::StrFormat(
                                   "session \"%s\" was deleted before its snapshot", session->name))
                             : store->SaveSession(session->name, *copy);
    if (!saved.ok() && !session->deleted) {
      LogFailure("snapshot", session->name, saved);
      session->snapshot_failed = true;
    }
    if (done) done(saved, step);
  });
}

void MlpdService::RemoveThenForget(grpc::ServerUnaryReactor* reactor, const char* method,
                                   const std::string& name,
                                   std::function<absl::Status(SessionStore&)> remove,
                                   std::function<absl::Status()> forget) {
  if (store_ == nullptr) {
    Finish(reactor, method, name, forget());
    return;
  }
  SessionStore* store = store_;
  writer_->Post(
      [store, reactor, method, name, remove = std::move(remove), forget = std::move(forget)] {
        absl::Status status = remove(*store);
        if (status.ok()) status = forget();
        Finish(reactor, method, name, status);
      });
}

void MlpdService::AfterSteps(Session& session) {
  session.PublishCounters(NowUnixMs());
  if (store_ != nullptr && options_.checkpoint_every > 0 &&
      session.model->step_count() - session.snapshot_step >= options_.checkpoint_every) {
    Snapshot(session, nullptr);
  }
}

int64_t MlpdService::unsaved_sessions() const {
  int64_t unsaved = 0;
  for (const std::shared_ptr<Session>& session : sessions_.All()) {
    unsaved += session->snapshot_failed ? 1 : 0;
  }
  return unsaved;
}

void MlpdService::SnapshotChanged() {
  for (const std::shared_ptr<Session>& session : sessions_.All()) {
    if (!session->deleted && session->Dirty()) Snapshot(*session, nullptr);
  }
}

absl::Status MlpdService::RestoreSession(const std::string& name,
                                         const v1::Checkpoint& checkpoint) {
  MLPD_RETURN_IF_ERROR(ValidateName("session file name", name));
  absl::StatusOr<std::unique_ptr<Model>> model;
  // Building a model touches oneDNN; it belongs on the executor like every engine call.
  executor_->RunAndWait(kServiceKey, [&] { model = RestoreCheckpoint(checkpoint); });
  if (!model.ok()) return model.status();
  // Snapshots since this field exists keep the session's times; older ones fall back to now.
  const int64_t now = NowUnixMs();
  const int64_t created =
      checkpoint.create_time_unix_ms() > 0 ? checkpoint.create_time_unix_ms() : now;
  const int64_t updated =
      checkpoint.update_time_unix_ms() > 0 ? checkpoint.update_time_unix_ms() : created;
  auto session = std::make_shared<Session>(next_session_id_++, name, (*model)->spec(), created);
  session->model = *std::move(model);
  session->snapshot_step = session->model->step_count();
  session->PublishCounters(updated);
  session->ready = true;
  // A session on disk is loaded even past a lowered limit: left out, its file could be
  // overwritten by a new session of the same name.
  const int64_t bytes = session->memory_bytes;
  return sessions_.Add(name, std::move(session), bytes, NamedRegistry<Session>::AtLimit::kAdd);
}

absl::Status MlpdService::RestoreDataset(const std::string& name, Dataset dataset,
                                         int64_t create_time_unix_ms) {
  MLPD_RETURN_IF_ERROR(ValidateName("dataset file name", name));
  auto stored = std::make_shared<StoredDataset>();
  stored->name = name;
  stored->data = std::move(dataset);
  stored->create_time_unix_ms = create_time_unix_ms > 0 ? create_time_unix_ms : NowUnixMs();
  dataset_bytes_ += stored->data.ByteSize();
  return datasets_.Add(name, std::move(stored), 0, NamedRegistry<StoredDataset>::AtLimit::kAdd);
}

void MlpdService::BeginDrain() { draining_ = true; }

void MlpdService::StopTrains() { stop_trains_ = true; }

// ---------------------------------------------------------------------------------------------
// Sessions.

grpc::ServerUnaryReactor* MlpdService::CreateSession(grpc::CallbackServerContext* context,
                                                     const v1::CreateSessionRequest* request,
                                                     v1::SessionInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto validate = [&]() -> absl::StatusOr<ModelSpec> {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_RETURN_IF_ERROR(ValidateName("name", request->name()));
    if (!request->has_spec()) return absl::InvalidArgumentError("spec is missing");
    MLPD_ASSIGN_OR_RETURN(ModelSpec spec, SpecFromProto(request->spec()));
    MLPD_RETURN_IF_ERROR(ValidateModelSpec(spec));
    MLPD_RETURN_IF_ERROR(CheckSessionSize(spec));
    return spec;
  };
  absl::StatusOr<ModelSpec> spec = validate();
  if (!spec.ok()) {
    Finish(reactor, "CreateSession", request->name(), spec.status());
    return reactor;
  }
  ModelSpec model_spec = *spec;
  return AddSession(
      reactor, "CreateSession", request->name(), *spec,
      [model_spec] { return Model::Create(model_spec); }, response);
}

grpc::ServerUnaryReactor* MlpdService::ImportSession(grpc::CallbackServerContext* context,
                                                     const v1::ImportSessionRequest* request,
                                                     v1::SessionInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto checkpoint = std::make_shared<v1::Checkpoint>();
  auto validate = [&]() -> absl::StatusOr<ModelSpec> {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_RETURN_IF_ERROR(ValidateName("name", request->name()));
    if (request->format() != v1::NATIVE) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "format is %s; ImportSession takes NATIVE only", FormatName(request->format())));
    }
    if (request->data().empty() || !checkpoint->ParseFromString(request->data())) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "data (%d bytes) is not a serialized mlpd.v1.Checkpoint", request->data().size()));
    }
    if (!checkpoint->has_spec()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "data (%d bytes) parses but holds no spec: it is not an mlpd.v1.Checkpoint of a "
          "session",
          request->data().size()));
    }
    if (checkpoint->format_version() != kCheckpointFormatVersion) {
      return absl::InvalidArgumentError(
          absl::StrFormat("data.format_version is %d; this server reads version %d",
                          checkpoint->format_version(), kCheckpointFormatVersion));
    }
    MLPD_ASSIGN_OR_RETURN(ModelSpec spec, SpecFromProto(checkpoint->spec()));
    MLPD_RETURN_IF_ERROR(ValidateModelSpec(spec));
    MLPD_RETURN_IF_ERROR(CheckSessionSize(spec));
    return spec;
  };
  absl::StatusOr<ModelSpec> spec = validate();
  if (!spec.ok()) {
    Finish(reactor, "ImportSession", request->name(), spec.status());
    return reactor;
  }
  return AddSession(
      reactor, "ImportSession", request->name(), *spec,
      [checkpoint] { return RestoreCheckpoint(*checkpoint); }, response);
}

grpc::ServerUnaryReactor* MlpdService::GetSession(grpc::CallbackServerContext* context,
                                                  const v1::GetSessionRequest* request,
                                                  v1::SessionInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<std::shared_ptr<Session>> session = FindSession(request->name());
    status = session.status();
    if (status.ok() && !(*session)->ready) {
      status = absl::NotFoundError(absl::StrFormat(
          "session \"%s\" does not exist yet: its creation or import has not finished",
          request->name()));
    }
    if (status.ok()) (*session)->FillInfo(response);
  }
  Finish(reactor, "GetSession", request->name(), status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::ListSessions(grpc::CallbackServerContext* context,
                                                    const v1::ListSessionsRequest* request,
                                                    v1::ListSessionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  std::vector<std::shared_ptr<Session>> page;
  if (status.ok()) {
    status = sessions_.Page(request->page_size(), request->page_token(), &page,
                            response->mutable_next_page_token());
  }
  if (status.ok()) {
    for (const auto& session : page) {
      if (session->ready) session->FillInfo(response->add_sessions());
    }
  }
  Finish(reactor, "ListSessions", "", status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::DeleteSession(grpc::CallbackServerContext* context,
                                                     const v1::DeleteSessionRequest* request,
                                                     v1::DeleteSessionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  if (status.ok()) status = ValidateName("name", request->name());
  absl::StatusOr<std::shared_ptr<Session>> session;
  if (status.ok()) {
    session = sessions_.Find(request->name());
    status = session.status();
  }
  if (!status.ok()) {
    Finish(reactor, "DeleteSession", request->name(), status);
    return reactor;
  }
  // The session leaves memory once its file is gone, after any snapshot already handed to the
  // writer: a deletion that fails on disk leaves it in both, not gone now and back at restart.
  auto forget = [this, found = *session]() -> absl::Status {
    if (!sessions_.RemoveIf(found->name, found.get())) {
      return absl::NotFoundError(absl::StrFormat("session \"%s\" does not exist", found->name));
    }
    found->deleted = true;  // Later snapshots of it are not written.
    // Queued calls of the session answer NOT_FOUND now; a running one completes first.
    executor_->Cancel(found->id);
    return absl::OkStatus();
  };
  RemoveThenForget(
      reactor, "DeleteSession", request->name(),
      [name = request->name()](SessionStore& store) { return store.DeleteSession(name); },
      std::move(forget));
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::SaveSession(grpc::CallbackServerContext* context,
                                                   const v1::SaveSessionRequest* request,
                                                   v1::SaveSessionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  if (status.ok() && store_ == nullptr) {
    status = absl::FailedPreconditionError("the server keeps no data: it runs without --data-dir");
  }
  absl::StatusOr<std::shared_ptr<Session>> session;
  if (status.ok()) {
    session = FindSession(request->name());
    status = session.status();
  }
  if (status.ok()) {
    std::shared_ptr<Session> target = *session;
    status = executor_->Submit(target->id, [this, reactor, response, target](bool cancelled) {
      const absl::Status gone = SessionGone(*target, cancelled);
      if (!gone.ok()) {
        Finish(reactor, "SaveSession", target->name, gone);
        return;
      }
      // The answer waits for the writer: SaveSession acknowledges only durable snapshots.
      Snapshot(*target,
               [reactor, response, name = target->name](const absl::Status& saved, int64_t step) {
                 if (saved.ok()) response->set_step_count(step);
                 Finish(reactor, "SaveSession", name, saved);
               });
    });
  }
  if (!status.ok()) Finish(reactor, "SaveSession", request->name(), status);
  return reactor;
}

// ---------------------------------------------------------------------------------------------
// Training and inference.

grpc::ServerUnaryReactor* MlpdService::TrainStep(grpc::CallbackServerContext* context,
                                                 const v1::TrainStepRequest* request,
                                                 v1::TrainStepResponse* response) {
  absl::Status precheck = Admit(*context);
  absl::StatusOr<BatchView> batch = absl::UnknownError("unset");
  if (precheck.ok()) {
    batch = ViewBatch("batch", request->batch());
    precheck = batch.status();
  }
  return RunOnSession(context, "TrainStep", request->name(), precheck,
                      [this, batch = batch.value_or(BatchView{}), response](Session& session) {
                        MLPD_RETURN_IF_ERROR(CheckBatch("batch", batch, session.spec, false));
                        MLPD_ASSIGN_OR_RETURN(float loss,
                                              session.model->TrainStep(batch.x, batch.y));
                        AfterSteps(session);
                        response->set_loss(loss);
                        response->set_step(session.model->step_count());
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
  return RunOnSession(
      context, "Predict", request->name(), precheck,
      [this, x = x.value_or(MatrixView{}), response](Session& session) {
        MLPD_RETURN_IF_ERROR(CheckInput("x", x, session.spec));
        // gRPC would refuse an answer over the limit only after the work, and without naming
        // the flag. Each row costs its outputs as floats plus up to 5 bytes of class.
        const int64_t answer_bytes = x.rows * (session.spec.output_size() * 4 + 5);
        if (answer_bytes > options_.max_message_bytes) {
          return absl::ResourceExhaustedError(absl::StrFormat(
              "the outputs of %d rows take about %d bytes, over the limit --max-message-mb of "
              "%d MiB; send fewer rows per call",
              x.rows, answer_bytes, options_.max_message_bytes >> 20));
        }
        MLPD_RETURN_IF_ERROR(session.model->Predict(x, &outputs_));
        WriteTensor(outputs_, response->mutable_outputs());
        WriteClasses(session.spec, outputs_, response->mutable_classes());
        return absl::OkStatus();
      },
      /*inline_rows=*/x.ok() ? x->rows : 0);
}

grpc::ServerUnaryReactor* MlpdService::Evaluate(grpc::CallbackServerContext* context,
                                                const v1::EvaluateRequest* request,
                                                v1::EvaluateResponse* response) {
  absl::Status precheck = Admit(*context);
  BatchView batch;
  std::shared_ptr<StoredDataset> dataset;
  if (precheck.ok()) {
    if (request->has_batch()) {
      absl::StatusOr<BatchView> view = ViewBatch("batch", request->batch());
      precheck = view.status();
      if (view.ok()) batch = *view;
    } else if (request->source_case() == v1::EvaluateRequest::kDataset) {
      precheck = ValidateName("dataset", request->dataset());
      if (precheck.ok()) {
        absl::StatusOr<std::shared_ptr<StoredDataset>> found = datasets_.Find(request->dataset());
        precheck = found.status();
        if (found.ok()) {
          dataset = *found;
          batch = DatasetView(dataset->data);
        }
      }
    } else {
      precheck = absl::InvalidArgumentError("source is missing; give a dataset or a batch");
    }
  }
  const std::string field = dataset != nullptr ? "dataset" : "batch";
  return RunOnSession(
      context, "Evaluate", request->name(), precheck,
      [batch, dataset, field, response](Session& session) {
        MLPD_RETURN_IF_ERROR(CheckBatch(field, batch, session.spec, /*evaluating=*/true));
        MLPD_ASSIGN_OR_RETURN(Evaluation evaluation, session.model->Evaluate(batch.x, batch.y));
        response->set_loss(evaluation.loss);
        response->set_has_error_rate(evaluation.has_error_rate);
        response->set_error_rate(evaluation.error_rate);
        response->set_count(evaluation.count);
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<v1::TrainResponse>* MlpdService::Train(
    grpc::CallbackServerContext* context, const v1::TrainRequest* request) {
  std::shared_ptr<Session> session;
  std::shared_ptr<StoredDataset> train;
  std::shared_ptr<StoredDataset> eval;
  auto validate = [&]() -> absl::Status {
    MLPD_RETURN_IF_ERROR(Admit(*context));
    MLPD_ASSIGN_OR_RETURN(session, FindSession(request->name()));
    MLPD_RETURN_IF_ERROR(ValidateName("dataset", request->dataset()));
    MLPD_ASSIGN_OR_RETURN(train, datasets_.Find(request->dataset()));
    if (!request->eval_dataset().empty()) {
      MLPD_RETURN_IF_ERROR(ValidateName("eval_dataset", request->eval_dataset()));
      MLPD_ASSIGN_OR_RETURN(eval, datasets_.Find(request->eval_dataset()));
      MLPD_RETURN_IF_ERROR(
          CheckBatch("eval_dataset", DatasetView(eval->data), session->spec, true));
    }
    if (request->epochs() < 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("epochs is %d; expected >= 1", request->epochs()));
    }
    if (request->batch_size() < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "batch_size is %d; expected >= 1, or 0 for the full dataset", request->batch_size()));
    }
    if (request->report_every_steps() < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("report_every_steps is %d; expected >= 1, or 0 for once per epoch",
                          request->report_every_steps()));
    }
    MLPD_RETURN_IF_ERROR(CheckBatch("dataset", DatasetView(train->data), session->spec, false));
    const int64_t steps_per_epoch =
        BatchIterator::BatchesPerEpoch(train->data.rows(), request->batch_size());
    if (request->epochs() > kMaxTrainSteps / steps_per_epoch) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "epochs is %d; at %d steps per epoch that is over %d steps, expected at most %d epochs",
          request->epochs(), steps_per_epoch, kMaxTrainSteps, kMaxTrainSteps / steps_per_epoch));
    }
    // Every row is checked before the first step, so a bad value deep in the dataset refuses
    // the call instead of stopping it with steps applied.
    MLPD_RETURN_IF_ERROR(CheckAllTargets("dataset", *train, session->spec, TargetUse::kTraining));
    if (eval != nullptr) {
      MLPD_RETURN_IF_ERROR(
          CheckAllTargets("eval_dataset", *eval, session->spec, TargetUse::kEvaluation));
    }
    return absl::OkStatus();
  };
  const absl::Status status = validate();
  if (!status.ok()) {
    // A stream that fails before it starts still needs a reactor to carry the status.
    class Refusal : public grpc::ServerWriteReactor<v1::TrainResponse> {
     public:
      explicit Refusal(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
      void OnDone() override { delete this; }
    };
    LogFailure("Train", request->name(), status);
    return new Refusal(status);
  }
  auto* reactor =
      new TrainReactor(this, std::move(session), std::move(train), std::move(eval), *request);
  reactor->Start();
  return reactor;
}

// ---------------------------------------------------------------------------------------------
// Datasets.

grpc::ServerReadReactor<v1::UploadDatasetRequest>* MlpdService::UploadDataset(
    grpc::CallbackServerContext* context, v1::DatasetInfo* response) {
  const absl::Status status = Admit(*context);
  if (!status.ok()) {
    class Refusal : public grpc::ServerReadReactor<v1::UploadDatasetRequest> {
     public:
      explicit Refusal(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
      void OnDone() override { delete this; }
    };
    LogFailure("UploadDataset", "", status);
    return new Refusal(status);
  }
  return new UploadReactor(this, context, response);
}

grpc::ServerUnaryReactor* MlpdService::GetDataset(grpc::CallbackServerContext* context,
                                                  const v1::GetDatasetRequest* request,
                                                  v1::DatasetInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  if (status.ok()) status = ValidateName("name", request->name());
  if (status.ok()) {
    absl::StatusOr<std::shared_ptr<StoredDataset>> dataset = datasets_.Find(request->name());
    status = dataset.status();
    if (status.ok()) FillDatasetInfo(**dataset, response);
  }
  Finish(reactor, "GetDataset", request->name(), status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::ListDatasets(grpc::CallbackServerContext* context,
                                                    const v1::ListDatasetsRequest* request,
                                                    v1::ListDatasetsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  std::vector<std::shared_ptr<StoredDataset>> page;
  if (status.ok()) {
    status = datasets_.Page(request->page_size(), request->page_token(), &page,
                            response->mutable_next_page_token());
  }
  if (status.ok()) {
    for (const auto& dataset : page) FillDatasetInfo(*dataset, response->add_datasets());
  }
  Finish(reactor, "ListDatasets", "", status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::DeleteDataset(grpc::CallbackServerContext* context,
                                                     const v1::DeleteDatasetRequest* request,
                                                     v1::DeleteDatasetResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  if (status.ok()) status = ValidateName("name", request->name());
  absl::StatusOr<std::shared_ptr<StoredDataset>> dataset;
  if (status.ok()) {
    dataset = datasets_.Find(request->name());
    status = dataset.status();
  }
  if (!status.ok()) {
    Finish(reactor, "DeleteDataset", request->name(), status);
    return reactor;
  }
  // The dataset leaves memory once its file is gone (see RemoveThenForget).
  auto forget = [this, found = *dataset]() -> absl::Status {
    if (!datasets_.RemoveIf(found->name, found.get())) {
      return absl::NotFoundError(absl::StrFormat("dataset \"%s\" does not exist", found->name));
    }
    // A Train still reading it keeps its copy alive; the memory is released when that ends.
    dataset_bytes_ -= found->data.ByteSize();
    return absl::OkStatus();
  };
  RemoveThenForget(
      reactor, "DeleteDataset", request->name(),
      [name = request->name()](SessionStore& store) { return store.DeleteDataset(name); },
      std::move(forget));
  return reactor;
}

// ---------------------------------------------------------------------------------------------
// Models.

grpc::ServerUnaryReactor* MlpdService::ExportSession(grpc::CallbackServerContext* context,
                                                     const v1::ExportSessionRequest* request,
                                                     v1::ExportSessionResponse* response) {
  absl::Status precheck = Admit(*context);
  const v1::ExportFormat format = request->format();
  if (precheck.ok() && format != v1::NATIVE && format != v1::ONNX) {
    precheck = absl::InvalidArgumentError(
        absl::StrFormat("format is %s; expected NATIVE or ONNX", FormatName(format)));
  }
  return RunOnSession(
      context, "ExportSession", request->name(), precheck, [format, response](Session& session) {
        response->set_format(format);
        if (format == v1::ONNX) {
          MLPD_ASSIGN_OR_RETURN(*response->mutable_data(), ExportOnnx(*session.model));
          return absl::OkStatus();
        }
        MLPD_ASSIGN_OR_RETURN(v1::Checkpoint checkpoint, MakeCheckpoint(*session.model));
        if (!checkpoint.SerializeToString(response->mutable_data())) {
          return absl::InternalError("the checkpoint did not serialize");
        }
        return absl::OkStatus();
      });
}

}  // namespace mlpd
