// wire.h: checked views of the API's tensors and batches, and status conversion.
//
// Handlers read request tensors in place: a MatrixView points into the parsed message's
// repeated field, so a batch is never copied between the wire and the engine. Every check
// names the field, the expected and the received value.
//
//   MLPD_ASSIGN_OR_RETURN(MatrixView x, ViewTensor("x", request.x()));
//   MLPD_ASSIGN_OR_RETURN(BatchView batch, ViewBatch("batch", request.batch()));
//   reactor->Finish(ToGrpcStatus(status));
#ifndef MLPD_SERVER_WIRE_H_
#define MLPD_SERVER_WIRE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model.h"
#include "core/model_spec.h"
#include "core/tensor.h"
#include "grpcpp/support/status.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

// BatchView is a request's batch as the engine reads it.
struct BatchView {
  MatrixView x;
  TargetsView y;
};

// ViewTensor checks that `tensor` is a non-empty [rows, cols] matrix whose data has
// rows * cols finite values, and views it.
absl::StatusOr<MatrixView> ViewTensor(absl::string_view field, const v1::Tensor& tensor);

// ViewBatch checks x and exactly one of targets (same rows, finite) or labels (one per row,
// >= 0) and views them.
absl::StatusOr<BatchView> ViewBatch(absl::string_view field, const v1::Batch& batch);

// WriteTensor sets `tensor` to the [rows, cols] matrix.
void WriteTensor(const Matrix& matrix, v1::Tensor* tensor);

// WriteEvaluation fills an EvalResult: error_rate is set only for classification data.
void WriteEvaluation(const Evaluation& evaluation, v1::EvalResult* result);

// WriteClasses sets the predicted class of each output row (see PredictResponse.classes): the
// sign of a LOGISTIC score (-1 or +1), the argmax of several outputs, none for one output.
void WriteClasses(LossKind loss, const Matrix& outputs,
                  google::protobuf::RepeatedField<int32_t>* classes);

// ToGrpcStatus maps the absl code 1:1 to the gRPC code, keeping the message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// StatusCodeName is "INVALID_ARGUMENT" etc., for logs.
std::string StatusCodeName(absl::StatusCode code);

}  // namespace mlpd

#endif  // MLPD_SERVER_WIRE_H_
