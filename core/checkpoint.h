// checkpoint.h: a whole model as an mlpd.v1.Checkpoint message (NATIVE export, snapshots).
//
// A checkpoint holds the format version, the spec, the parameters, the optimizer state and the
// counters, so a restored model trains exactly as the original would have.
//
//   absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(*model);
//   absl::StatusOr<std::unique_ptr<Model>> copy = RestoreCheckpoint(*checkpoint);
#ifndef MLPD_CORE_CHECKPOINT_H_
#define MLPD_CORE_CHECKPOINT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

// kCheckpointFormatVersion is the version this build writes and the only one it reads.
inline constexpr uint32_t kCheckpointFormatVersion = 1;

// MakeCheckpoint captures the model's spec, parameters, optimizer state and counters.
absl::StatusOr<v1::Checkpoint> MakeCheckpoint(const Model& model);

// RestoreCheckpoint builds a model from a checkpoint. INVALID_ARGUMENT for a wrong version,
// an invalid spec, or parameter/state sizes that do not match the spec.
absl::StatusOr<std::unique_ptr<Model>> RestoreCheckpoint(const v1::Checkpoint& checkpoint);

}  // namespace mlpd

#endif  // MLPD_CORE_CHECKPOINT_H_
