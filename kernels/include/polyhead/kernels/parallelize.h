// pthreadpool's parallel sections for Polyhead's own code: every place that hands work of ours to
// the pool (our kernels, the runtime's heads in parallel) calls these instead of
// pthreadpool_parallelize_* directly.
//
// Why: pthreadpool comes from Debian uninstrumented, so ThreadSanitizer does not see the
// synchronisation inside it (atomics and futexes in its code). Our task callbacks do run
// instrumented on its worker threads, and without the edges below every write they make would
// look racy to the calling thread that reads the results. Under ThreadSanitizer these wrappers
// state the happens-before edges pthreadpool really provides: the caller's work before the section
// happens before every task (release before, acquire at a task's start), and every task happens
// before the caller's work after it (release at a task's end, acquire after the section returns).
// Built without ThreadSanitizer they are the plain calls (docs/reliability.md, "ThreadSanitizer").
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_THREAD__)
#define POLYHEAD_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define POLYHEAD_THREAD_SANITIZER 1
#endif
#endif

#ifdef POLYHEAD_THREAD_SANITIZER
// ThreadSanitizer's annotation interface (its runtime defines them).
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace polyhead::kernels {

namespace detail {

#ifdef POLYHEAD_THREAD_SANITIZER
// One parallel section: the caller's task and context, and two synchronisation objects (their
// addresses) that the edges go through. Two, so that tasks acquire only what the caller released
// and never what another task did: a task that starts after another ends on a worker is not
// ordered after it by pthreadpool, and races between the tasks of a section stay visible.
template <typename... Args>
struct AnnotatedSection {
  void (*task)(void*, Args...);
  void* context;
  char begin = 0;  // the caller releases, each task acquires at its start
  char end = 0;    // each task releases at its end, the caller acquires after the section

  // Stands in for `task`.
  static void run(void* section, Args... args) {
    auto* s = static_cast<AnnotatedSection*>(section);
    __tsan_acquire(&s->begin);
    s->task(s->context, args...);
    __tsan_release(&s->end);
  }
};
#endif

}  // namespace detail

inline void parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context,
                           size_t range, uint32_t flags) {
#ifdef POLYHEAD_THREAD_SANITIZER
  detail::AnnotatedSection<size_t> section{task, context};
  __tsan_release(&section.begin);
  pthreadpool_parallelize_1d(pool, &decltype(section)::run, &section, range, flags);
  __tsan_acquire(&section.end);
#else
  pthreadpool_parallelize_1d(pool, task, context, range, flags);
#endif
}

inline void parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task,
                                   void* context, size_t range, size_t tile, uint32_t flags) {
#ifdef POLYHEAD_THREAD_SANITIZER
  detail::AnnotatedSection<size_t, size_t> section{task, context};
  __tsan_release(&section.begin);
  pthreadpool_parallelize_1d_tile_1d(pool, &decltype(section)::run, &section, range, tile, flags);
  __tsan_acquire(&section.end);
#else
  pthreadpool_parallelize_1d_tile_1d(pool, task, context, range, tile, flags);
#endif
}

inline void parallelize_2d_tile_2d(pthreadpool_t pool, pthreadpool_task_2d_tile_2d_t task,
                                   void* context, size_t range_i, size_t range_j, size_t tile_i,
                                   size_t tile_j, uint32_t flags) {
#ifdef POLYHEAD_THREAD_SANITIZER
  detail::AnnotatedSection<size_t, size_t, size_t, size_t> section{task, context};
  __tsan_release(&section.begin);
  pthreadpool_parallelize_2d_tile_2d(pool, &decltype(section)::run, &section, range_i, range_j,
                                     tile_i, tile_j, flags);
  __tsan_acquire(&section.end);
#else
  pthreadpool_parallelize_2d_tile_2d(pool, task, context, range_i, range_j, tile_i, tile_j, flags);
#endif
}

}  // namespace polyhead::kernels
