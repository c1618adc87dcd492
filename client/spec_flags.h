// spec_flags.h: the model spec written as mlpctl's create flags.
//
// People describe a network as "784,50,10" with "tanh,tanh" and "normal:1e-6"; this turns those
// strings into an mlpd.v1.ModelSpec, naming the flag and the bad value on any mistake.
//
//   SpecFlags flags;
//   flags.layers = "784,50,10";
//   flags.activations = "tanh,tanh";
//   flags.init = "normal:1e-6";
//   absl::StatusOr<v1::ModelSpec> spec = SpecFromFlags(flags);
#ifndef MLPD_CLIENT_SPEC_FLAGS_H_
#define MLPD_CLIENT_SPEC_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

struct SpecFlags {
  std::string layers;             // --layers: input size then each layer's units, comma-separated.
  std::string activations;        // --activations: one per layer, or one for every layer.
  std::string loss = "mse";       // --loss: mse, cross_entropy, logistic.
  std::string reduction;          // --reduction: mean or sum; empty: the loss's default.
  std::string optimizer = "sgd";  // --optimizer: sgd, momentum, adam.
  double learning_rate = 0.01;    // --lr.
  // Unset: the server's default; set: that value (0 included).
  std::optional<double> momentum;  // --momentum (default 0.9).
  std::optional<double> beta1;     // --beta1 (default 0.9).
  std::optional<double> beta2;     // --beta2 (default 0.999).
  std::optional<double> epsilon;   // --eps (default 1e-8).
  std::string init = "xavier";     // --init: normal:STD, uniform:A, xavier, kaiming.
  uint64_t seed = 0;               // --seed.
};

// SpecFromFlags returns INVALID_ARGUMENT naming the flag (e.g. "--layers: \"784,x\" ...").
absl::StatusOr<v1::ModelSpec> SpecFromFlags(const SpecFlags& flags);

// Float32Problem says why a float flag's `value` cannot be sent (e.g. "is not finite as
// float32, ..."), or returns "" when it can. The spec is float32 on the wire, so 1e99 would
// arrive as inf and 1e-50 as 0, which some flags read as "use the default".
std::string Float32Problem(double value);

// SpecSummary is a one-line description: "784-50-10 tanh,tanh mse(sum) sgd lr=0.0001 ...".
std::string SpecSummary(const v1::ModelSpec& spec);

}  // namespace mlpd

#endif  // MLPD_CLIENT_SPEC_FLAGS_H_
