// datasets.h: the uploaded datasets the service holds, their memory budget and their files.
//
// An upload reserves its bytes chunk by chunk against --max-datasets-mb, then registers the
// dataset, which the service answers for once its file is written. A dataset is immutable once
// registered; Train and Evaluate hold a shared_ptr, so a deleted dataset stays alive until the
// work reading it ends.
//
//   Datasets datasets({1000, "--max-datasets"}, int64_t{2} << 30, &files);
//   MLPD_RETURN_IF_ERROR(datasets.Reserve(bytes));
//   datasets.Register(dataset, [](const absl::Status& saved, bool kept) { ... });
//   absl::StatusOr<std::shared_ptr<StoredDataset>> found = datasets.Find("dataset", "mnist");
#ifndef MLPD_SERVER_DATASETS_H_
#define MLPD_SERVER_DATASETS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"
#include "grpcpp/support/server_callback.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/data_writer.h"
#include "server/named_registry.h"

namespace mlpd {

// StoredDataset is an uploaded dataset; immutable once registered.
struct StoredDataset {
  std::string name;
  Dataset data;
  int64_t create_time_unix_ms = 0;
  // Set once its file is written (at once without a data dir): until then Train, Evaluate,
  // GetDataset and ListDatasets do not see it, as its upload may still fail and be rolled back.
  std::atomic<bool> ready{false};
  // Set once by DeleteDataset: a job training on it stops, FAILED.
  std::atomic<bool> deleted{false};
};

// FillDatasetInfo describes `dataset` for GetDataset, ListDatasets and UploadDataset.
void FillDatasetInfo(const StoredDataset& dataset, v1::DatasetInfo* info);

class Datasets {
 public:
  // RegisterDone gets the outcome of a registration; `kept` says whether the datasets hold its
  // reserved bytes now (otherwise the uploader still releases them).
  using RegisterDone = std::function<void(const absl::Status& status, bool kept)>;

  // `max_bytes` is the budget of all datasets together (--max-datasets-mb); 0: no limit.
  Datasets(RegistryLimit max_count, int64_t max_bytes, const DataWriter* files);

  // Find validates the name (`field` names it in errors) and looks the dataset up; one whose
  // upload is still being written is NOT_FOUND.
  absl::StatusOr<std::shared_ptr<StoredDataset>> Find(absl::string_view field,
                                                      const std::string& name) const;
  // Exists says whether `name` is taken (by a dataset or an upload registering it).
  bool Exists(const std::string& name) const { return registry_.Find(name).ok(); }

  // Reserve counts `bytes` more of an upload in progress, and refuses when the datasets would
  // pass --max-datasets-mb; the bytes stay counted either way until Release.
  absl::Status Reserve(int64_t bytes);
  void Release(int64_t bytes) { bytes_ -= bytes; }

  // Register adds an uploaded dataset (its bytes reserved) and calls `done` once its file is
  // durable (at once without a data dir), or with the failure after taking it back out.
  void Register(std::shared_ptr<StoredDataset> dataset, RegisterDone done);
  // Restore adds a dataset read from the data dir at start-up, even past the limits.
  absl::Status Restore(const std::string& name, Dataset dataset, int64_t create_time_unix_ms);
  // Delete removes the dataset's file, then the dataset, and answers the call (see
  // DataWriter::RemoveThenForget).
  void Delete(grpc::ServerUnaryReactor* reactor, std::shared_ptr<StoredDataset> dataset);

  // Page lists datasets in name order (see NamedRegistry::Page).
  absl::Status Page(int32_t page_size, const std::string& page_token,
                    std::vector<std::shared_ptr<StoredDataset>>* page,
                    std::string* next_token) const {
    return registry_.Page(page_size, page_token, page, next_token);
  }
  int64_t count() const { return registry_.size(); }
  int64_t bytes() const { return bytes_.load(); }
  // OverLimit describes how the datasets pass a limit (after start-up), or is empty.
  std::vector<std::string> OverLimit() const;

 private:
  const int64_t max_bytes_;
  const DataWriter* const files_;
  NamedRegistry<StoredDataset> registry_;
  std::atomic<int64_t> bytes_{0};  // Held by datasets and reserved by uploads in progress.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_DATASETS_H_
