// The shared state behind polyhead::ThreadPool handles: one runtime pool, alive while any handle
// or engine holds it.
#pragma once

#include <cstddef>

#include "polyhead/runtime/thread_pool.h"

namespace polyhead::detail {

struct ThreadPoolState {
  explicit ThreadPoolState(size_t threads) : pool(threads) {}
  runtime::ThreadPool pool;
};

}  // namespace polyhead::detail
