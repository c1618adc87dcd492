#include "client/mlpctl/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>

#include "client/mlpctl/command.h"

namespace mlpd::mlpctl {
namespace {

// The handler reaches the watcher thread through this pipe.
int interrupt_pipe[2] = {-1, -1};
std::atomic<int> interrupt_count{0};

extern "C" void OnInterrupt(int) {
  // A second Ctrl-C means "now": the user no longer waits for the clean stop.
  if (interrupt_count.fetch_add(1) >= 1) _exit(kExitInterrupted);
  const char byte = 'c';
  ssize_t written = write(interrupt_pipe[1], &byte, 1);
  (void)written;
}

}  // namespace

InterruptWatcher::InterruptWatcher(Cancellation* cancellation)
    : InterruptWatcher([cancellation] { cancellation->Cancel(); }) {}

InterruptWatcher::InterruptWatcher(std::function<void()> on_interrupt) {
  if (pipe(interrupt_pipe) != 0) return;
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_);
  installed_ = true;
  thread_ = std::thread([on_interrupt = std::move(on_interrupt)] {
    char byte = 0;
    while (read(interrupt_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    if (byte == 'c') on_interrupt();
  });
}

InterruptWatcher::~InterruptWatcher() {
  if (!installed_) return;
  sigaction(SIGINT, &previous_, nullptr);
  const char byte = 'q';
  ssize_t written = write(interrupt_pipe[1], &byte, 1);
  (void)written;
  thread_.join();
  close(interrupt_pipe[0]);
  close(interrupt_pipe[1]);
}

}  // namespace mlpd::mlpctl
