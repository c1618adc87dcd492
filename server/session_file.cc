#include "server/session_file.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/checkpoint.h"
#include "core/status_macros.h"
#include "server/data_file.h"

namespace mlpd {

absl::Status WriteSessionFile(const std::string& folder, absl::string_view name,
                              const v1::Checkpoint& checkpoint) {
  // Each thread keeps its buffer: a fresh multi-megabyte string would be page-faulted in on
  // every snapshot, which costs more than the serialization itself on this kind of VM. Only
  // buffers up to kRetainedBufferBytes are kept, so one huge session does not pin its size.
  constexpr size_t kRetainedBufferBytes = size_t{64} << 20;
  thread_local std::string buffer;
  const size_t size = checkpoint.ByteSizeLong();
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the checkpoint of session %s is %d bytes, above protobuf's 2 GiB limit", name, size));
  }
  buffer.resize(size);
  checkpoint.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(buffer.data()));
  const absl::string_view pieces[] = {buffer};
  absl::Status status = WriteFileAtomically(folder, absl::StrCat(name, kSessionSuffix),
                                            PayloadKind::kSession, pieces);
  if (buffer.capacity() > kRetainedBufferBytes) std::string().swap(buffer);
  return status;
}

absl::StatusOr<LoadedSession> ReadSessionFile(const std::string& path) {
  MLPD_ASSIGN_OR_RETURN(std::unique_ptr<PayloadReader> reader,
                        PayloadReader::Open(path, PayloadKind::kSession));
  if (reader->remaining() > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return absl::DataLossError(absl::StrFormat(
        "the %d-byte payload is above protobuf's 2 GiB limit", reader->remaining()));
  }
  std::string payload(reader->remaining(), '\0');
  MLPD_RETURN_IF_ERROR(reader->Read(payload.data(), payload.size()));
  MLPD_RETURN_IF_ERROR(reader->Finish());
  v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(payload)) {
    return absl::DataLossError(absl::StrFormat(
        "the %d-byte payload does not parse as an mlpd.v1.Checkpoint", payload.size()));
  }
  std::string().swap(payload);  // The parsed checkpoint holds the parameters now.
  LoadedSession loaded;
  loaded.create_time_unix_ms = checkpoint.create_time_unix_ms();
  loaded.update_time_unix_ms = checkpoint.update_time_unix_ms();
  absl::StatusOr<std::unique_ptr<Model>> model = RestoreCheckpoint(checkpoint);
  if (!model.ok()) {
    return absl::DataLossError(
        absl::StrCat("the checkpoint does not restore: ", model.status().message()));
  }
  loaded.model = *std::move(model);
  return loaded;
}

}  // namespace mlpd
