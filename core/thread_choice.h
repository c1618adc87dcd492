// thread_choice.h: whether a training step runs on one core or on all of the caller's, chosen
// by measuring both.
//
// A step big enough to split runs up to ~2x faster on both cores of these machines when the
// second core is free, and up to 10x slower when other processes keep it busy: every oneDNN
// primitive ends in a barrier that waits for the descheduled thread (measured with mlpd-bench
// engine at a load average of 20 on 2 cores: the 784-50-10 b1000 step took 21 ms on two
// threads against 1.9 ms on one). No fixed rule is right for both, so ThreadChoice keeps a
// moving average of the step time at each setting and runs the faster, trying the other now
// and then (more rarely the more it lost) to notice when the machine changes.
//
// The choice does not change results: oneDNN's f32 matmul, the elementwise passes and the
// optimizer give bit-identical outputs on one or two threads (checked for the anchor MLPs'
// shapes, and by ModelBehaviourTest's thread-count test).
//
//   ThreadChoice choice;
//   const int threads = choice.Next(available);
//   ... run the step on `threads` threads, timing it ...
//   choice.Record(threads, seconds);
#ifndef MLPD_CORE_THREAD_CHOICE_H_
#define MLPD_CORE_THREAD_CHOICE_H_

#include <cstdint>

namespace mlpd {

class ThreadChoice {
 public:
  // Next is the thread count for the next step: 1 or `available` (> 1).
  int Next(int available);

  // Preferred is the faster setting measured so far (`available` before any measurement).
  int Preferred(int available) const;

  // Record adds a step of `seconds` run on `threads` threads (1 or the available count).
  void Record(int threads, double seconds);

 private:
  // Moving averages of a step's seconds on one thread and on all; 0 until measured.
  double one_ = 0.0;
  double all_ = 0.0;
  int64_t one_runs_ = 0;
  int64_t all_runs_ = 0;
  int64_t steps_ = 0;
};

}  // namespace mlpd

#endif  // MLPD_CORE_THREAD_CHOICE_H_
