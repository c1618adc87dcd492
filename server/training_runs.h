// training_runs.h: the training runs open at once (Train calls and jobs) and what they hold.
//
// A run holds memory for as long as it is open besides its session's state: the shuffle order of
// its dataset (8 bytes a row), the gathered mini-batch and keep_best's copy of the parameters.
// Over an 8 M-row dataset that is 61 MiB a run, and nothing else bounded how many were open. A
// run is opened before anything of it is allocated and takes a lease: one of --max-trains runs,
// and its bytes reserved in --max-sessions-mb with the sessions' parameters and optimizer state
// (the activations of calls fit in what both leave). Over either limit the call is refused at
// once with RESOURCE_EXHAUSTED naming the flag. The lease gives both back when the run ends.
//
//   TrainingRuns runs(options.max_trains, &sessions);
//   absl::StatusOr<TrainingRuns::Lease> lease = runs.Open({bytes, "Train of session \"a\""});
//   if (!lease.ok()) return lease.status();
//   ...  // the run; destroying the lease (or Release) ends it
#ifndef MLPD_SERVER_TRAINING_RUNS_H_
#define MLPD_SERVER_TRAINING_RUNS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/named_registry.h"
#include "server/session.h"

namespace mlpd {

// RunCost is what a run holds while it is open, and how refusals name it.
struct RunCost {
  int64_t bytes = 0;
  std::string what;  // "Train of session \"a\" over dataset \"d\"".
  std::string held;  // What the bytes are for: "the shuffle order of 8000000 rows, a mini-batch".
};

class TrainingRuns {
 public:
  // Lease is one open run. Movable; ends the run when destroyed or released.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { Release(); }
    // Release gives the run's place and bytes back; later calls do nothing.
    void Release();
    int64_t bytes() const { return bytes_; }

   private:
    friend class TrainingRuns;
    Lease(TrainingRuns* runs, int64_t bytes) : runs_(runs), bytes_(bytes) {}
    TrainingRuns* runs_ = nullptr;
    int64_t bytes_ = 0;
  };

  // `max_runs` is --max-trains (0: no limit). `memory` holds the sessions, whose byte limit
  // (--max-sessions-mb) the runs' memory counts in; may be null (no memory is counted).
  TrainingRuns(int64_t max_runs, NamedRegistry<Session>* memory);

  // Open opens a run that holds `cost.bytes`, or refuses with RESOURCE_EXHAUSTED naming
  // --max-trains or --max-sessions-mb and the sizes; nothing is counted then.
  absl::StatusOr<Lease> Open(const RunCost& cost);
  // OpenPastLimits opens the run even past the limits (a job the previous server was running,
  // resumed at start-up, is not lost); `over` gets Open's refusal, or is cleared when it fits.
  Lease OpenPastLimits(const RunCost& cost, std::string* over);

  int64_t open() const;
  int64_t max_runs() const { return max_runs_; }

 private:
  void Close(int64_t bytes);

  const int64_t max_runs_;
  NamedRegistry<Session>* const memory_;

  mutable absl::Mutex mutex_;
  int64_t open_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace mlpd

#endif  // MLPD_SERVER_TRAINING_RUNS_H_
