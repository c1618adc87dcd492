// input_file.h: reading files whose every failure is an absl::Status naming the path.
//
// The dataset readers read big files in a few large blocks (never byte by byte through a
// stream) through InputFile; the small files a setting names (a token, a certificate, a model
// to import) are read whole by ReadWholeFile. This is the one place that talks to the C
// library for either.
//
//   absl::StatusOr<InputFile> file = InputFile::Open(path);
//   if (!file.ok()) return file.status();
//   absl::StatusOr<std::string> text = file->ReadRest();
//
//   absl::StatusOr<std::string> bytes = ReadWholeFile("--input", path);
#ifndef MLPD_CORE_INPUT_FILE_H_
#define MLPD_CORE_INPUT_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mlpd {

class InputFile {
 public:
  // Open opens `path` for reading and measures it: NOT_FOUND when it does not exist,
  // INVALID_ARGUMENT when it cannot be opened or is not a regular file.
  [[nodiscard]] static absl::StatusOr<InputFile> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // size is the file's size in bytes when it was opened.
  int64_t size() const { return size_; }
  // offset is where the next read starts.
  int64_t offset() const { return offset_; }

  // Read reads exactly `bytes` bytes at the current offset.
  [[nodiscard]] absl::Status Read(void* into, int64_t bytes);
  // ReadRest reads from the current offset to the end of the file.
  [[nodiscard]] absl::StatusOr<std::string> ReadRest();

 private:
  struct Closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };

  InputFile(std::string path, std::FILE* file, int64_t size)
      : path_(std::move(path)), file_(file), size_(size) {}

  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
  int64_t size_ = 0;
  int64_t offset_ = 0;
};

// ReadWholeFile reads the file `path` that the setting `what` (a flag such as "--token-file")
// names, to its end (pipes such as /dev/stdin included). INVALID_ARGUMENT naming both when it
// cannot be read, is a directory or is empty, as none of those is what any setting means.
[[nodiscard]] absl::StatusOr<std::string> ReadWholeFile(absl::string_view what,
                                                        const std::string& path);

}  // namespace mlpd

#endif  // MLPD_CORE_INPUT_FILE_H_
