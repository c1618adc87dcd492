// data_writer.h: the service's way to the data dir: every file write and removal runs on one
// SerialWorker, in the order posted, so the compute executor never waits for a disk.
//
// A service without a data dir has a DataWriter that keeps nothing: keeps_data() is false and
// RemoveThenForget only forgets.
//
//   DataWriter files(&store, &worker);
//   if (files.keeps_data()) files.Post([](DataDir& store) { store.SaveSession(...); });
#ifndef MLPD_SERVER_DATA_WRITER_H_
#define MLPD_SERVER_DATA_WRITER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/server_callback.h"
#include "server/data_dir.h"
#include "server/serial_worker.h"

namespace mlpd {

class DataWriter {
 public:
  // `store` and `worker` may be null together: nothing is kept on disk.
  DataWriter(DataDir* store, SerialWorker* worker)
      : store_(worker != nullptr ? store : nullptr), worker_(worker) {}

  bool keeps_data() const { return store_ != nullptr; }

  // Post runs `task` on the writer thread behind every task posted before it. Only when
  // keeps_data().
  void Post(std::function<void(DataDir&)> task) const;

  // RemoveThenForget runs `remove` (a file removal) on the writer, behind every file write
  // queued before it, then `forget` (the removal from memory) if it succeeded, and answers the
  // call with the first failure. Without a data dir only `forget` runs, at once. So memory
  // follows disk: a deletion that fails on disk leaves the entry in both.
  void RemoveThenForget(grpc::ServerUnaryReactor* reactor, const char* method,
                        const std::string& name, std::function<absl::Status(DataDir&)> remove,
                        std::function<absl::Status()> forget) const;

 private:
  DataDir* const store_;
  SerialWorker* const worker_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_DATA_WRITER_H_
