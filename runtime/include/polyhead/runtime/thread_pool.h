// ThreadPool: the pthreadpool that kernels parallelise over, shareable by several engines. One
// thread means no pool at all, so single-threaded runs never touch a synchronisation primitive.
#pragma once

#include <pthreadpool.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace polyhead::runtime {

class ThreadPool {
 public:
  // `threads` = 0 picks the number of logical processors.
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  pthreadpool_t get() const { return pool_; }
  size_t threads() const { return threads_; }

  // Plan runs in progress on this pool, from any engine sharing it. pthreadpool runs one parallel
  // section at a time, so while two runs overlap a step gains nothing from queueing for the pool:
  // each runs its steps on its own thread until it is alone again (ExecutionPlan::run).
  void enter_run() { runs_.fetch_add(1, std::memory_order_relaxed); }
  void leave_run() { runs_.fetch_sub(1, std::memory_order_relaxed); }
  bool shared_now() const { return runs_.load(std::memory_order_relaxed) > 1; }

  // After a parallel section pthreadpool's workers spin (about a million pause instructions)
  // waiting for the next one, which is right while one run keeps them busy but steals a core from
  // runs that no longer use the pool. Runs mark the pool after handing it work; a run that finds
  // the pool shared sends the workers to sleep at once if they may be spinning (once per
  // switch, whichever run or engine used the pool last).
  void note_workers_busy() {
    if (!workers_busy_.load(std::memory_order_relaxed))
      workers_busy_.store(true, std::memory_order_relaxed);
  }
  void park_workers_if_busy();

 private:
  pthreadpool_t pool_ = nullptr;
  size_t threads_ = 1;
  std::atomic<uint32_t> runs_{0};
  std::atomic<bool> workers_busy_{false};
};

}  // namespace polyhead::runtime
