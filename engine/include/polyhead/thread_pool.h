// ThreadPool: worker threads that several engines share. An app running three models on a 2-core
// phone hands one pool of 2 threads to all three engines instead of letting each make its own, so
// at most two threads compute at any time.
//
//   auto pool = polyhead::ThreadPool::create(2);
//   polyhead::EngineOptions options;
//   options.thread_pool = *pool;  // every engine given `pool` parallelises on it
//
// Engines sharing a pool take turns on it: a parallel section of one waits for another's to end.
// That wait (the pool's own lock) is the only synchronisation on the run path; runs that use no
// pool, and single-threaded engines, touch none. The pool lives as long as any engine using it.
#pragma once

#include <cstddef>
#include <memory>

#include "polyhead/result.h"

namespace polyhead {

namespace detail {
struct ThreadPoolState;
}  // namespace detail

class ThreadPool {
 public:
  // An empty handle: engines given it make their own pool of EngineOptions::threads.
  ThreadPool() = default;
  // `threads` = 0 picks one per logical processor; at most 1024. One thread makes a pool that
  // runs everything on the calling thread.
  static Result<ThreadPool> create(size_t threads);

  // Threads of the pool (the calling thread counts as one); 0 for an empty handle.
  size_t threads() const;
  explicit operator bool() const { return state_ != nullptr; }

  // For the engine: the shared implementation.
  const std::shared_ptr<detail::ThreadPoolState>& state() const { return state_; }

 private:
  explicit ThreadPool(std::shared_ptr<detail::ThreadPoolState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::ThreadPoolState> state_;
};

}  // namespace polyhead
