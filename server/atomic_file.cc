#include "server/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mlpd {
namespace {

constexpr absl::string_view kTempMarker = ".tmp-";

absl::Status ErrnoError(absl::string_view action, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(action, " ", path));
}

std::string FolderOf(const std::string& path) {
  const std::string folder = std::filesystem::path(path).parent_path().string();
  return folder.empty() ? "." : folder;
}

absl::Status SyncFolder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", folder);
  const bool synced = ::fsync(fd) == 0;
  absl::Status status = synced ? absl::OkStatus() : ErrnoError("fsync", folder);
  ::close(fd);
  return status;
}

// WriteAndSync writes `contents` to a new file at `path` and fsyncs it.
absl::Status WriteAndSync(const std::string& path, absl::string_view contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("create", path);
  absl::Status status;
  while (!contents.empty() && status.ok()) {
    const ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0 && errno != EINTR) status = ErrnoError("write", path);
    if (written > 0) contents.remove_prefix(static_cast<size_t>(written));
  }
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync", path);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("close", path);
  return status;
}

}  // namespace

absl::Status ReplaceFileAtomically(const std::string& path, absl::string_view contents) {
  static std::atomic<uint64_t> counter{0};
  const std::string temp_path =
      absl::StrCat(path, kTempMarker, ::getpid(), "-", counter.fetch_add(1));
  absl::Status status = WriteAndSync(temp_path, contents);
  if (status.ok() && ::rename(temp_path.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename to", path);
  }
  if (!status.ok()) {
    ::unlink(temp_path.c_str());
    return status;
  }
  return SyncFolder(FolderOf(path));
}

absl::Status RemoveFileDurably(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError("remove", path);
  }
  return SyncFolder(FolderOf(path));
}

absl::Status OpenFolder(const std::string& folder, absl::string_view what) {
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
  return absl::OkStatus();
}

}  // namespace mlpd
