#include "polyhead/thread_pool.h"

#include <string>

#include "out_of_memory.h"
#include "thread_pool_state.h"

namespace polyhead {

Result<ThreadPool> ThreadPool::create(size_t threads) {
  return detail::answer_out_of_memory("ThreadPool::create", [&]() -> Result<ThreadPool> {
    if (threads > 1024)
      return Status(ErrorCode::kInvalidArgument,
                    "thread pool: threads must be at most 1024, found " + std::to_string(threads));
    auto state = std::make_shared<detail::ThreadPoolState>(threads);
    PH_RETURN_IF_ERROR(state->check_started(threads, "thread pool: "));
    return ThreadPool(std::move(state));
  });
}

size_t ThreadPool::threads() const {
  return state_ ? state_->pool.threads() : 0;
}

}  // namespace polyhead
