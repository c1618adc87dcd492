// spec_proto.h: conversion between core's ModelSpec and the API's mlpd.v1.ModelSpec message.
//
// The service, the client and the checkpoint format all speak mlpd.v1.ModelSpec; the engine
// speaks ModelSpec. SpecFromProto rejects unspecified enums with INVALID_ARGUMENT naming the
// field (e.g. "spec.layers[1].activation is unspecified").
//
//   absl::StatusOr<ModelSpec> spec = SpecFromProto(request.spec());
//   SpecToProto(model.spec(), info.mutable_spec());
#ifndef MLPD_CORE_SPEC_PROTO_H_
#define MLPD_CORE_SPEC_PROTO_H_

#include "absl/status/statusor.h"
#include "core/model_spec.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

// SpecFromProto converts and fills defaults (WithDefaults) but does not validate sizes; call
// ValidateModelSpec (Model::Create does) for that.
absl::StatusOr<ModelSpec> SpecFromProto(const v1::ModelSpec& proto);

// SpecToProto writes every field of `spec` into `proto` (cleared first).
void SpecToProto(const ModelSpec& spec, v1::ModelSpec* proto);

}  // namespace mlpd

#endif  // MLPD_CORE_SPEC_PROTO_H_
