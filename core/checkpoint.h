// checkpoint.h: a whole model as an mlpd.v1.Checkpoint message (NATIVE export, snapshots).
//
// A checkpoint holds the format version, the spec, the parameters, the optimizer state and the
// counters, so a restored model trains exactly as the original would have.
//
//   absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*model);
//   absl::StatusOr<std::unique_ptr<Model>> copy = RestoreCheckpoint(*checkpoint);
#ifndef MLPD_CORE_CHECKPOINT_H_
#define MLPD_CORE_CHECKPOINT_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

// kCheckpointFormatVersion is the version this build writes. It also reads
// kCheckpointFormatVersion1 (files from before API 1.0: the same enum numbers, a float
// last_loss in field 7 that was 0 before the first step, 0 for "default" hyperparameters) with
// the meanings it was written with, and refuses every other version naming it.
inline constexpr uint32_t kCheckpointFormatVersion = 2;
inline constexpr uint32_t kCheckpointFormatVersion1 = 1;

// CheckCheckpointVersion is OK for the versions this build reads; else INVALID_ARGUMENT naming
// `field` ("checkpoint.format_version"), the version found and the versions read.
absl::Status CheckCheckpointVersion(uint32_t version, absl::string_view field);

// MakeCheckpoint captures the model's spec, parameters, optimizer state and counters.
absl::StatusOr<v1::Checkpoint> MakeCheckpoint(const Model& model);

// RestoreCheckpoint builds a model from a checkpoint of version 1 or 2. INVALID_ARGUMENT for
// another version, an invalid spec, parameter/state sizes that do not match the spec, or a
// last_loss that is missing after steps (or present before any).
absl::StatusOr<std::unique_ptr<Model>> RestoreCheckpoint(const v1::Checkpoint& checkpoint);

}  // namespace mlpd

#endif  // MLPD_CORE_CHECKPOINT_H_
