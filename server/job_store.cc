#include "server/job_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/data_file.h"
#include "server/log.h"
#include "server/names.h"

namespace mlpd {
namespace {

constexpr absl::string_view kRecordSuffix = ".job";
constexpr absl::string_view kBestSuffix = ".best";
constexpr absl::string_view kDamagedSuffix = ".damaged";

std::string FileName(absl::string_view id, absl::string_view suffix) {
  return absl::StrCat(id, suffix);
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

absl::Status JobStore::Open() { return PrepareFolder(folder_, "the jobs folder"); }

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
    absl::StatusOr<std::string> payload = ReadPayload(path, PayloadKind::kJob);
    v1::Job job;
    absl::Status status = payload.status();
    if (status.ok() && !job.ParseFromString(*payload)) {
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
  const std::string payload = job.SerializeAsString();
  const absl::string_view pieces[] = {payload};
  return WriteFileAtomically(folder_, FileName(job.id(), kRecordSuffix), PayloadKind::kJob, pieces);
}

absl::Status JobStore::Delete(absl::string_view id) {
  absl::Status best = RemoveFileDurably(folder_, FileName(id, kBestSuffix));
  absl::Status record = RemoveFileDurably(folder_, FileName(id, kRecordSuffix));
  return record.ok() ? best : record;
}

absl::Status JobStore::SaveBest(absl::string_view id, int64_t step,
                                absl::Span<const float> parameters) {
  absl::Status valid = ValidateName("job id", id);
  if (!valid.ok()) return valid;
  v1::Checkpoint best;
  best.set_step_count(step);
  best.mutable_parameters()->Add(parameters.begin(), parameters.end());
  const std::string payload = best.SerializeAsString();
  const absl::string_view pieces[] = {payload};
  return WriteFileAtomically(folder_, FileName(id, kBestSuffix), PayloadKind::kJobBest, pieces);
}

absl::StatusOr<v1::Checkpoint> JobStore::LoadBest(absl::string_view id) const {
  absl::StatusOr<std::string> payload = ReadPayload(BestPath(id), PayloadKind::kJobBest);
  if (absl::IsNotFound(payload.status())) return payload.status();
  if (!payload.ok()) {
    return absl::DataLossError(absl::StrCat(BestPath(id), ": ", payload.status().message()));
  }
  v1::Checkpoint best;
  if (!best.ParseFromString(*payload)) {
    return absl::DataLossError(absl::StrCat(BestPath(id), " does not parse"));
  }
  return best;
}

}  // namespace mlpd
