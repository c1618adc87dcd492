// import_reactor.h: the ImportSession stream: reads chunks of an export, bounded by what the
// largest allowed session can take, and hands the whole export on at the end of the stream.
//
// The first chunk names the session and the format, which are checked before any more data is
// read. A stream that is cancelled, or ends before the total_bytes its first chunk announced,
// creates nothing.
//
//   return new ImportReactor(context, max_bytes, [](ImportedExport import, Done done) { ... });
#ifndef MLPD_SERVER_IMPORT_REACTOR_H_
#define MLPD_SERVER_IMPORT_REACTOR_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

// ImportedExport is a whole ImportSession stream.
struct ImportedExport {
  std::string name;
  v1::ExportFormat format = v1::EXPORT_FORMAT_UNSPECIFIED;
  std::string data;
};

class ImportReactor : public grpc::ServerReadReactor<v1::ImportSessionRequest> {
 public:
  // Done answers the call; Create makes the session from the stream and calls `done` once.
  using Done = std::function<void(const absl::Status&)>;
  using Create = std::function<void(ImportedExport import, Done done)>;

  // `max_bytes` bounds the export (the largest checkpoint --max-session-params allows).
  ImportReactor(grpc::CallbackServerContext* context, int64_t max_bytes, Create create);

  void OnReadDone(bool ok) override;
  void OnDone() override;

 private:
  void Fail(const absl::Status& status);
  // Append checks the chunk just read and appends its data.
  absl::Status Append();
  // Complete hands the whole export on at the end of the stream.
  void Complete();

  grpc::CallbackServerContext* const context_;
  const int64_t max_bytes_;
  const Create create_;
  v1::ImportSessionRequest chunk_;
  ImportedExport import_;
  int64_t chunks_ = 0;
  int64_t total_bytes_ = 0;  // From the first chunk; 0: not announced.
};

}  // namespace mlpd

#endif  // MLPD_SERVER_IMPORT_REACTOR_H_
