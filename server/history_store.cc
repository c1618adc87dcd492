#include "server/history_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/input_file.h"
#include "server/crc32c.h"
#include "server/data_file.h"
#include "server/log.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the history format is little-endian");

namespace mlpd {
namespace {

constexpr char kMagic[4] = {'M', 'L', 'P', 'H'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 16;
constexpr size_t kRecordSize = 56;
constexpr size_t kRecordCrcOffset = 52;
constexpr uint32_t kHasEval = 1;
constexpr uint32_t kEvalHasErrorRate = 2;
constexpr absl::string_view kSuffix = ".hist";

template <typename T>
void Put(const T& value, char* out) {
  std::memcpy(out, &value, sizeof(T));
}
template <typename T>
T Get(const char* in) {
  T value;
  std::memcpy(&value, in, sizeof(T));
  return value;
}

std::string EncodeHeader() {
  std::string header(kHeaderSize, '\0');
  std::memcpy(header.data(), kMagic, sizeof(kMagic));
  Put<uint32_t>(kVersion, &header[4]);
  Put<uint32_t>(kRecordSize, &header[8]);
  Put<uint32_t>(Crc32c(absl::string_view(header.data(), 12)), &header[12]);
  return header;
}

bool HeaderIsValid(absl::string_view bytes) {
  return bytes.size() >= kHeaderSize && bytes.substr(0, kHeaderSize) == EncodeHeader();
}

void AppendRecord(const HistoryPoint& point, std::string* out) {
  char record[kRecordSize] = {};
  Put<int64_t>(point.step, record);
  Put<int64_t>(point.time_unix_ms, record + 8);
  Put<double>(point.samples_per_second, record + 16);
  Put<double>(point.eval_loss, record + 24);
  Put<double>(point.eval_error_rate, record + 32);
  Put<float>(point.train_loss, record + 40);
  const uint32_t flags =
      (point.has_eval ? kHasEval : 0) | (point.eval_has_error_rate ? kEvalHasErrorRate : 0);
  Put<uint32_t>(flags, record + 44);
  Put<uint32_t>(0, record + 48);
  Put<uint32_t>(Crc32c(absl::string_view(record, kRecordCrcOffset)), record + kRecordCrcOffset);
  out->append(record, kRecordSize);
}

// DecodeRecord returns false for a record whose checksum does not match (a torn or damaged one).
bool DecodeRecord(const char* record, HistoryPoint* point) {
  if (Get<uint32_t>(record + kRecordCrcOffset) !=
      Crc32c(absl::string_view(record, kRecordCrcOffset))) {
    return false;
  }
  point->step = Get<int64_t>(record);
  point->time_unix_ms = Get<int64_t>(record + 8);
  point->samples_per_second = Get<double>(record + 16);
  point->eval_loss = Get<double>(record + 24);
  point->eval_error_rate = Get<double>(record + 32);
  point->train_loss = Get<float>(record + 40);
  const uint32_t flags = Get<uint32_t>(record + 44);
  point->has_eval = (flags & kHasEval) != 0;
  point->eval_has_error_rate = (flags & kEvalHasErrorRate) != 0;
  return true;
}

absl::Status ErrnoError(absl::string_view action, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(action, " ", path));
}

// AppendToFile appends one record to `path`, writing the header first into an empty file and
// cutting a torn last record off; returns the records the file holds afterwards, or -1 when
// its header is not ours (the caller then rewrites it).
absl::StatusOr<int64_t> AppendToFile(const std::string& path, const HistoryPoint& point) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", path);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0) return ErrnoError("stat", path);
  int64_t size = info.st_size;
  std::string bytes;
  if (size == 0) {
    bytes = EncodeHeader();
  } else {
    char header[kHeaderSize];
    if (size < static_cast<int64_t>(kHeaderSize) ||
        ::pread(fd, header, kHeaderSize, 0) != static_cast<ssize_t>(kHeaderSize) ||
        !HeaderIsValid(absl::string_view(header, kHeaderSize))) {
      return -1;
    }
    const int64_t whole = kHeaderSize + (size - kHeaderSize) / kRecordSize * kRecordSize;
    if (whole != size) {
      if (::ftruncate(fd, whole) != 0) return ErrnoError("truncate", path);
      size = whole;
    }
  }
  AppendRecord(point, &bytes);
  if (::pwrite(fd, bytes.data(), bytes.size(), size) != static_cast<ssize_t>(bytes.size())) {
    const absl::Status status = ErrnoError("append to", path);
    if (::ftruncate(fd, size) != 0) return ErrnoError("truncate", path);
    return status;
  }
  return (size + static_cast<int64_t>(bytes.size()) - static_cast<int64_t>(kHeaderSize)) /
         static_cast<int64_t>(kRecordSize);
}

}  // namespace

bool HistoryPoint::operator==(const HistoryPoint& other) const {
  return step == other.step && time_unix_ms == other.time_unix_ms &&
         train_loss == other.train_loss && samples_per_second == other.samples_per_second &&
         has_eval == other.has_eval && eval_loss == other.eval_loss &&
         eval_has_error_rate == other.eval_has_error_rate &&
         eval_error_rate == other.eval_error_rate;
}

void ThinHistory(std::vector<HistoryPoint>* points) {
  const size_t older = points->size() / 2;
  size_t kept = 0;
  for (size_t i = 0; i < points->size(); ++i) {
    if (i < older && i % 2 == 1) continue;
    (*points)[kept++] = (*points)[i];
  }
  points->resize(kept);
}

std::vector<HistoryPoint> SamplePoints(std::vector<HistoryPoint> points, int64_t max_points) {
  const int64_t count = static_cast<int64_t>(points.size());
  if (max_points <= 0 || count <= max_points) return points;
  std::vector<HistoryPoint> sampled;
  sampled.reserve(static_cast<size_t>(max_points));
  if (max_points == 1) {
    sampled.push_back(points.back());
    return sampled;
  }
  // Index i of max_points maps to round(i * (count - 1) / (max_points - 1)): the first, the
  // last, and evenly spaced ones between, each once since count > max_points.
  for (int64_t i = 0; i < max_points; ++i) {
    const int64_t index = (i * (count - 1) + (max_points - 1) / 2) / (max_points - 1);
    sampled.push_back(points[static_cast<size_t>(index)]);
  }
  return sampled;
}

HistoryStore::HistoryStore(std::string folder, int64_t cap)
    : folder_(std::move(folder)), cap_(cap < 4 ? 4 : cap) {}

std::string HistoryStore::PathOf(absl::string_view session) const {
  return absl::StrCat(folder_, "/", session, kSuffix);
}

absl::Status HistoryStore::Open() { return PrepareFolder(folder_, "the history folder"); }

absl::StatusOr<std::vector<HistoryPoint>> HistoryStore::Load(const std::string& path) const {
  std::vector<HistoryPoint> points;
  absl::StatusOr<InputFile> file = InputFile::Open(path);
  if (absl::IsNotFound(file.status())) return points;
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> bytes = file->ReadRest();
  if (!bytes.ok()) return bytes.status();
  if (!HeaderIsValid(*bytes)) {
    LogLine(
        absl::StrFormat("history %s: not a history file (bad header); its curve is dropped", path));
    return points;
  }
  int64_t damaged = 0;
  for (size_t offset = kHeaderSize; offset + kRecordSize <= bytes->size(); offset += kRecordSize) {
    HistoryPoint point;
    if (DecodeRecord(bytes->data() + offset, &point)) {
      points.push_back(point);
    } else {
      ++damaged;
    }
  }
  if (damaged > 0) {
    LogLine(absl::StrFormat("history %s: skipped %d damaged points", path, damaged));
  }
  return points;
}

absl::Status HistoryStore::Rewrite(const std::string& path,
                                   const std::vector<HistoryPoint>& points) {
  std::string bytes = EncodeHeader();
  bytes.reserve(kHeaderSize + points.size() * kRecordSize);
  for (const HistoryPoint& point : points) AppendRecord(point, &bytes);
  const absl::string_view pieces[] = {bytes};
  return WriteRawFileAtomically(folder_, std::filesystem::path(path).filename().string(), pieces);
}

absl::Status HistoryStore::Append(absl::string_view session, const HistoryPoint& point) {
  const std::string path = PathOf(session);
  absl::MutexLock lock(&mutex_);
  absl::StatusOr<int64_t> count = AppendToFile(path, point);
  if (!count.ok()) return count.status();
  if (*count < 0) {
    LogLine(absl::StrFormat("history %s: not a history file (bad header); starting it anew", path));
    return Rewrite(path, {point});
  }
  if (*count <= cap_) return absl::OkStatus();
  absl::StatusOr<std::vector<HistoryPoint>> points = Load(path);
  if (!points.ok()) return points.status();
  while (static_cast<int64_t>(points->size()) > cap_) ThinHistory(&*points);
  return Rewrite(path, *points);
}

absl::StatusOr<std::vector<HistoryPoint>> HistoryStore::Read(absl::string_view session,
                                                             int64_t from_step,
                                                             int64_t max_points) const {
  absl::StatusOr<std::vector<HistoryPoint>> points;
  {
    absl::ReaderMutexLock lock(&mutex_);
    points = Load(PathOf(session));
  }
  if (!points.ok()) return points.status();
  std::vector<HistoryPoint> selected;
  for (const HistoryPoint& point : *points) {
    if (point.step >= from_step) selected.push_back(point);
  }
  return SamplePoints(std::move(selected), max_points);
}

absl::Status HistoryStore::KeepUpTo(absl::string_view session, int64_t step) {
  const std::string path = PathOf(session);
  absl::MutexLock lock(&mutex_);
  absl::StatusOr<std::vector<HistoryPoint>> points = Load(path);
  if (!points.ok()) return points.status();
  const size_t before = points->size();
  points->erase(std::remove_if(points->begin(), points->end(),
                               [step](const HistoryPoint& point) { return point.step > step; }),
                points->end());
  return points->size() == before ? absl::OkStatus() : Rewrite(path, *points);
}

absl::Status HistoryStore::Delete(absl::string_view session) {
  absl::MutexLock lock(&mutex_);
  return RemoveFileDurably(folder_, absl::StrCat(session, kSuffix));
}

std::vector<std::string> HistoryStore::KeepOnly(const std::vector<std::string>& sessions) {
  const absl::flat_hash_set<std::string> keep(sessions.begin(), sessions.end());
  std::vector<std::string> removed;
  absl::MutexLock lock(&mutex_);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder_, error)) {
    const std::string file = entry.path().filename().string();
    if (!absl::EndsWith(file, kSuffix)) continue;
    const std::string name = file.substr(0, file.size() - kSuffix.size());
    if (keep.contains(name)) continue;
    if (RemoveFileDurably(folder_, file).ok()) removed.push_back(name);
  }
  return removed;
}

}  // namespace mlpd
