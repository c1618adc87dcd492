// PlaceDataset: the dataset goes to the session's server (every call routed by the session),
// uploaded only when that server lacks it, against a real in-process server and a scripted
// one that records the routing header.
#include "client/dataset_placement.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/client/scripted_server.h"

namespace mlpd {
namespace {

// Rows of one input and one class label: x = i, label = i % 2.
Dataset LabelledRows(int64_t rows) {
  Dataset dataset;
  dataset.x.rows = rows;
  dataset.x.cols = 1;
  for (int64_t i = 0; i < rows; ++i) {
    dataset.x.data.push_back(static_cast<float>(i));
    dataset.labels.push_back(static_cast<int32_t>(i % 2));
  }
  dataset.has_labels = true;
  return dataset;
}

std::unique_ptr<Client> ClientOf(int port) {
  ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.timeout = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

TEST(PlaceDatasetTest, UploadsOnlyWhatTheServerLacksAndKeepsWhatItHas) {
  Server server;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  absl::StatusOr<int> port = server.Start(options);
  ASSERT_TRUE(port.ok()) << port.status();
  std::unique_ptr<Client> client = ClientOf(*port);
  ASSERT_NE(client, nullptr);

  absl::StatusOr<PlacedDataset> first = PlaceDataset(*client, "digits", "rows", LabelledRows(6));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->uploaded);
  EXPECT_EQ(first->info.name(), "rows");
  EXPECT_EQ(first->info.rows(), 6);

  // The server has "rows" now: other rows under that name are not sent, its copy stays.
  absl::StatusOr<PlacedDataset> again = PlaceDataset(*client, "digits", "rows", LabelledRows(9));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->uploaded);
  EXPECT_EQ(again->info.rows(), 6);
  absl::StatusOr<v1::DatasetInfo> held = client->GetDataset("rows");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->rows(), 6);

  // Data the server refuses comes back as its error.
  Dataset empty;
  empty.x.cols = 1;
  EXPECT_EQ(PlaceDataset(*client, "digits", "none", empty).status().code(),
            absl::StatusCode::kInvalidArgument);
  server.Shutdown();
}

// RacingService has no dataset until someone else's upload of it wins: GetDataset answers
// NOT_FOUND first, UploadDataset ALREADY_EXISTS, and GetDataset then the dataset. It records
// each call, in order, with the routing header it received.
class RacingService final : public v1::Mlpd::Service {
 public:
  grpc::Status GetDataset(grpc::ServerContext* context, const v1::GetDatasetRequest* request,
                          v1::DatasetInfo* response) override {
    Record(absl::StrCat("GetDataset ", request->name(), " ", Route(*context)));
    absl::MutexLock lock(&mutex_);
    if (!uploaded_) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such dataset");
    response->set_name(request->name());
    response->set_rows(3);
    return grpc::Status::OK;
  }
  grpc::Status UploadDataset(grpc::ServerContext* context,
                             grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                             v1::DatasetInfo*) override {
    v1::UploadDatasetRequest chunk;
    std::string name;
    while (reader->Read(&chunk)) {
      if (!chunk.name().empty()) name = chunk.name();
    }
    Record(absl::StrCat("UploadDataset ", name, " ", Route(*context)));
    absl::MutexLock lock(&mutex_);
    uploaded_ = true;
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "uploaded by another client");
  }
  grpc::Status DeleteDataset(grpc::ServerContext* context, const v1::DeleteDatasetRequest* request,
                             v1::DeleteDatasetResponse*) override {
    Record(absl::StrCat("DeleteDataset ", request->name(), " ", Route(*context)));
    return grpc::Status::OK;
  }
  // TakeCalls returns the calls recorded so far and forgets them.
  std::vector<std::string> TakeCalls() {
    std::vector<std::string> taken;
    absl::MutexLock lock(&mutex_);
    taken.swap(calls_);
    return taken;
  }

 private:
  void Record(std::string call) {
    absl::MutexLock lock(&mutex_);
    calls_.push_back(std::move(call));
  }
  static std::string Route(const grpc::ServerContext& context) {
    auto found = context.client_metadata().find(kSessionHeader);
    if (found == context.client_metadata().end()) return "(none)";
    return std::string(found->second.data(), found->second.size());
  }

  absl::Mutex mutex_;
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mutex_);
  bool uploaded_ ABSL_GUARDED_BY(mutex_) = false;
};

TEST(PlaceDatasetTest, EveryCallIsRoutedByTheSessionAndALostUploadRaceFindsTheWinner) {
  RacingService service;
  ScriptedServer scripted = StartScripted(&service);
  ASSERT_NE(scripted.server, nullptr);
  std::unique_ptr<Client> client = ClientOf(scripted.port);
  ASSERT_NE(client, nullptr);

  CallOptions call;
  call.routing_session = "someone-else";  // Replaced: the dataset goes where the session is.
  absl::StatusOr<PlacedDataset> placed =
      PlaceDataset(*client, "digits", "rows", LabelledRows(3), call);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_FALSE(placed->uploaded);
  EXPECT_EQ(placed->info.rows(), 3);
  EXPECT_EQ(service.TakeCalls(),
            (std::vector<std::string>{"GetDataset rows digits", "UploadDataset rows digits",
                                      "GetDataset rows digits"}));

  // Without a session, dataset calls route by the dataset's own name; a given one wins.
  ASSERT_TRUE(client->GetDataset("rows").ok());
  EXPECT_EQ(client->UploadDataset("other", LabelledRows(2)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(client->GetDataset("rows", call).ok());
  EXPECT_TRUE(client->DeleteDataset("rows").ok());
  EXPECT_TRUE(client->DeleteDataset("rows", call).ok());
  EXPECT_EQ(service.TakeCalls(),
            (std::vector<std::string>{"GetDataset rows rows", "UploadDataset other other",
                                      "GetDataset rows someone-else", "DeleteDataset rows rows",
                                      "DeleteDataset rows someone-else"}));
  scripted.server->Shutdown();
}

}  // namespace
}  // namespace mlpd
