// spec_enums.h: the one table per enum of the model spec, tying together its core value, its
// value in the API (mlpd.v1, model.proto) and its name on the command line and in logs.
//
// Every conversion (core <-> proto in spec_proto.cc, name <-> core in model_spec.cc, the lists
// of names in mlpctl's messages) reads these tables, so adding an activation, a loss, an
// optimizer or an initialisation is one row here (next to its enum value in model_spec.h and
// model.proto, and its math).
//
//   absl::string_view name = NameOf(kActivationTable, Activation::kTanh);   // "tanh"
//   std::optional<Activation> tanh = CoreOfProto(kActivationTable, v1::ACTIVATION_TANH);
//   std::string expected = JoinedNames(kActivationTable);  // "identity, relu, tanh, sigmoid"
#ifndef MLPD_CORE_SPEC_ENUMS_H_
#define MLPD_CORE_SPEC_ENUMS_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/model_spec.h"
#include "mlpd/v1/model.pb.h"

namespace mlpd {

// EnumRow is one value of a spec enum, as core, the API and people spell it.
template <typename Core, typename Proto>
struct EnumRow {
  Core core;
  Proto proto;
  absl::string_view name;
};

inline constexpr EnumRow<Activation, v1::Activation> kActivationTable[] = {
    {Activation::kIdentity, v1::ACTIVATION_IDENTITY, "identity"},
    {Activation::kRelu, v1::ACTIVATION_RELU, "relu"},
    {Activation::kTanh, v1::ACTIVATION_TANH, "tanh"},
    {Activation::kSigmoid, v1::ACTIVATION_SIGMOID, "sigmoid"},
};

inline constexpr EnumRow<LossKind, v1::LossKind> kLossKindTable[] = {
    {LossKind::kMse, v1::LOSS_KIND_MSE, "mse"},
    {LossKind::kCrossEntropy, v1::LOSS_KIND_CROSS_ENTROPY, "cross_entropy"},
    {LossKind::kLogistic, v1::LOSS_KIND_LOGISTIC, "logistic"},
};

inline constexpr EnumRow<Reduction, v1::Reduction> kReductionTable[] = {
    {Reduction::kMean, v1::REDUCTION_MEAN, "mean"},
    {Reduction::kSum, v1::REDUCTION_SUM, "sum"},
};

inline constexpr EnumRow<OptimizerKind, v1::OptimizerKind> kOptimizerKindTable[] = {
    {OptimizerKind::kSgd, v1::OPTIMIZER_KIND_SGD, "sgd"},
    {OptimizerKind::kMomentum, v1::OPTIMIZER_KIND_MOMENTUM, "momentum"},
    {OptimizerKind::kAdam, v1::OPTIMIZER_KIND_ADAM, "adam"},
};

inline constexpr EnumRow<InitKind, v1::InitKind> kInitKindTable[] = {
    {InitKind::kNormal, v1::INIT_KIND_NORMAL, "normal"},
    {InitKind::kUniform, v1::INIT_KIND_UNIFORM, "uniform"},
    {InitKind::kXavier, v1::INIT_KIND_XAVIER, "xavier"},
    {InitKind::kKaiming, v1::INIT_KIND_KAIMING, "kaiming"},
};

// FindRow is the first row of `table` that `matches`, or null.
template <typename Row, size_t N, typename Matches>
constexpr const Row* FindRow(const Row (&table)[N], Matches matches) {
  for (const Row& row : table) {
    if (matches(row)) return &row;
  }
  return nullptr;
}

// NameOf is the name of `value`, or "unknown" for a value not in the table (a corrupt enum).
template <typename Core, typename Proto, size_t N>
constexpr absl::string_view NameOf(const EnumRow<Core, Proto> (&table)[N], Core value) {
  const auto* row = FindRow(table, [value](const auto& row) { return row.core == value; });
  return row != nullptr ? row->name : "unknown";
}

// IsKnown is true when `value` is in the table.
template <typename Core, typename Proto, size_t N>
constexpr bool IsKnown(const EnumRow<Core, Proto> (&table)[N], Core value) {
  return FindRow(table, [value](const auto& row) { return row.core == value; }) != nullptr;
}

// CoreOfName is the value named `name` (exactly; callers lower-case first), or nullopt.
template <typename Core, typename Proto, size_t N>
std::optional<Core> CoreOfName(const EnumRow<Core, Proto> (&table)[N], absl::string_view name) {
  const auto* row = FindRow(table, [name](const auto& row) { return row.name == name; });
  return row != nullptr ? std::optional<Core>(row->core) : std::nullopt;
}

// CoreOfProto is the core value of an API value, or nullopt for UNSPECIFIED (0) and for numbers
// this build does not know (a newer client may send one).
template <typename Core, typename Proto, size_t N>
std::optional<Core> CoreOfProto(const EnumRow<Core, Proto> (&table)[N], Proto value) {
  const auto* row = FindRow(table, [value](const auto& row) { return row.proto == value; });
  return row != nullptr ? std::optional<Core>(row->core) : std::nullopt;
}

// ProtoOf is the API value of `value`, or UNSPECIFIED (0) for a value not in the table.
template <typename Core, typename Proto, size_t N>
Proto ProtoOf(const EnumRow<Core, Proto> (&table)[N], Core value) {
  const auto* row = FindRow(table, [value](const auto& row) { return row.core == value; });
  return row != nullptr ? row->proto : static_cast<Proto>(0);
}

// JoinedNames lists every name in table order: "identity, relu, tanh, sigmoid".
template <typename Core, typename Proto, size_t N>
std::string JoinedNames(const EnumRow<Core, Proto> (&table)[N]) {
  return absl::StrJoin(table, ", ", [](std::string* out, const EnumRow<Core, Proto>& row) {
    out->append(row.name.data(), row.name.size());
  });
}

}  // namespace mlpd

#endif  // MLPD_CORE_SPEC_ENUMS_H_
