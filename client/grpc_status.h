// grpc_status.h: conversion between grpc::Status and absl::Status, code for code.
//
// The two enums share their numbering (both follow google.rpc.Code), so the conversion keeps
// the code and the message unchanged; the CLI prints the result as "CODE_NAME: message".
//
//   absl::Status status = ToAbslStatus(stub->GetSession(&context, request, &info));
//   std::cerr << StatusLine(status) << "\n";  // NOT_FOUND: session "x" does not exist
#ifndef MLPD_CLIENT_GRPC_STATUS_H_
#define MLPD_CLIENT_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace mlpd {

absl::Status ToAbslStatus(const grpc::Status& status);

// StatusLine is "CODE_NAME: message" (e.g. "INVALID_ARGUMENT: x.shape[1] is 3, ...").
std::string StatusLine(const absl::Status& status);

}  // namespace mlpd

#endif  // MLPD_CLIENT_GRPC_STATUS_H_
