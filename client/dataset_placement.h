// dataset_placement.h: a dataset put beside the session that trains on it.
//
// Behind a router (deploy/README.md, "Scale-out"), a session lives on one server, and Train
// finds its dataset only on that server. PlaceDataset asks the session's server for the dataset
// (the call routed by the session) and uploads the rows there, routed the same way, only when
// that server does not have it yet. Train, routed by its session too, then finds it.
//
//   absl::StatusOr<PlacedDataset> placed = PlaceDataset(client, "digits", "train", rows);
//   if (!placed.ok()) return placed.status();
//   request.set_name("digits");
//   request.set_dataset("train");
//   client.Train(request, on_progress);
//
// A dataset that sessions on several servers train on is uploaded once to each of them.
#ifndef MLPD_CLIENT_DATASET_PLACEMENT_H_
#define MLPD_CLIENT_DATASET_PLACEMENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/client.h"
#include "core/dataset.h"

namespace mlpd {

struct PlacedDataset {
  // The dataset as the session's server holds it.
  v1::DatasetInfo info;
  // True when this call uploaded it; false when the server had it already (its rows are kept,
  // whatever `rows` holds).
  bool uploaded = false;
};

// PlaceDataset makes sure the server of `session` holds dataset `dataset`, uploading `rows`
// under that name when it does not. `call`'s deadline and cancellation apply to each call; its
// routing_session is replaced by `session`. An upload that loses a race to another client's
// upload of the same name (ALREADY_EXISTS) reports the dataset that won.
absl::StatusOr<PlacedDataset> PlaceDataset(Client& client, const std::string& session,
                                           const std::string& dataset, const Dataset& rows,
                                           CallOptions call = {});

}  // namespace mlpd

#endif  // MLPD_CLIENT_DATASET_PLACEMENT_H_
