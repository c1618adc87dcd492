// data_options.h: the data flags of mlpctl's upload, step, evaluate and predict.
//
// One function adds the same IDX/CSV/preprocessing flags to each of those commands (bound to
// the command's own DataFlags); LoadForCommand reads them with data_flags.h and refuses data
// without rows before anything is sent.
//
//   DataFlags data;
//   AddDataOptions(&cli(), &data, /*preprocessing=*/true);
//   absl::StatusOr<LoadedData> loaded = LoadForCommand(data);
#ifndef MLPD_CLIENT_MLPCTL_DATA_OPTIONS_H_
#define MLPD_CLIENT_MLPCTL_DATA_OPTIONS_H_

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "client/data_flags.h"

namespace mlpd::mlpctl {

// AddDataOptions adds --idx-*, --csv, --label-column, --target-columns, --limit, --normalize
// and, with `preprocessing`, the one-hot flags of training data.
void AddDataOptions(CLI::App* command, DataFlags* data, bool preprocessing);

// LoadForCommand is LoadData, refusing data with no rows.
absl::StatusOr<LoadedData> LoadForCommand(const DataFlags& data);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_DATA_OPTIONS_H_
