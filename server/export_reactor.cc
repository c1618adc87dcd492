#include "server/export_reactor.h"

#include <algorithm>
#include <utility>

#include "server/answer.h"
#include "server/wire.h"

namespace mlpd {

ExportReactor::ExportReactor(std::string name, v1::ExportFormat format)
    : name_(std::move(name)), format_(format) {}

void ExportReactor::Send(const absl::Status& status, std::string bytes) {
  if (!status.ok()) {
    LogFailure("ExportSession", name_, status);
    Finish(ToGrpcStatus(status));
    return;
  }
  bytes_ = std::move(bytes);
  WriteNext();
}

void ExportReactor::OnWriteDone(bool ok) {
  if (!ok) {
    // The caller went away (cancelled, past its deadline, disconnected): nothing to answer.
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the export's stream was cut short"));
    return;
  }
  WriteNext();
}

void ExportReactor::OnDone() { delete this; }

void ExportReactor::WriteNext() {
  const int64_t size = static_cast<int64_t>(bytes_.size());
  // An empty export still sends its first chunk, with the format and total_bytes 0.
  if (sent_first_ && offset_ >= size) {
    Finish(grpc::Status::OK);
    return;
  }
  chunk_.Clear();
  if (!sent_first_) {
    chunk_.set_format(format_);
    chunk_.set_total_bytes(size);
    sent_first_ = true;
  }
  const int64_t length = std::min(kExportChunkBytes, size - offset_);
  chunk_.mutable_data()->assign(bytes_, static_cast<size_t>(offset_), static_cast<size_t>(length));
  offset_ += length;
  StartWrite(&chunk_);
}

}  // namespace mlpd
