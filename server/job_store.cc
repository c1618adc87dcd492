#include "server/job_store.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/input_file.h"
#include "server/atomic_file.h"
#include "server/crc32c.h"
#include "server/log.h"
#include "server/names.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the job file format is little-endian");

namespace mlpd {
namespace {

constexpr char kMagic[4] = {'M', 'L', 'P', 'J'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 24;
constexpr absl::string_view kRecordSuffix = ".job";
constexpr absl::string_view kBestSuffix = ".best";
constexpr absl::string_view kDamagedSuffix = ".damaged";

enum class Kind : uint32_t { kRecord = 1, kBest = 2 };

std::string Frame(Kind kind, const std::string& payload) {
  std::string bytes(kHeaderSize, '\0');
  std::memcpy(bytes.data(), kMagic, sizeof(kMagic));
  const uint32_t version = kVersion, kind_value = static_cast<uint32_t>(kind);
  const uint32_t crc = Crc32c(payload);
  const uint64_t length = payload.size();
  std::memcpy(&bytes[4], &version, 4);
  std::memcpy(&bytes[8], &kind_value, 4);
  std::memcpy(&bytes[12], &crc, 4);
  std::memcpy(&bytes[16], &length, 8);
  bytes += payload;
  return bytes;
}

// Unframe returns the payload, or DATA_LOSS saying why the bytes are not a file of `kind`.
absl::StatusOr<absl::string_view> Unframe(absl::string_view bytes, Kind kind) {
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("not a job file (no MLPJ header)");
  }
  uint32_t version, kind_value, crc;
  uint64_t length;
  std::memcpy(&version, &bytes[4], 4);
  std::memcpy(&kind_value, &bytes[8], 4);
  std::memcpy(&crc, &bytes[12], 4);
  std::memcpy(&length, &bytes[16], 8);
  if (version != kVersion) {
    return absl::DataLossError(
        absl::StrFormat("format version %d, this build reads %d", version, kVersion));
  }
  if (kind_value != static_cast<uint32_t>(kind)) {
    return absl::DataLossError(
        absl::StrFormat("kind %d, expected %d", kind_value, static_cast<uint32_t>(kind)));
  }
  const absl::string_view payload = bytes.substr(kHeaderSize);
  if (length != payload.size()) {
    return absl::DataLossError(absl::StrFormat("the header announces %d payload bytes, %d follow",
                                               length, payload.size()));
  }
  if (Crc32c(payload) != crc) return absl::DataLossError("the payload checksum does not match");
  return payload;
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  absl::StatusOr<InputFile> file = InputFile::Open(path);
  if (!file.ok()) return file.status();
  return file->ReadRest();
}

}  // namespace

std::string NewJobId(int64_t now_unix_ms) {
  static std::atomic<uint32_t> counter{0};
  return absl::StrFormat("job-%013d-%04d", now_unix_ms, counter.fetch_add(1) % 10000);
}

JobStore::JobStore(std::string folder) : folder_(std::move(folder)) {}

std::string JobStore::RecordPath(absl::string_view id) const {
  return absl::StrCat(folder_, "/", id, kRecordSuffix);
}

std::string JobStore::BestPath(absl::string_view id) const {
  return absl::StrCat(folder_, "/", id, kBestSuffix);
}

absl::Status JobStore::Open() { return OpenFolder(folder_, "the jobs folder"); }

absl::StatusOr<JobStore::Contents> JobStore::LoadAll() {
  Contents contents;
  std::error_code error;
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(folder_, error)) {
    const std::string path = entry.path().string();
    if (absl::EndsWith(path, kRecordSuffix)) paths.push_back(path);
  }
  if (error) {
    return absl::InternalError(absl::StrCat("cannot read ", folder_, ": ", error.message()));
  }
  std::sort(paths.begin(), paths.end());
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> bytes = ReadAll(path);
    absl::StatusOr<absl::string_view> payload =
        bytes.ok() ? Unframe(*bytes, Kind::kRecord) : bytes.status();
    v1::Job job;
    absl::Status status = payload.status();
    if (status.ok() && !job.ParseFromString(std::string(*payload))) {
      status = absl::DataLossError("the record does not parse as an mlpd.v1.Job");
    }
    const std::string file = std::filesystem::path(path).filename().string();
    if (status.ok() && file != absl::StrCat(job.id(), kRecordSuffix)) {
      status = absl::DataLossError(absl::StrCat("the record's id is \"", job.id(), "\""));
    }
    if (!status.ok()) {
      const std::string why = absl::StrCat(file, ": ", status.message());
      LogLine(absl::StrCat("job record ", why, "; renamed to ", file, kDamagedSuffix));
      std::filesystem::rename(path, absl::StrCat(path, kDamagedSuffix), error);
      contents.damaged.push_back(why);
      continue;
    }
    contents.jobs.push_back(std::move(job));
  }
  return contents;
}

absl::Status JobStore::Save(const v1::Job& job) {
  absl::Status valid = ValidateName("job id", job.id());
  if (!valid.ok()) return valid;
  return ReplaceFileAtomically(RecordPath(job.id()), Frame(Kind::kRecord, job.SerializeAsString()));
}

absl::Status JobStore::Delete(absl::string_view id) {
  absl::Status best = RemoveFileDurably(BestPath(id));
  absl::Status record = RemoveFileDurably(RecordPath(id));
  return record.ok() ? best : record;
}

absl::Status JobStore::SaveBest(absl::string_view id, int64_t step,
                                absl::Span<const float> parameters) {
  absl::Status valid = ValidateName("job id", id);
  if (!valid.ok()) return valid;
  v1::Checkpoint best;
  best.set_step_count(step);
  best.mutable_parameters()->Add(parameters.begin(), parameters.end());
  return ReplaceFileAtomically(BestPath(id), Frame(Kind::kBest, best.SerializeAsString()));
}

absl::StatusOr<v1::Checkpoint> JobStore::LoadBest(absl::string_view id) const {
  absl::StatusOr<std::string> bytes = ReadAll(BestPath(id));
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<absl::string_view> payload = Unframe(*bytes, Kind::kBest);
  if (!payload.ok()) {
    return absl::DataLossError(absl::StrCat(BestPath(id), ": ", payload.status().message()));
  }
  v1::Checkpoint best;
  if (!best.ParseFromString(std::string(*payload))) {
    return absl::DataLossError(absl::StrCat(BestPath(id), " does not parse"));
  }
  return best;
}

}  // namespace mlpd
