// The dataset handlers: UploadDataset (the stream itself is UploadReactor), GetDataset,
// ListDatasets, DeleteDataset.
#include <memory>
#include <vector>

#include "server/answer.h"
#include "server/service.h"
#include "server/upload_reactor.h"

namespace mlpd {

grpc::ServerReadReactor<v1::UploadDatasetRequest>* MlpdService::UploadDataset(
    grpc::CallbackServerContext* context, v1::DatasetInfo* response) {
  if (const absl::Status status = Admit(*context); !status.ok()) {
    return Refuse<grpc::ServerReadReactor<v1::UploadDatasetRequest>>("UploadDataset", "", status);
  }
  return new UploadReactor(&datasets_, context, response);
}

grpc::ServerUnaryReactor* MlpdService::GetDataset(grpc::CallbackServerContext* context,
                                                  const v1::GetDatasetRequest* request,
                                                  v1::DatasetInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<std::shared_ptr<StoredDataset>> dataset =
        datasets_.Find("name", request->name());
    status = dataset.status();
    if (status.ok()) FillDatasetInfo(**dataset, response);
  }
  Answer(reactor, "GetDataset", request->name(), status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::ListDatasets(grpc::CallbackServerContext* context,
                                                    const v1::ListDatasetsRequest* request,
                                                    v1::ListDatasetsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  std::vector<std::shared_ptr<StoredDataset>> page;
  if (status.ok()) {
    status = datasets_.Page(request->page_size(), request->page_token(), &page,
                            response->mutable_next_page_token());
  }
  if (status.ok()) {
    for (const auto& dataset : page) {
      if (dataset->ready) FillDatasetInfo(*dataset, response->add_datasets());
    }
  }
  Answer(reactor, "ListDatasets", "", status);
  return reactor;
}

grpc::ServerUnaryReactor* MlpdService::DeleteDataset(grpc::CallbackServerContext* context,
                                                     const v1::DeleteDatasetRequest* request,
                                                     v1::DeleteDatasetResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Admit(*context);
  absl::StatusOr<std::shared_ptr<StoredDataset>> dataset;
  if (status.ok()) {
    dataset = datasets_.Find("name", request->name());
    status = dataset.status();
  }
  if (!status.ok()) {
    Answer(reactor, "DeleteDataset", request->name(), status);
    return reactor;
  }
  datasets_.Delete(reactor, *std::move(dataset));
  return reactor;
}

}  // namespace mlpd
