// train_data.h: train's --csv / --idx-* flags, which put the training data beside the session.
//
// `mlpctl train SESSION --dataset NAME --csv FILE` uploads FILE as dataset NAME to the server
// that holds SESSION (through a router, the call routed by the session, as Train is) unless
// that server has a dataset NAME already; then it trains. See client/dataset_placement.h.
#ifndef MLPD_CLIENT_MLPCTL_TRAIN_DATA_H_
#define MLPD_CLIENT_MLPCTL_TRAIN_DATA_H_

#include <string>

#include "client/data_flags.h"
#include "client/mlpctl/command.h"

namespace mlpd::mlpctl {

// HasTrainData says whether train was given data to upload (--csv or --idx-*).
bool HasTrainData(const DataFlags& data);

// PlaceTrainData reads the data and makes sure the server of `session` holds it as `dataset`,
// saying on stderr whether it uploaded it or found it there. Returns kExitOk, kExitUsage (bad
// flags or files, or data without targets) or kExitRefused (the server's error, printed).
int PlaceTrainData(const CommandContext& context, const std::string& session,
                   const std::string& dataset, const DataFlags& data);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_TRAIN_DATA_H_
