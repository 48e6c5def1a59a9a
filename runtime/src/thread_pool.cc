#include "polyhead/runtime/thread_pool.h"

#include <algorithm>
#include <thread>

#include "polyhead/kernels/parallelize.h"

namespace polyhead::runtime {

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  if (threads > 1) pool_ = pthreadpool_create(threads);
  threads_ = pool_ ? pthreadpool_get_threads_count(pool_) : 1;
}

ThreadPool::~ThreadPool() {
  if (pool_) pthreadpool_destroy(pool_);
}

void ThreadPool::park_workers_if_busy() {
  if (!pool_ || !workers_busy_.load(std::memory_order_relaxed) ||
      !workers_busy_.exchange(false, std::memory_order_relaxed))
    return;
  // An empty section over one item per thread (fewer items would run inline without waking
  // anyone); the flag makes every worker wait on a futex instead of spinning when it ends.
  kernels::parallelize_1d(
      pool_, [](void*, size_t) {}, nullptr, threads_, PTHREADPOOL_FLAG_YIELD_WORKERS);
}

}  // namespace polyhead::runtime
