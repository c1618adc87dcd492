// export_reactor.h: the ExportSession stream: sends an export, made on the compute executor,
// as chunks far below any message limit, so a model of any size the server allows can leave.
//
//   auto* reactor = new ExportReactor("ExportSession", name, format);  // deletes itself
//   ... on the executor: reactor->Send(status, std::move(bytes));
#ifndef MLPD_SERVER_EXPORT_REACTOR_H_
#define MLPD_SERVER_EXPORT_REACTOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/server_callback.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

// kExportChunkBytes is the most data one ExportSessionResponse carries: below the smallest
// --max-message-mb (1) with room for the message's other fields.
inline constexpr int64_t kExportChunkBytes = 512 << 10;

class ExportReactor : public grpc::ServerWriteReactor<v1::ExportSessionResponse> {
 public:
  ExportReactor(std::string name, v1::ExportFormat format);

  // Send starts the stream of `bytes` when `status` is OK, else ends the call with `status`.
  // Called once, from any thread.
  void Send(const absl::Status& status, std::string bytes);

  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // WriteNext writes the chunk at `offset_`, or finishes after the last one.
  void WriteNext();

  const std::string name_;
  const v1::ExportFormat format_;
  std::string bytes_;
  int64_t offset_ = 0;
  bool sent_first_ = false;
  v1::ExportSessionResponse chunk_;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_EXPORT_REACTOR_H_
