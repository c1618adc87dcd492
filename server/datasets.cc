#include "server/datasets.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/names.h"
#include "server/session.h"

namespace mlpd {

void FillDatasetInfo(const StoredDataset& dataset, v1::DatasetInfo* info) {
  info->set_name(dataset.name);
  info->set_rows(dataset.data.rows());
  info->set_input_size(dataset.data.x.cols);
  info->set_target_size(dataset.data.has_labels ? 0 : dataset.data.targets.cols);
  info->set_has_labels(dataset.data.has_labels);
  info->set_bytes(dataset.data.ByteSize());
  info->set_create_time_unix_ms(dataset.create_time_unix_ms);
}

Datasets::Datasets(RegistryLimit max_count, int64_t max_bytes, const DataWriter* files)
    : max_bytes_(max_bytes), files_(files), registry_("dataset", std::move(max_count)) {}

absl::StatusOr<std::shared_ptr<StoredDataset>> Datasets::Find(absl::string_view field,
                                                              const std::string& name) const {
  MLPD_RETURN_IF_ERROR(ValidateName(field, name));
  MLPD_ASSIGN_OR_RETURN(std::shared_ptr<StoredDataset> dataset, registry_.Find(name));
  if (!dataset->ready) {
    return absl::NotFoundError(absl::StrFormat(
        "dataset \"%s\" does not exist yet: its upload is still being written", name));
  }
  return dataset;
}

absl::Status Datasets::Reserve(int64_t bytes) {
  const int64_t held = bytes_.fetch_add(bytes) + bytes;
  if (max_bytes_ > 0 && held > max_bytes_) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "datasets would hold %d bytes with this chunk; the limit --max-datasets-mb is %d MiB", held,
        max_bytes_ >> 20));
  }
  return absl::OkStatus();
}

void Datasets::Register(std::shared_ptr<StoredDataset> dataset, RegisterDone done) {
  dataset->create_time_unix_ms = NowUnixMs();
  const absl::Status added = registry_.Add(dataset->name, dataset);
  if (!added.ok()) {
    done(added, /*kept=*/false);
    return;
  }
  if (!files_->keeps_data()) {
    dataset->ready = true;
    done(absl::OkStatus(), /*kept=*/true);
    return;
  }
  // Answer once the file is durable, so an acknowledged upload survives a crash.
  files_->Post([this, dataset, done = std::move(done)](DataDir& store) {
    const absl::Status saved =
        store.SaveDataset(dataset->name, dataset->data, dataset->create_time_unix_ms);
    if (saved.ok()) {
      dataset->ready = true;
      done(saved, /*kept=*/true);
      return;
    }
    // Not on disk, so not uploaded: take it back out. RemoveIf takes only this upload's
    // entry; were it gone, whoever removed it also took its bytes back.
    const bool removed = registry_.RemoveIf(dataset->name, dataset.get());
    done(saved, /*kept=*/!removed);
  });
}

absl::Status Datasets::Restore(const std::string& name, Dataset dataset,
                               int64_t create_time_unix_ms) {
  MLPD_RETURN_IF_ERROR(ValidateName("dataset file name", name));
  auto stored = std::make_shared<StoredDataset>();
  stored->name = name;
  stored->data = std::move(dataset);
  stored->create_time_unix_ms = create_time_unix_ms > 0 ? create_time_unix_ms : NowUnixMs();
  stored->ready = true;
  bytes_ += stored->data.ByteSize();
  return registry_.Add(name, std::move(stored), 0, NamedRegistry<StoredDataset>::AtLimit::kAdd);
}

void Datasets::Delete(grpc::ServerUnaryReactor* reactor, std::shared_ptr<StoredDataset> dataset) {
  const std::string name = dataset->name;
  // The dataset leaves memory once its file is gone (see RemoveThenForget).
  auto forget = [this, found = std::move(dataset)]() -> absl::Status {
    if (!registry_.RemoveIf(found->name, found.get())) {
      return absl::NotFoundError(absl::StrFormat("dataset \"%s\" does not exist", found->name));
    }
    // A Train still reading it keeps its copy alive; the memory is released when that ends.
    bytes_ -= found->data.ByteSize();
    found->deleted = true;
    return absl::OkStatus();
  };
  files_->RemoveThenForget(
      reactor, "DeleteDataset", name, [name](DataDir& store) { return store.DeleteDataset(name); },
      std::move(forget));
}

std::vector<std::string> Datasets::OverLimit() const {
  std::vector<std::string> over = {registry_.OverLimit()};
  // Dataset memory is counted here rather than in the registry: uploads reserve it as they go.
  if (const int64_t held = bytes_.load(); max_bytes_ > 0 && held > max_bytes_) {
    over.push_back(absl::StrFormat("datasets of %.1f MiB, over the limit --max-datasets-mb of %d",
                                   static_cast<double>(held) / (1 << 20), max_bytes_ >> 20));
  }
  return over;
}

}  // namespace mlpd
