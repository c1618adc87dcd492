#include "server/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "server/dataset_file.h"
#include "server/log.h"
#include "server/names.h"

namespace mlpd {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kSessionsFolder = "sessions";
constexpr absl::string_view kDatasetsFolder = "datasets";
constexpr absl::string_view kQuarantineFolder = "quarantine";
constexpr absl::string_view kLockFile = "lock";

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

DataDir::DataDir(std::string path) : path_(std::move(path)) {}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // Closing the file releases the flock.
}

std::string DataDir::Folder(absl::string_view folder_name) const {
  return absl::StrCat(path_, "/", folder_name);
}

std::string DataDir::SessionPath(absl::string_view name) const {
  return absl::StrCat(Folder(kSessionsFolder), "/", name, kSessionSuffix);
}

std::string DataDir::DatasetPath(absl::string_view name) const {
  return absl::StrCat(Folder(kDatasetsFolder), "/", name, kDatasetSuffix);
}

int64_t DataDir::DatasetCreatedUnixMs(absl::string_view name) const {
  return FileModifiedUnixMs(DatasetPath(name));
}

absl::Status DataDir::Open() {
  if (path_.empty()) return absl::InvalidArgumentError("the data dir path is empty");
  for (absl::string_view folder : {kSessionsFolder, kDatasetsFolder, kQuarantineFolder}) {
    const std::string path = Folder(folder);
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
  return SyncDirectory(path_);
}

absl::Status DataDir::Lock() {
  if (lock_fd_ >= 0) return absl::OkStatus();
  const std::string path = Folder(kLockFile);
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
        path_, pid.empty() ? "unknown" : std::string(absl::StripAsciiWhitespace(pid)), path));
  }
  // Record the owner for the message above; the lock, not this content, is what counts.
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return ErrnoError(errno, "write the owner's pid to", path);
  }
  lock_fd_ = fd.Release();
  return absl::OkStatus();
}

absl::Status DataDir::Quarantine(absl::string_view folder_name, const std::string& file_name,
                                 absl::string_view reason, Contents* contents) {
  const std::string quarantine_folder = Folder(kQuarantineFolder);
  const std::string folder = Folder(folder_name);
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
  contents->quarantined.push_back(absl::StrCat(folder_name, "/", file_name, ": ", reason));
  return absl::OkStatus();
}

absl::Status DataDir::LoadFolder(absl::string_view folder_name, absl::string_view suffix,
                                 const LoadFile& load, Contents* contents) {
  const std::string folder = Folder(folder_name);
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
      MLPD_RETURN_IF_ERROR(Quarantine(folder_name, file_name,
                                      absl::StrCat("the file name does not end in ", suffix),
                                      contents));
      continue;
    }
    const absl::string_view name =
        absl::string_view(file_name).substr(0, file_name.size() - suffix.size());
    absl::Status status = ValidateName("the file's name", name);
    if (status.ok() && !fs::is_regular_file(path, error)) {
      status = absl::DataLossError("not a regular file");
    }
    if (status.ok()) status = load(std::string(name), path);
    if (!status.ok()) {
      MLPD_RETURN_IF_ERROR(Quarantine(folder_name, file_name, status.message(), contents));
    }
  }
  if (removed_temp) MLPD_RETURN_IF_ERROR(SyncDirectory(folder));
  return absl::OkStatus();
}

absl::StatusOr<DataDir::Contents> DataDir::LoadAll() {
  Contents contents;
  MLPD_RETURN_IF_ERROR(LoadFolder(
      kSessionsFolder, kSessionSuffix,
      [&](std::string name, const std::string& path) -> absl::Status {
        MLPD_ASSIGN_OR_RETURN(LoadedSession session, ReadSessionFile(path));
        contents.sessions.emplace_back(std::move(name), std::move(session));
        return absl::OkStatus();
      },
      &contents));
  MLPD_RETURN_IF_ERROR(LoadFolder(
      kDatasetsFolder, kDatasetSuffix,
      [&](std::string name, const std::string& path) -> absl::Status {
        MLPD_ASSIGN_OR_RETURN(Dataset dataset, ReadDatasetFile(path));
        contents.datasets.emplace_back(std::move(name), std::move(dataset));
        return absl::OkStatus();
      },
      &contents));
  return contents;
}

absl::Status DataDir::SaveSession(absl::string_view name, const v1::Checkpoint& checkpoint) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  return WriteSessionFile(Folder(kSessionsFolder), name, checkpoint);
}

absl::Status DataDir::DeleteSession(absl::string_view name) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  return RemoveFileDurably(Folder(kSessionsFolder), absl::StrCat(name, kSessionSuffix));
}

absl::Status DataDir::SaveDataset(absl::string_view name, const Dataset& dataset,
                                  int64_t create_time_unix_ms) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  return WriteDatasetFile(Folder(kDatasetsFolder), name, dataset, create_time_unix_ms);
}

absl::Status DataDir::DeleteDataset(absl::string_view name) {
  MLPD_RETURN_IF_ERROR(ValidateName("name", name));
  return RemoveFileDurably(Folder(kDatasetsFolder), absl::StrCat(name, kDatasetSuffix));
}

}  // namespace mlpd
