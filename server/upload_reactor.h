// upload_reactor.h: the UploadDataset stream: reads chunks, checks each one and appends it;
// registers the dataset at the end of the stream and answers once its file is written.
//
// The chunks' bytes are reserved against --max-datasets-mb as they arrive, so an upload that
// would pass the limit fails at the chunk that passes it; a failed or cancelled upload gives
// its bytes back and leaves nothing behind.
//
//   return new UploadReactor(&datasets, context, response);  // deletes itself when done
#ifndef MLPD_SERVER_UPLOAD_REACTOR_H_
#define MLPD_SERVER_UPLOAD_REACTOR_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/datasets.h"

namespace mlpd {

class UploadReactor : public grpc::ServerReadReactor<v1::UploadDatasetRequest> {
 public:
  UploadReactor(Datasets* datasets, grpc::CallbackServerContext* context,
                v1::DatasetInfo* response);

  void OnReadDone(bool ok) override;
  void OnDone() override;

 private:
  void Fail(const absl::Status& status);
  // ReleaseBudget returns the bytes this upload counted unless the dataset was registered
  // (then they belong to it). Called once the upload has failed or ended.
  void ReleaseBudget();
  // Append checks the chunk just read and appends its rows.
  absl::Status Append();
  // Complete registers the dataset at the end of the stream.
  void Complete();

  Datasets* const datasets_;
  grpc::CallbackServerContext* const context_;
  v1::DatasetInfo* const response_;
  v1::UploadDatasetRequest chunk_;
  std::shared_ptr<StoredDataset> dataset_;
  int64_t chunks_ = 0;
  int64_t total_rows_ = 0;  // From the first chunk; 0: not announced.
  int64_t reserved_ = 0;    // Bytes this upload counted in the datasets' budget.
  bool registered_ = false;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_UPLOAD_REACTOR_H_
