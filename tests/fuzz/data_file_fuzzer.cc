// Fuzzes the data dir's loader: snapshot (sessions/NAME.ckpt) and dataset (datasets/NAME.data)
// files, read by DataDir::LoadAll at start-up. The first byte picks the folder and whether
// the harness repairs the header (magic, version, kind, length and both checksums) so that
// mutations reach the payload decoders instead of stopping at the checksum. Every file must
// either load (a snapshot that restores, a valid dataset) or be quarantined.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "server/crc32c.h"
#include "server/data_dir.h"
#include "server/data_file.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace fs = std::filesystem;

constexpr size_t kHeaderSize = 32;

// FuzzDir is one data dir for the whole run, opened (locked) once and removed at exit.
struct FuzzDir {
  FuzzDir() {
    std::string pattern = (fs::temp_directory_path() / "mlpd-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path = pattern;
    store = std::make_unique<mlpd::DataDir>(path);
    if (!store->Open().ok()) std::abort();
  }
  ~FuzzDir() {
    store.reset();
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  void Empty() {
    for (const char* folder : {"sessions", "datasets", "quarantine"}) {
      for (const auto& entry : fs::directory_iterator(fs::path(path) / folder)) {
        fs::remove_all(entry.path());
      }
    }
  }

  std::string path;
  std::unique_ptr<mlpd::DataDir> store;
};

// RepairHeader makes the header announce exactly the bytes that follow it, under valid
// checksums, as a file written by SaveSession/SaveDataset would.
void RepairHeader(uint32_t kind, std::string* file) {
  if (file->size() < kHeaderSize) file->resize(kHeaderSize, '\0');
  char* header = file->data();
  std::memcpy(header, "MLPD", 4);
  mlpd::PutU32(mlpd::kStoreFormatVersion, header + 4);
  mlpd::PutU32(kind, header + 8);
  mlpd::PutU32(0, header + 12);
  const absl::string_view payload = absl::string_view(*file).substr(kHeaderSize);
  mlpd::PutU64(payload.size(), header + 16);
  mlpd::PutU32(mlpd::Crc32c(payload), header + 24);
  mlpd::PutU32(mlpd::Crc32c(absl::string_view(header, 28)), header + 28);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FuzzDir* dir = new FuzzDir();  // Leaked on purpose: the exit handler below removes it.
  static const bool registered = [] {
    std::atexit([] { delete dir; });
    return true;
  }();
  (void)registered;
  if (size == 0) return 0;
  const bool dataset = (data[0] & 1) != 0;
  std::string file(mlpd::fuzz::Bytes(data + 1, size - 1));
  if ((data[0] & 2) != 0) RepairHeader(dataset ? 2 : 1, &file);
  const fs::path path =
      fs::path(dir->path) / (dataset ? "datasets/fuzzed.data" : "sessions/fuzzed.ckpt");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    if (!out) std::abort();
  }
  absl::StatusOr<mlpd::DataDir::Contents> contents = dir->store->LoadAll();
  if (!contents.ok()) std::abort();
  const size_t outcomes =
      contents->sessions.size() + contents->datasets.size() + contents->quarantined.size();
  if (outcomes != 1) std::abort();
  for (const auto& [name, loaded] : contents->datasets) {
    if (!loaded.Validate().ok()) std::abort();
  }
  dir->Empty();
  return 0;
}
