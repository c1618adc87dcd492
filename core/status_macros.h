// status_macros.h: early-return helpers for absl::Status and absl::StatusOr.
//
// Abseil 20220623 has no public RETURN_IF_ERROR, so the project defines its own once:
//
//   MLPD_RETURN_IF_ERROR(ValidateModelSpec(spec));
//   MLPD_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(spec));
#ifndef MLPD_CORE_STATUS_MACROS_H_
#define MLPD_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MLPD_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status mlpd_status_ = (expr);        \
    if (!mlpd_status_.ok()) return mlpd_status_; \
  } while (0)

#define MLPD_STATUS_CONCAT_INNER_(a, b) a##b
#define MLPD_STATUS_CONCAT_(a, b) MLPD_STATUS_CONCAT_INNER_(a, b)

#define MLPD_ASSIGN_OR_RETURN(lhs, expr) \
  MLPD_ASSIGN_OR_RETURN_IMPL_(MLPD_STATUS_CONCAT_(mlpd_statusor_, __LINE__), lhs, expr)

#define MLPD_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // MLPD_CORE_STATUS_MACROS_H_
