// interrupt.h: Ctrl-C during a long call (train) cancels the call instead of killing mlpctl.
//
// While an InterruptWatcher is alive, the first SIGINT cancels its Cancellation (the server
// stops between mini-batches and the steps applied stay applied); a second SIGINT exits at once
// with 130. A signal handler may only do async-signal-safe work while cancelling a gRPC call
// takes locks, so the handler writes a byte to a pipe and a watcher thread does the cancel.
//
//   Cancellation cancellation;
//   {
//     InterruptWatcher watcher(&cancellation);
//     summary = client.Train(request, on_progress, call);  // call.cancellation = &cancellation
//   }
#ifndef MLPD_CLIENT_MLPCTL_INTERRUPT_H_
#define MLPD_CLIENT_MLPCTL_INTERRUPT_H_

#include <signal.h>

#include <functional>
#include <thread>

#include "client/client.h"

namespace mlpd::mlpctl {

// InterruptWatcher cancels `cancellation` (or calls `on_interrupt`, on its own thread) on the
// first SIGINT while it is alive; the previous SIGINT handler is restored when it is destroyed.
// One at a time per process.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(Cancellation* cancellation);
  explicit InterruptWatcher(std::function<void()> on_interrupt);
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

 private:
  bool installed_ = false;
  struct sigaction previous_ = {};
  std::thread thread_;
};

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_INTERRUPT_H_
