#include "server/data_writer.h"

#include <utility>

#include "server/answer.h"

namespace mlpd {

void DataWriter::Post(std::function<void(DataDir&)> task) const {
  DataDir* store = store_;
  worker_->Post([store, task = std::move(task)] { task(*store); });
}

void DataWriter::RemoveThenForget(grpc::ServerUnaryReactor* reactor, const char* method,
                                  const std::string& name,
                                  std::function<absl::Status(DataDir&)> remove,
                                  std::function<absl::Status()> forget) const {
  if (!keeps_data()) {
    Answer(reactor, method, name, forget());
    return;
  }
  Post([reactor, method, name, remove = std::move(remove),
        forget = std::move(forget)](DataDir& store) {
    absl::Status status = remove(store);
    if (status.ok()) status = forget();
    Answer(reactor, method, name, status);
  });
}

}  // namespace mlpd
