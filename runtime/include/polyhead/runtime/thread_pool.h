// ThreadPool: the pthreadpool that kernels parallelise over. One thread means no pool at all, so
// single-threaded runs never touch a synchronisation primitive.
#pragma once

#include <pthreadpool.h>

#include <cstddef>

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

 private:
  pthreadpool_t pool_ = nullptr;
  size_t threads_ = 1;
};

}  // namespace polyhead::runtime
