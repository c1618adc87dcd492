// batch_proto.h: core's matrices and datasets as the API's Tensor and Batch messages.
//
// The client reads data with core's readers (IDX, CSV) and preprocessing, then sends it as
// v1::Batch rows; predictions come back as v1::Tensor and are read as a Matrix.
//
//   v1::Batch batch;
//   DatasetRowsToBatch(dataset, 0, dataset.rows(), &batch);  // Cannot fail: it only copies.
//   absl::StatusOr<Matrix> outputs = TensorToMatrix(response.outputs(), "outputs");
//   if (!outputs.ok()) return outputs.status();
#ifndef MLPD_CLIENT_BATCH_PROTO_H_
#define MLPD_CLIENT_BATCH_PROTO_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/dataset.h"
#include "core/tensor.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

// MatrixRowsToTensor writes rows [begin, end) of `matrix` as a [end - begin, cols] tensor.
void MatrixRowsToTensor(MatrixView matrix, int64_t begin, int64_t end, v1::Tensor* tensor);

// DatasetRowsToBatch writes rows [begin, end) of x and of the targets or labels.
void DatasetRowsToBatch(const Dataset& dataset, int64_t begin, int64_t end, v1::Batch* batch);

// TensorToMatrix reads a rank-2 tensor; INVALID_ARGUMENT naming `field` when the shape is not
// rank 2 or disagrees with the data size.
absl::StatusOr<Matrix> TensorToMatrix(const v1::Tensor& tensor, const std::string& field);

// RowsPerChunk is how many rows of `dataset` fit in `chunk_bytes` of float payload (>= 1).
int64_t RowsPerChunk(const Dataset& dataset, int64_t chunk_bytes);

}  // namespace mlpd

#endif  // MLPD_CLIENT_BATCH_PROTO_H_
