#include "polyhead/runtime/thread_pool.h"

#include <algorithm>
#include <thread>

namespace polyhead::runtime {

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  if (threads > 1) pool_ = pthreadpool_create(threads);
  threads_ = pool_ ? pthreadpool_get_threads_count(pool_) : 1;
}

ThreadPool::~ThreadPool() {
  if (pool_) pthreadpool_destroy(pool_);
}

}  // namespace polyhead::runtime
