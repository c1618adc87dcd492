// Fuzzes spec validation as CreateSession runs it: the bytes parse as an mlpd.v1.ModelSpec,
// SpecFromProto converts it and ValidateModelSpec checks it. A spec that validates must give a
// positive parameter count and convert back to the same layers.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/model_spec.h"
#include "core/spec_proto.h"
#include "mlpd/v1/model.pb.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlpd::v1::ModelSpec proto;
  if (!proto.ParseFromString(std::string(mlpd::fuzz::Bytes(data, size)))) return 0;
  absl::StatusOr<mlpd::ModelSpec> spec = mlpd::SpecFromProto(proto);
  if (!spec.ok()) return 0;
  const mlpd::ModelSpec defaulted = mlpd::WithDefaults(*spec);
  if (!mlpd::ValidateModelSpec(defaulted).ok()) return 0;
  if (mlpd::ParameterCount(defaulted) <= 0) std::abort();
  mlpd::v1::ModelSpec back;
  mlpd::SpecToProto(defaulted, &back);
  if (back.layers_size() != proto.layers_size() || back.input_size() != proto.input_size()) {
    std::abort();
  }
  (void)mlpd::LayerSizesString(defaulted);
  return 0;
}
