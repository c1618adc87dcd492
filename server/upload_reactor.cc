#include "server/upload_reactor.h"

#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/names.h"
#include "server/request_checks.h"
#include "server/wire.h"

namespace mlpd {

UploadReactor::UploadReactor(Datasets* datasets, grpc::CallbackServerContext* context,
                             v1::DatasetInfo* response)
    : datasets_(datasets), context_(context), response_(response) {
  dataset_ = std::make_shared<StoredDataset>();
  StartRead(&chunk_);
}

void UploadReactor::Fail(const absl::Status& status) {
  LogFailure("UploadDataset", dataset_->name, status);
  // Give the budget back before answering: the caller may upload again the moment it hears.
  ReleaseBudget();
  Finish(ToGrpcStatus(status));
}

void UploadReactor::OnReadDone(bool ok) {
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

void UploadReactor::OnDone() {
  ReleaseBudget();
  delete this;
}

void UploadReactor::ReleaseBudget() {
  if (registered_) return;
  datasets_->Release(reserved_);
  reserved_ = 0;
}

absl::Status UploadReactor::Append() {
  const std::string field = absl::StrFormat("chunk %d: rows", chunks_);
  if (chunks_ == 0) {
    MLPD_RETURN_IF_ERROR(ValidateName("name", chunk_.name()));
    dataset_->name = chunk_.name();
    // Refuse a taken name before any data is sent; the final registration checks again.
    if (datasets_->Exists(chunk_.name())) {
      return absl::AlreadyExistsError(
          absl::StrFormat("dataset \"%s\" already exists", chunk_.name()));
    }
    MLPD_RETURN_IF_ERROR(CheckFirstChunk(chunk_));
    total_rows_ = chunk_.total_rows();
  } else {
    MLPD_RETURN_IF_ERROR(CheckChunkName(chunks_, chunk_, dataset_->name));
  }
  MLPD_ASSIGN_OR_RETURN(BatchView rows, ViewBatch(field, chunk_.rows()));
  Dataset& data = dataset_->data;
  if (chunks_ == 0) {
    data.has_labels = rows.y.has_labels();
    data.x.cols = rows.x.cols;
    data.targets.cols = data.has_labels ? 0 : rows.y.values.cols;
  } else {
    MLPD_RETURN_IF_ERROR(CheckChunkShape(field, rows, data));
  }
  const int64_t width = rows.x.cols + (data.has_labels ? 1 : data.targets.cols);
  const int64_t bytes = rows.x.rows * width * 4;
  reserved_ += bytes;
  MLPD_RETURN_IF_ERROR(datasets_->Reserve(bytes));
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

void UploadReactor::Complete() {
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
  // The registry holds the bytes from here on; a failed registration hands them back.
  registered_ = true;
  datasets_->Register(dataset_, [this](const absl::Status& status, bool kept) {
    registered_ = kept;
    if (!status.ok()) {
      Fail(status);
      return;
    }
    FillDatasetInfo(*dataset_, response_);
    Finish(grpc::Status::OK);
  });
}

}  // namespace mlpd
