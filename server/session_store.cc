#include "server/session_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/checkpoint.h"
#include "core/status_macros.h"
#include "server/crc32c.h"
#include "server/log.h"
#include "server/names.h"

// Floats and integers are written as they lie in memory; the format is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the data dir format is little-endian");

namespace mlpd {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[4] = {'M', 'L', 'P', 'D'};
constexpr size_t kHeaderSize = 32;
constexpr size_t kDatasetPrefixSize = 48;

enum class PayloadKind : uint32_t { kSession = 1, kDataset = 2 };

constexpr absl::string_view kSessionsFolder = "sessions";
constexpr absl::string_view kDatasetsFolder = "datasets";
constexpr absl::string_view kQuarantineFolder = "quarantine";
constexpr absl::string_view kLockFile = "lock";
constexpr absl::string_view kSessionSuffix = ".ckpt";
constexpr absl::string_view kDatasetSuffix = ".data";
// Temporary files are "NAME.ckpt.tmp-PID-N": they never end in a data suffix.
constexpr absl::string_view kTempMarker = ".tmp-";

absl::string_view PayloadKindName(uint32_t kind) {
  switch (kind) {
    case static_cast<uint32_t>(PayloadKind::kSession):
      return "session";
    case static_cast<uint32_t>(PayloadKind::kDataset):
      return "dataset";
    default:
      return "unknown";
  }
}

void PutU32(uint32_t value, char* out) { std::memcpy(out, &value, sizeof(value)); }
void PutU64(uint64_t value, char* out) { std::memcpy(out, &value, sizeof(value)); }
uint32_t GetU32(const char* in) {
  uint32_t value;
  std::memcpy(&value, in, sizeof(value));
  return value;
}
uint64_t GetU64(const char* in) {
  uint64_t value;
  std::memcpy(&value, in, sizeof(value));
  return value;
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

absl::Status ErrnoError(int error_number, absl::string_view action, const std::string& path) {
  return absl::ErrnoToStatus(error_number, absl::StrCat(action, " ", path));
}

// FileDescriptor closes its descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Release hands the descriptor to the caller, who closes it.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Close reports the error of close(), which may be the first sign of a failed write.
  int Close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

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

// SyncDirectory makes a rename or unlink inside `folder` durable.
absl::Status SyncDirectory(const std::string& folder) {
  FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(errno, "open", folder);
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, "fsync", folder);
  return absl::OkStatus();
}

// WriteFileAtomically replaces folder/file_name with header + payload pieces so that a crash
// leaves either the old file or the new one, and the new one is durable on return. A positive
// `modified_unix_ms` becomes the file's modification time.
absl::Status WriteFileAtomically(const std::string& folder, const std::string& file_name,
                                 PayloadKind kind, absl::Span<const absl::string_view> pieces,
                                 int64_t modified_unix_ms = 0) {
  static std::atomic<uint64_t> temp_counter{0};
  uint64_t length = 0;
  uint32_t crc = 0;
  for (absl::string_view piece : pieces) {
    length += piece.size();
    crc = ExtendCrc32c(crc, piece);
  }
  const std::string header = EncodeHeader(kind, length, crc);
  const std::string path = absl::StrCat(folder, "/", file_name);
  const std::string temp_path =
      absl::StrCat(path, kTempMarker, ::getpid(), "-", temp_counter.fetch_add(1));

  absl::Status status = [&]() -> absl::Status {
    FileDescriptor fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return ErrnoError(errno, "create", temp_path);
    MLPD_RETURN_IF_ERROR(WriteAll(fd.get(), header, temp_path));
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

// RemoveNamedFile durably removes data_dir/folder/NAME+suffix; OK when it does not exist.
absl::Status RemoveNamedFile(const std::string& data_dir, absl::string_view folder_name,
                             absl::string_view name, absl::string_view suffix) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  const std::string folder = absl::StrCat(data_dir, "/", folder_name);
  const std::string path = absl::StrCat(folder, "/", name, suffix);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "remove", path);
  }
  return SyncDirectory(folder);
}

// PayloadReader reads a file's payload straight into its final buffers (a dataset's floats
// land in the Dataset's vectors, with no whole-file copy), checksumming as it goes.
class PayloadReader {
 public:
  // Open checks the header and positions the reader at the payload.
  static absl::StatusOr<std::unique_ptr<PayloadReader>> Open(const std::string& path,
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

  uint64_t remaining() const { return remaining_; }

  // Read fills `size` bytes of the payload.
  absl::Status Read(void* destination, uint64_t size) {
    if (size > remaining_) {
      return absl::DataLossError(
          absl::StrFormat("the payload ends %d bytes early", size - remaining_));
    }
    MLPD_RETURN_IF_ERROR(ReadRaw(destination, size));
    crc_ = ExtendCrc32c(crc_, destination, size);
    remaining_ -= size;
    return absl::OkStatus();
  }

  // Finish checks that the whole payload was read and matches its checksum.
  absl::Status Finish() const {
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

 private:
  PayloadReader(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  absl::Status ReadRaw(void* destination, uint64_t size) {
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

  const std::string path_;
  FileDescriptor fd_;
  uint32_t expected_crc_ = 0;
  uint32_t crc_ = 0;
  uint64_t remaining_ = 0;
};

absl::StatusOr<v1::Checkpoint> DecodeSession(PayloadReader& reader) {
  if (reader.remaining() > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return absl::DataLossError(
        absl::StrFormat("the %d-byte payload is above protobuf's 2 GiB limit", reader.remaining()));
  }
  std::string payload(reader.remaining(), '\0');
  MLPD_RETURN_IF_ERROR(reader.Read(payload.data(), payload.size()));
  MLPD_RETURN_IF_ERROR(reader.Finish());
  v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(payload)) {
    return absl::DataLossError(absl::StrFormat(
        "the %d-byte payload does not parse as an mlpd.v1.Checkpoint", payload.size()));
  }
  // Restoring once proves the snapshot is usable, so the server never meets a bad one later.
  absl::StatusOr<std::unique_ptr<Model>> model = RestoreCheckpoint(checkpoint);
  if (!model.ok()) {
    return absl::DataLossError(
        absl::StrCat("the checkpoint does not restore: ", model.status().message()));
  }
  return checkpoint;
}

std::string EncodeDatasetPrefix(const Dataset& dataset) {
  std::string prefix(kDatasetPrefixSize, '\0');
  PutU64(static_cast<uint64_t>(dataset.x.rows), &prefix[0]);
  PutU64(static_cast<uint64_t>(dataset.x.cols), &prefix[8]);
  PutU64(static_cast<uint64_t>(dataset.targets.rows), &prefix[16]);
  PutU64(static_cast<uint64_t>(dataset.targets.cols), &prefix[24]);
  PutU64(static_cast<uint64_t>(dataset.labels.size()), &prefix[32]);
  PutU32(dataset.has_labels ? 1u : 0u, &prefix[40]);
  PutU32(0, &prefix[44]);
  return prefix;
}

// CheckedElementCount is rows * cols, or an error when either is negative or the product
// cannot be the size of a payload.
absl::StatusOr<uint64_t> CheckedElementCount(absl::string_view what, int64_t rows, int64_t cols) {
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 8;
  if (rows < 0 || cols < 0 || (cols != 0 && rows > kLimit / cols)) {
    return absl::DataLossError(
        absl::StrFormat("the dataset's %s shape [%d, %d] is impossible", what, rows, cols));
  }
  return static_cast<uint64_t>(rows * cols);
}

absl::StatusOr<Dataset> DecodeDataset(PayloadReader& reader) {
  if (reader.remaining() < kDatasetPrefixSize) {
    return absl::DataLossError(
        absl::StrFormat("the dataset payload is %d bytes, shorter than its %d-byte prefix",
                        reader.remaining(), kDatasetPrefixSize));
  }
  const uint64_t payload_size = reader.remaining();
  char prefix[kDatasetPrefixSize];
  MLPD_RETURN_IF_ERROR(reader.Read(prefix, sizeof(prefix)));
  const auto field = [&](size_t offset) { return static_cast<int64_t>(GetU64(&prefix[offset])); };
  Dataset dataset;
  dataset.x.rows = field(0);
  dataset.x.cols = field(8);
  dataset.targets.rows = field(16);
  dataset.targets.cols = field(24);
  const int64_t label_count = field(32);
  const uint32_t has_labels = GetU32(&prefix[40]);
  if (has_labels > 1) {
    return absl::DataLossError(absl::StrFormat("has_labels is %d, expected 0 or 1", has_labels));
  }
  dataset.has_labels = has_labels == 1;
  MLPD_ASSIGN_OR_RETURN(const uint64_t x_count,
                        CheckedElementCount("x", dataset.x.rows, dataset.x.cols));
  MLPD_ASSIGN_OR_RETURN(const uint64_t target_count,
                        CheckedElementCount("targets", dataset.targets.rows, dataset.targets.cols));
  MLPD_ASSIGN_OR_RETURN(const uint64_t labels, CheckedElementCount("labels", label_count, 1));
  // Checked before allocating, so a damaged prefix cannot ask for more memory than the file.
  const uint64_t expected = kDatasetPrefixSize + 4 * x_count + 4 * target_count + 4 * labels;
  if (expected != payload_size) {
    return absl::DataLossError(
        absl::StrFormat("the dataset's shapes need a %d-byte payload, the file holds %d bytes",
                        expected, payload_size));
  }
  dataset.x.data.resize(x_count);
  MLPD_RETURN_IF_ERROR(reader.Read(dataset.x.data.data(), 4 * x_count));
  dataset.targets.data.resize(target_count);
  MLPD_RETURN_IF_ERROR(reader.Read(dataset.targets.data.data(), 4 * target_count));
  dataset.labels.resize(labels);
  MLPD_RETURN_IF_ERROR(reader.Read(dataset.labels.data(), 4 * labels));
  MLPD_RETURN_IF_ERROR(reader.Finish());
  absl::Status valid = dataset.Validate();
  if (!valid.ok()) {
    return absl::DataLossError(absl::StrCat("the dataset is invalid: ", valid.message()));
  }
  return dataset;
}

// LoadPayload reads and checks a file, decodes its payload and appends it under `name`.
template <typename Decode, typename Value>
absl::Status LoadPayload(const std::string& path, PayloadKind kind, Decode decode, std::string name,
                         std::vector<std::pair<std::string, Value>>* loaded) {
  MLPD_ASSIGN_OR_RETURN(std::unique_ptr<PayloadReader> reader, PayloadReader::Open(path, kind));
  MLPD_ASSIGN_OR_RETURN(Value value, decode(*reader));
  loaded->emplace_back(std::move(name), std::move(value));
  return absl::OkStatus();
}

// QuarantineName is a name under quarantine/ that no earlier quarantined file has.
std::string QuarantineName(const std::string& quarantine_folder, const std::string& file_name) {
  const std::string stamp = absl::FormatTime("%Y%m%dT%H%M%E6SZ", absl::Now(), absl::UTCTimeZone());
  std::string candidate = absl::StrCat(file_name, ".", stamp);
  for (int attempt = 1; fs::exists(absl::StrCat(quarantine_folder, "/", candidate)); ++attempt) {
    candidate = absl::StrCat(file_name, ".", stamp, "-", attempt);
  }
  return candidate;
}

}  // namespace

SessionStore::SessionStore(std::string data_dir) : data_dir_(std::move(data_dir)) {}

int64_t SessionStore::DatasetCreatedUnixMs(absl::string_view name) const {
  struct stat info {};
  if (::stat(DatasetPath(name).c_str(), &info) != 0) return 0;
  return int64_t{info.st_mtim.tv_sec} * 1000 + info.st_mtim.tv_nsec / 1000000;
}

SessionStore::~SessionStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // Closing the file releases the flock.
}

std::string SessionStore::SessionPath(absl::string_view name) const {
  return absl::StrCat(data_dir_, "/", kSessionsFolder, "/", name, kSessionSuffix);
}

std::string SessionStore::DatasetPath(absl::string_view name) const {
  return absl::StrCat(data_dir_, "/", kDatasetsFolder, "/", name, kDatasetSuffix);
}

absl::Status SessionStore::Open() {
  if (data_dir_.empty()) return absl::InvalidArgumentError("the data dir path is empty");
  for (absl::string_view folder : {kSessionsFolder, kDatasetsFolder, kQuarantineFolder}) {
    const std::string path = absl::StrCat(data_dir_, "/", folder);
    std::error_code error;
    fs::create_directories(path, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrFormat("cannot create the data dir folder %s: %s", path, error.message()));
    }
    if (!fs::is_directory(path, error)) {
      return absl::FailedPreconditionError(
          absl::StrFormat("the data dir path %s is not a directory", path));
    }
  }
  MLPD_RETURN_IF_ERROR(Lock());
  return SyncDirectory(data_dir_);
}

absl::Status SessionStore::Lock() {
  if (lock_fd_ >= 0) return absl::OkStatus();
  const std::string path = absl::StrCat(data_dir_, "/", kLockFile);
  FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoError(errno, "open the data dir lock", path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoError(errno, "lock the data dir with", path);
    char holder[32] = {};
    const ssize_t got = ::pread(fd.get(), holder, sizeof(holder) - 1, 0);
    const std::string pid(holder, got > 0 ? static_cast<size_t>(got) : 0);
    return absl::FailedPreconditionError(absl::StrFormat(
        "the data dir %s is in use by another mlpd (pid %s, holding %s); two servers on one "
        "dir would overwrite each other's snapshots",
        data_dir_, pid.empty() ? "unknown" : std::string(absl::StripAsciiWhitespace(pid)), path));
  }
  // Record the owner for the message above; the lock, not this content, is what counts.
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return ErrnoError(errno, "write the owner's pid to", path);
  }
  lock_fd_ = fd.Release();
  return absl::OkStatus();
}

absl::StatusOr<SessionStore::Contents> SessionStore::LoadAll() {
  Contents contents;
  const std::string quarantine_folder = absl::StrCat(data_dir_, "/", kQuarantineFolder);

  // Quarantine moves a file that does not load out of the way, logs and records why.
  const auto quarantine = [&](absl::string_view folder_name, const std::string& file_name,
                              absl::string_view reason) -> absl::Status {
    const std::string folder = absl::StrCat(data_dir_, "/", folder_name);
    const std::string target = QuarantineName(quarantine_folder, file_name);
    const std::string from = absl::StrCat(folder, "/", file_name);
    const std::string to = absl::StrCat(quarantine_folder, "/", target);
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError(errno, "quarantine " + from + " as", to);
    }
    MLPD_RETURN_IF_ERROR(SyncDirectory(quarantine_folder));
    MLPD_RETURN_IF_ERROR(SyncDirectory(folder));
    LogLine(absl::StrFormat("quarantined %s/%s as %s/%s: %s", folder_name, file_name,
                            kQuarantineFolder, target, reason));
    contents.quarantined.push_back(absl::StrCat(folder_name, "/", file_name, ": ", reason));
    return absl::OkStatus();
  };

  // LoadFolder calls `load(name, path)` for each NAME+suffix file in the folder, sorted by name.
  const auto load_folder = [&](absl::string_view folder_name, absl::string_view suffix,
                               const auto& load) -> absl::Status {
    const std::string folder = absl::StrCat(data_dir_, "/", folder_name);
    std::vector<std::string> file_names;
    std::error_code error;
    for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
      file_names.push_back(it->path().filename().string());
    }
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrFormat("cannot list %s: %s", folder, error.message()));
    }
    std::sort(file_names.begin(), file_names.end());
    bool removed_temp = false;
    for (const std::string& file_name : file_names) {
      const std::string path = absl::StrCat(folder, "/", file_name);
      if (!absl::EndsWith(file_name, suffix)) {
        if (absl::StrContains(file_name, absl::StrCat(suffix, kTempMarker))) {
          // A save interrupted by a crash; the previous complete file (if any) is intact.
          if (::unlink(path.c_str()) != 0) return ErrnoError(errno, "remove", path);
          removed_temp = true;
          continue;
        }
        MLPD_RETURN_IF_ERROR(quarantine(folder_name, file_name,
                                        absl::StrCat("the file name does not end in ", suffix)));
        continue;
      }
      const absl::string_view name =
          absl::string_view(file_name).substr(0, file_name.size() - suffix.size());
      absl::Status status = ValidateName("the file's name", name);
      if (status.ok() && !fs::is_regular_file(path, error)) {
        status = absl::DataLossError("not a regular file");
      }
      if (status.ok()) status = load(std::string(name), path);
      if (!status.ok()) MLPD_RETURN_IF_ERROR(quarantine(folder_name, file_name, status.message()));
    }
    if (removed_temp) MLPD_RETURN_IF_ERROR(SyncDirectory(folder));
    return absl::OkStatus();
  };

  MLPD_RETURN_IF_ERROR(
      load_folder(kSessionsFolder, kSessionSuffix, [&](std::string name, const std::string& path) {
        return LoadPayload(path, PayloadKind::kSession, DecodeSession, name, &contents.sessions);
      }));
  MLPD_RETURN_IF_ERROR(
      load_folder(kDatasetsFolder, kDatasetSuffix, [&](std::string name, const std::string& path) {
        return LoadPayload(path, PayloadKind::kDataset, DecodeDataset, name, &contents.datasets);
      }));
  return contents;
}

absl::Status SessionStore::SaveSession(absl::string_view name, const v1::Checkpoint& checkpoint) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
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
  absl::Status status =
      WriteFileAtomically(absl::StrCat(data_dir_, "/", kSessionsFolder),
                          absl::StrCat(name, kSessionSuffix), PayloadKind::kSession, pieces);
  if (buffer.capacity() > kRetainedBufferBytes) std::string().swap(buffer);
  return status;
}

absl::Status SessionStore::DeleteSession(absl::string_view name) {
  return RemoveNamedFile(data_dir_, kSessionsFolder, name, kSessionSuffix);
}

absl::Status SessionStore::SaveDataset(absl::string_view name, const Dataset& dataset,
                                       int64_t create_time_unix_ms) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  // The prefix must describe exactly the bytes that follow it.
  const auto check = [&](absl::string_view what, size_t size, int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0 || size != static_cast<size_t>(rows) * static_cast<size_t>(cols)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("dataset %s: %s holds %d values, its shape [%d, %d] needs %d", name, what,
                          size, rows, cols, rows * cols));
    }
    return absl::OkStatus();
  };
  MLPD_RETURN_IF_ERROR(check("x", dataset.x.data.size(), dataset.x.rows, dataset.x.cols));
  MLPD_RETURN_IF_ERROR(
      check("targets", dataset.targets.data.size(), dataset.targets.rows, dataset.targets.cols));
  const std::string prefix = EncodeDatasetPrefix(dataset);
  const auto bytes_of = [](const auto& values) {
    return absl::string_view(reinterpret_cast<const char*>(values.data()),
                             values.size() * sizeof(values[0]));
  };
  const absl::string_view pieces[] = {prefix, bytes_of(dataset.x.data),
                                      bytes_of(dataset.targets.data), bytes_of(dataset.labels)};
  return WriteFileAtomically(absl::StrCat(data_dir_, "/", kDatasetsFolder),
                             absl::StrCat(name, kDatasetSuffix), PayloadKind::kDataset, pieces,
                             create_time_unix_ms);
}

absl::Status SessionStore::DeleteDataset(absl::string_view name) {
  return RemoveNamedFile(data_dir_, kDatasetsFolder, name, kDatasetSuffix);
}

}  // namespace mlpd
