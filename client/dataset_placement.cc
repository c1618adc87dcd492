#include "client/dataset_placement.h"

#include <utility>

namespace mlpd {

absl::StatusOr<PlacedDataset> PlaceDataset(Client& client, const std::string& session,
                                           const std::string& dataset, const Dataset& rows,
                                           CallOptions call) {
  call.routing_session = session;
  PlacedDataset placed;
  absl::StatusOr<v1::DatasetInfo> found = client.GetDataset(dataset, call);
  if (found.ok()) {
    placed.info = *std::move(found);
    return placed;
  }
  if (found.status().code() != absl::StatusCode::kNotFound) return found.status();
  absl::StatusOr<v1::DatasetInfo> uploaded = client.UploadDataset(dataset, rows, call);
  if (uploaded.status().code() == absl::StatusCode::kAlreadyExists) {
    found = client.GetDataset(dataset, call);
    if (!found.ok()) return found.status();
    placed.info = *std::move(found);
    return placed;
  }
  if (!uploaded.ok()) return uploaded.status();
  placed.info = *std::move(uploaded);
  placed.uploaded = true;
  return placed;
}

}  // namespace mlpd
