// fuzz_input.h: helpers the fuzz targets share to hand their bytes to file-based parsers.
//
// Some parsers of outside input only read files (IDX images, the data dir). MemoryFile puts the
// fuzzer's bytes in an anonymous in-memory file and names it by /proc/self/fd/N, so the real
// reader runs on them without touching the disk.
//
//   MemoryFile file(absl::string_view(reinterpret_cast<const char*>(data), size));
//   absl::StatusOr<IdxArray> array = ReadIdxFile(file.path());
#ifndef MLPD_TESTS_FUZZ_FUZZ_INPUT_H_
#define MLPD_TESTS_FUZZ_FUZZ_INPUT_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mlpd::fuzz {

// MemoryFile is an anonymous in-memory file holding `bytes`, readable at path().
class MemoryFile {
 public:
  explicit MemoryFile(absl::string_view bytes) : fd_(memfd_create("fuzz-input", 0)) {
    if (fd_ < 0) std::abort();
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t got = ::write(fd_, bytes.data() + written, bytes.size() - written);
      if (got <= 0) std::abort();
      written += static_cast<size_t>(got);
    }
    path_ = absl::StrCat("/proc/self/fd/", fd_);
  }
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Bytes views the fuzzer's input as a string_view.
inline absl::string_view Bytes(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace mlpd::fuzz

#endif  // MLPD_TESTS_FUZZ_FUZZ_INPUT_H_
