#include "polyhead/thread_pool.h"

#include <string>
#include <thread>

#include "out_of_memory.h"
#include "thread_pool_state.h"

namespace polyhead {

Result<ThreadPool> ThreadPool::create(size_t threads) {
  return detail::answer_out_of_memory("ThreadPool::create", [&]() -> Result<ThreadPool> {
    if (threads > 1024)
      return Status(ErrorCode::kInvalidArgument,
                    "thread pool: threads must be at most 1024, found " + std::to_string(threads));
    auto state = std::make_shared<detail::ThreadPoolState>(threads);
    const size_t wanted = threads == 0 ? std::thread::hardware_concurrency() : threads;
    if (wanted > 1 && !state->pool.get())
      return Status(ErrorCode::kOutOfMemory, "thread pool: out of memory: could not start " +
                                                 std::to_string(wanted) + " threads");
    return ThreadPool(std::move(state));
  });
}

size_t ThreadPool::threads() const {
  return state_ ? state_->pool.threads() : 0;
}

}  // namespace polyhead
