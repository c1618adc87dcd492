#include "core/input_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mlpd {

absl::StatusOr<InputFile> InputFile::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    std::string message = absl::StrCat(path, ": cannot open: ", std::strerror(error));
    return error == ENOENT ? absl::NotFoundError(message) : absl::InvalidArgumentError(message);
  }
  InputFile opened(path, file, 0);
  struct stat status;
  if (fstat(fileno(file), &status) != 0 || !S_ISREG(status.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  opened.size_ = static_cast<int64_t>(status.st_size);
  return opened;
}

absl::Status InputFile::Read(void* into, int64_t bytes) {
  if (bytes <= 0) return absl::OkStatus();
  const size_t read = std::fread(into, 1, static_cast<size_t>(bytes), file_.get());
  if (read != static_cast<size_t>(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": read of ", bytes, " bytes at offset ", offset_, " returned ", read));
  }
  offset_ += bytes;
  return absl::OkStatus();
}

absl::StatusOr<std::string> InputFile::ReadRest() {
  std::string text;
  text.resize(static_cast<size_t>(std::max<int64_t>(size_ - offset_, 0)));
  absl::Status status = Read(text.data(), static_cast<int64_t>(text.size()));
  if (!status.ok()) return status;
  return text;
}

absl::StatusOr<std::string> ReadWholeFile(absl::string_view what, const std::string& path) {
  // Checked first: reading a directory fails with a less helpful error, or not at all.
  std::error_code not_checked;
  if (std::filesystem::is_directory(path, not_checked)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", path, "\" is a directory, expected a file"));
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cannot read \"", path, "\": ", std::strerror(errno)));
  }
  std::string contents;
  char block[1 << 16];
  size_t read = 0;
  while ((read = std::fread(block, 1, sizeof(block), file.get())) > 0) contents.append(block, read);
  if (std::ferror(file.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": reading \"", path, "\" failed: ", std::strerror(errno)));
  }
  if (contents.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", path, "\" is empty (0 bytes), expected a non-empty file"));
  }
  return contents;
}

}  // namespace mlpd
