#include "client/mlpctl/train_data.h"

#include <iostream>

#include "client/dataset_placement.h"
#include "client/mlpctl/data_options.h"
#include "client/mlpctl/output.h"
#include "client/mlpctl/requests.h"

namespace mlpd::mlpctl {

bool HasTrainData(const DataFlags& data) {
  return !data.csv.empty() || !data.idx_images.empty() || !data.idx_labels.empty();
}

int PlaceTrainData(const CommandContext& context, const std::string& session,
                   const std::string& dataset, const DataFlags& data) {
  // Training needs targets; refused here, nothing is uploaded that Train would refuse.
  absl::Status targets = RequireTargets(data, "train");
  if (!targets.ok()) return UsageError(targets.message());
  absl::StatusOr<LoadedData> loaded = LoadForCommand(data);
  if (!loaded.ok()) return UsageError(loaded.status().message());
  absl::StatusOr<PlacedDataset> placed =
      PlaceDataset(context.client, session, dataset, loaded->dataset,
                   UploadCallOptions(context.global, session, loaded->dataset.ByteSize()));
  if (!placed.ok()) return Refused(placed.status());
  std::cerr << (placed->uploaded ? "uploaded dataset " : "dataset ") << dataset
            << (placed->uploaded ? " to the server of session "
                                 : " is already on the server of session ")
            << session << ": " << placed->info.rows() << " rows, " << placed->info.input_size()
            << " inputs, " << DatasetKind(placed->info) << "\n";
  return kExitOk;
}

}  // namespace mlpd::mlpctl
