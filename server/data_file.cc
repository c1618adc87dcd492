#include "server/data_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/crc32c.h"

// Floats and integers are written as they lie in memory; the format is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the data dir format is little-endian");

namespace mlpd {
namespace {

constexpr char kMagic[4] = {'M', 'L', 'P', 'D'};
constexpr size_t kHeaderSize = 32;

absl::string_view PayloadKindName(uint32_t kind) {
  switch (kind) {
    case static_cast<uint32_t>(PayloadKind::kSession):
      return "session";
    case static_cast<uint32_t>(PayloadKind::kDataset):
      return "dataset";
    case static_cast<uint32_t>(PayloadKind::kJobBeforeApi1):
      return "job record format 1, from before API 1.0, no longer read";
    case static_cast<uint32_t>(PayloadKind::kJob):
      return "job record format 2";
    case static_cast<uint32_t>(PayloadKind::kJobBest):
      return "job best parameters";
    default:
      return "unknown";
  }
}

std::string EncodeHeader(PayloadKind kind, uint64_t payload_length, uint32_t payload_crc) {
  std::string header(kHeaderSize, '\0');
  std::memcpy(header.data(), kMagic, sizeof(kMagic));
  PutU32(kStoreFormatVersion, &header[4]);
  PutU32(static_cast<uint32_t>(kind), &header[8]);
  PutU32(0, &header[12]);
  PutU64(payload_length, &header[16]);
  PutU32(payload_crc, &header[24]);
  PutU32(Crc32c(absl::string_view(header.data(), 28)), &header[28]);
  return header;
}

// CheckHeader checks the first bytes of a file of `file_size` bytes (all of them when it is
// shorter than a header) and returns the payload's announced checksum, or DATA_LOSS saying why
// the file is unusable.
absl::StatusOr<uint32_t> CheckHeader(absl::string_view header, uint64_t file_size,
                                     PayloadKind expected) {
  if (file_size == 0) return absl::DataLossError("the file is empty");
  if (header.size() < kHeaderSize) {
    return absl::DataLossError(absl::StrFormat(
        "the file is %d bytes, shorter than the %d-byte header", file_size, kHeaderSize));
  }
  if (std::memcmp(header.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrFormat("the magic is \"%s\", expected \"MLPD\"",
                                               absl::CHexEscape(header.substr(0, 4))));
  }
  // The version is checked before the header checksum: a newer build may lay the header out
  // differently, and "wrong version" is the more useful reason then.
  const uint32_t version = GetU32(&header[4]);
  if (version != kStoreFormatVersion) {
    return absl::DataLossError(absl::StrFormat("the format version is %d, this build reads %d",
                                               version, kStoreFormatVersion));
  }
  const uint32_t header_crc = GetU32(&header[28]);
  const uint32_t computed_header_crc = Crc32c(header.substr(0, 28));
  if (header_crc != computed_header_crc) {
    return absl::DataLossError(
        absl::StrFormat("the header checksum is 0x%08x, the header's bytes give 0x%08x", header_crc,
                        computed_header_crc));
  }
  const uint32_t kind = GetU32(&header[8]);
  if (kind != static_cast<uint32_t>(expected)) {
    return absl::DataLossError(absl::StrFormat(
        "the payload kind is %d (%s), expected %d (%s)", kind, PayloadKindName(kind),
        static_cast<uint32_t>(expected), PayloadKindName(static_cast<uint32_t>(expected))));
  }
  const uint64_t length = GetU64(&header[16]);
  const uint64_t actual = file_size - kHeaderSize;
  if (length != actual) {
    return absl::DataLossError(absl::StrFormat(
        "the header announces a %d-byte payload, the file holds %d bytes after the header", length,
        actual));
  }
  return GetU32(&header[24]);
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "write", path);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoError(int error_number, absl::string_view action, const std::string& path) {
  return absl::ErrnoToStatus(error_number, absl::StrCat(action, " ", path));
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

int FileDescriptor::Close() {
  const int result = ::close(fd_);
  fd_ = -1;
  return result;
}

absl::Status SyncDirectory(const std::string& folder) {
  FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(errno, "open", folder);
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, "fsync", folder);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& folder, const std::string& file_name,
                                 PayloadKind kind, absl::Span<const absl::string_view> pieces,
                                 int64_t modified_unix_ms) {
  uint64_t length = 0;
  uint32_t crc = 0;
  for (absl::string_view piece : pieces) {
    length += piece.size();
    crc = ExtendCrc32c(crc, piece);
  }
  const std::string header = EncodeHeader(kind, length, crc);
  std::vector<absl::string_view> file = {header};
  file.insert(file.end(), pieces.begin(), pieces.end());
  return WriteRawFileAtomically(folder, file_name, file, modified_unix_ms);
}

absl::Status WriteRawFileAtomically(const std::string& folder, const std::string& file_name,
                                    absl::Span<const absl::string_view> pieces,
                                    int64_t modified_unix_ms) {
  static std::atomic<uint64_t> temp_counter{0};
  const std::string path = absl::StrCat(folder, "/", file_name);
  const std::string temp_path =
      absl::StrCat(path, kTempMarker, ::getpid(), "-", temp_counter.fetch_add(1));

  absl::Status status = [&]() -> absl::Status {
    FileDescriptor fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return ErrnoError(errno, "create", temp_path);
    for (absl::string_view piece : pieces) {
      MLPD_RETURN_IF_ERROR(WriteAll(fd.get(), piece, temp_path));
    }
    if (modified_unix_ms > 0) {
      const timespec modified = {static_cast<time_t>(modified_unix_ms / 1000),
                                 static_cast<long>(modified_unix_ms % 1000) * 1000000};
      const timespec times[2] = {modified, modified};
      if (::futimens(fd.get(), times) != 0) return ErrnoError(errno, "set the times of", temp_path);
    }
    if (::fdatasync(fd.get()) != 0) return ErrnoError(errno, "fdatasync", temp_path);
    if (fd.Close() != 0) return ErrnoError(errno, "close", temp_path);
    if (::rename(temp_path.c_str(), path.c_str()) != 0) {
      return ErrnoError(errno, "rename to " + path, temp_path);
    }
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    ::unlink(temp_path.c_str());
    return status;
  }
  return SyncDirectory(folder);
}

absl::Status PrepareFolder(const std::string& folder, absl::string_view what) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", what, " ", folder, ": ", error.message()));
  }
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (absl::StrContains(entry.path().filename().string(), kTempMarker)) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot read ", what, " ", folder, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadPayload(const std::string& path, PayloadKind kind) {
  MLPD_ASSIGN_OR_RETURN(std::unique_ptr<PayloadReader> reader, PayloadReader::Open(path, kind));
  std::string payload(reader->remaining(), '\0');
  MLPD_RETURN_IF_ERROR(reader->Read(payload.data(), payload.size()));
  MLPD_RETURN_IF_ERROR(reader->Finish());
  return payload;
}

absl::Status RemoveFileDurably(const std::string& folder, const std::string& file_name) {
  const std::string path = absl::StrCat(folder, "/", file_name);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "remove", path);
  }
  return SyncDirectory(folder);
}

absl::StatusOr<std::unique_ptr<PayloadReader>> PayloadReader::Open(const std::string& path,
                                                                   PayloadKind kind) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", path);
  auto reader = std::unique_ptr<PayloadReader>(new PayloadReader(path, fd));
  struct stat info;
  if (::fstat(reader->fd_.get(), &info) != 0) return ErrnoError(errno, "stat", path);
  const uint64_t file_size = static_cast<uint64_t>(info.st_size);
  std::string header(std::min<uint64_t>(file_size, kHeaderSize), '\0');
  MLPD_RETURN_IF_ERROR(reader->ReadRaw(header.data(), header.size()));
  MLPD_ASSIGN_OR_RETURN(reader->expected_crc_, CheckHeader(header, file_size, kind));
  reader->remaining_ = file_size - kHeaderSize;
  return reader;
}

absl::Status PayloadReader::Read(void* destination, uint64_t size) {
  if (size > remaining_) {
    return absl::DataLossError(
        absl::StrFormat("the payload ends %d bytes early", size - remaining_));
  }
  MLPD_RETURN_IF_ERROR(ReadRaw(destination, size));
  crc_ = ExtendCrc32c(crc_, destination, size);
  remaining_ -= size;
  return absl::OkStatus();
}

absl::Status PayloadReader::Finish() const {
  if (remaining_ != 0) {
    return absl::DataLossError(
        absl::StrFormat("%d bytes follow the end of the payload's content", remaining_));
  }
  if (crc_ != expected_crc_) {
    return absl::DataLossError(absl::StrFormat(
        "the payload checksum is 0x%08x, the payload's bytes give 0x%08x", expected_crc_, crc_));
  }
  return absl::OkStatus();
}

absl::Status PayloadReader::ReadRaw(void* destination, uint64_t size) {
  auto* bytes = static_cast<char*>(destination);
  while (size > 0) {
    const ssize_t got = ::read(fd_.get(), bytes, size);
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read", path_);
    }
    if (got == 0) return absl::DataLossError("the file shrank while it was read");
    bytes += got;
    size -= static_cast<uint64_t>(got);
  }
  return absl::OkStatus();
}

}  // namespace mlpd
