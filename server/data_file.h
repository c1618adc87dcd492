// data_file.h: the format of the data dir's files: a checked header, a payload, and writes
// that a crash cannot tear.
//
// File format (all integers little-endian), 32-byte header then the payload:
//   0  "MLPD"                 magic
//   4  uint32 format version  kStoreFormatVersion; any other value is refused
//   8  uint32 payload kind    1 = session (a serialized mlpd.v1.Checkpoint), 2 = dataset,
//                            4 = job best parameters, 5 = job record (3: refused, see below)
//  12  uint32 reserved        0
//  16  uint64 payload length  the file is exactly 32 + this many bytes
//  24  uint32 payload CRC-32C
//  28  uint32 header CRC-32C  over bytes 0..27
// The payloads are described by session_file.h and dataset_file.h.
//
// A file is written atomically (temporary file NAME.tmp-PID-N, fsync, rename, fsync of the
// directory): after a crash it is the previous complete version or the new complete one.
//
//   const absl::string_view pieces[] = {payload};
//   MLPD_RETURN_IF_ERROR(WriteFileAtomically(folder, "a.ckpt", PayloadKind::kSession, pieces));
//   MLPD_ASSIGN_OR_RETURN(auto reader, PayloadReader::Open(path, PayloadKind::kSession));
#ifndef MLPD_SERVER_DATA_FILE_H_
#define MLPD_SERVER_DATA_FILE_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace mlpd {

// kStoreFormatVersion is the file header version this build writes and the only one it reads.
inline constexpr uint32_t kStoreFormatVersion = 1;

// Temporary files are "NAME.ckpt.tmp-PID-N": they never end in a data suffix.
inline constexpr absl::string_view kTempMarker = ".tmp-";

// kJob is a serialized mlpd.v1.Job of API 1.0 (job_store.h); kJobBest a Checkpoint holding a
// job's best parameters. kJobBeforeApi1 is a job record written before API 1.0, whose progress,
// summary and evaluation fields had other numbers and types: it is never read (the kind check
// refuses it, naming it), so an old record cannot be read with other meanings.
enum class PayloadKind : uint32_t {
  kSession = 1,
  kDataset = 2,
  kJobBeforeApi1 = 3,
  kJobBest = 4,
  kJob = 5,
};

// Little-endian fields of headers and payload prefixes.
inline void PutU32(uint32_t value, char* out) { std::memcpy(out, &value, sizeof(value)); }
inline void PutU64(uint64_t value, char* out) { std::memcpy(out, &value, sizeof(value)); }
inline uint32_t GetU32(const char* in) {
  uint32_t value;
  std::memcpy(&value, in, sizeof(value));
  return value;
}
inline uint64_t GetU64(const char* in) {
  uint64_t value;
  std::memcpy(&value, in, sizeof(value));
  return value;
}

// ErrnoError is the status of a failed system call: "ACTION PATH: strerror".
absl::Status ErrnoError(int error_number, absl::string_view action, const std::string& path);

// FileDescriptor closes its descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();
  int get() const { return fd_; }
  // Release hands the descriptor to the caller, who closes it.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Close reports the error of close(), which may be the first sign of a failed write.
  int Close();

 private:
  int fd_;
};

// SyncDirectory makes a rename or unlink inside `folder` durable.
absl::Status SyncDirectory(const std::string& folder);

// WriteFileAtomically replaces folder/file_name with a header and the payload `pieces` so that
// a crash leaves either the old file or the new one, and the new one is durable on return. A
// positive `modified_unix_ms` becomes the file's modification time.
absl::Status WriteFileAtomically(const std::string& folder, const std::string& file_name,
                                 PayloadKind kind, absl::Span<const absl::string_view> pieces,
                                 int64_t modified_unix_ms = 0);

// WriteRawFileAtomically is WriteFileAtomically without the header: `pieces` are the whole
// file, for a format with its own header (an append-only log rewritten whole now and then).
absl::Status WriteRawFileAtomically(const std::string& folder, const std::string& file_name,
                                    absl::Span<const absl::string_view> pieces,
                                    int64_t modified_unix_ms = 0);

// PrepareFolder creates `folder` (and its parents) when missing and removes the temporary files
// a crash left in it. `what` names the folder in the error ("the jobs folder").
absl::Status PrepareFolder(const std::string& folder, absl::string_view what);

// ReadPayload reads a whole small file of `kind` (header and checksum checked) into a string.
absl::StatusOr<std::string> ReadPayload(const std::string& path, PayloadKind kind);

// RemoveFileDurably removes folder/file_name and syncs the folder; OK when it does not exist.
absl::Status RemoveFileDurably(const std::string& folder, const std::string& file_name);

// PayloadReader reads a file's payload straight into its final buffers (a dataset's floats
// land in the Dataset's vectors, with no whole-file copy), checksumming as it goes. Every
// problem is DATA_LOSS saying why the file is unusable.
class PayloadReader {
 public:
  // Open checks the header and positions the reader at the payload.
  static absl::StatusOr<std::unique_ptr<PayloadReader>> Open(const std::string& path,
                                                             PayloadKind kind);

  uint64_t remaining() const { return remaining_; }
  // Read fills `size` bytes of the payload.
  absl::Status Read(void* destination, uint64_t size);
  // Finish checks that the whole payload was read and matches its checksum.
  absl::Status Finish() const;

 private:
  PayloadReader(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status ReadRaw(void* destination, uint64_t size);

  const std::string path_;
  FileDescriptor fd_;
  uint32_t expected_crc_ = 0;
  uint32_t crc_ = 0;
  uint64_t remaining_ = 0;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_DATA_FILE_H_
