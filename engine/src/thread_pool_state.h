// The shared state behind polyhead::ThreadPool handles: one runtime pool, alive while any handle
// or engine holds it.
#pragma once

#include <cstddef>
#include <string>
#include <thread>

#include "polyhead/runtime/thread_pool.h"
#include "polyhead/status.h"

namespace polyhead::detail {

struct ThreadPoolState {
  explicit ThreadPoolState(size_t threads) : pool(threads) {}
  runtime::ThreadPool pool;

  // kOutOfMemory when more than one thread was asked for (`threads`, 0 = one per logical
  // processor) and the pool's threads could not start: running on one thread instead would
  // silently change what the caller asked for. `who` begins the message.
  Status check_started(size_t threads, const char* who) const {
    const size_t wanted = threads == 0 ? std::thread::hardware_concurrency() : threads;
    if (wanted <= 1 || pool.get()) return Status::ok();
    return Status(ErrorCode::kOutOfMemory, std::string(who) + "out of memory: could not start " +
                                               std::to_string(wanted) + " threads");
  }
};

}  // namespace polyhead::detail
