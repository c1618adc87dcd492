#include "server/import_reactor.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/answer.h"
#include "server/names.h"
#include "server/request_checks.h"
#include "server/wire.h"

namespace mlpd {

ImportReactor::ImportReactor(grpc::CallbackServerContext* context, int64_t max_bytes, Create create)
    : context_(context), max_bytes_(max_bytes), create_(std::move(create)) {
  StartRead(&chunk_);
}

void ImportReactor::Fail(const absl::Status& status) {
  LogFailure("ImportSession", import_.name, status);
  Finish(ToGrpcStatus(status));
}

void ImportReactor::OnReadDone(bool ok) {
  if (!ok) {
    // A client half-close completes the import; a cancelled call creates nothing.
    if (context_->IsCancelled()) {
      Fail(absl::CancelledError(absl::StrFormat(
          "the import was cancelled after %d chunks; no session was made", chunks_)));
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

void ImportReactor::OnDone() { delete this; }

absl::Status ImportReactor::Append() {
  if (chunks_ == 0) {
    MLPD_RETURN_IF_ERROR(ValidateName("name", chunk_.name()));
    import_.name = chunk_.name();
    import_.format = chunk_.format();
    MLPD_RETURN_IF_ERROR(CheckImportFormat(import_.format));
    total_bytes_ = chunk_.total_bytes();
    MLPD_RETURN_IF_ERROR(CheckImportBytes("total_bytes", total_bytes_, max_bytes_));
    import_.data.reserve(static_cast<size_t>(total_bytes_));
  } else if (!chunk_.name().empty() && chunk_.name() != import_.name) {
    return absl::InvalidArgumentError(
        absl::StrFormat("chunk %d names session \"%s\"; the import's first chunk named \"%s\"",
                        chunks_, chunk_.name(), import_.name));
  }
  const int64_t bytes = static_cast<int64_t>(import_.data.size() + chunk_.data().size());
  MLPD_RETURN_IF_ERROR(CheckImportBytes("the chunks' data", bytes, max_bytes_));
  import_.data.append(chunk_.data());
  ++chunks_;
  return absl::OkStatus();
}

void ImportReactor::Complete() {
  if (chunks_ == 0) {
    Fail(absl::InvalidArgumentError(
        "the stream had no chunks; the first chunk names the session and the format"));
    return;
  }
  const int64_t bytes = static_cast<int64_t>(import_.data.size());
  if (total_bytes_ > 0 && bytes != total_bytes_) {
    Fail(absl::InvalidArgumentError(absl::StrFormat(
        "the stream ended after %d bytes in %d chunks; its first chunk announced total_bytes %d "
        "(a chunk that could not be parsed ends a stream early); no session was made",
        bytes, chunks_, total_bytes_)));
    return;
  }
  ImportedExport whole{import_.name, import_.format, std::move(import_.data)};
  create_(std::move(whole), [this](const absl::Status& status) {
    if (!status.ok()) {
      Fail(status);
      return;
    }
    Finish(grpc::Status::OK);
  });
}

}  // namespace mlpd
