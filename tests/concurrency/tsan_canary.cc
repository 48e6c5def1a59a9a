// A deliberate data race that ThreadSanitizer must report (the ctest test `tsan canary` passes
// only on the report; tsan builds only). It proves two things the clean concurrency runs cannot:
// the build is instrumented at all, and the happens-before edges that
// polyhead/kernels/parallelize.h states for pthreadpool (caller to tasks, tasks to caller) do not
// hide a race between two tasks of one section (two tiles writing the same bytes).
#include <atomic>
#include <chrono>
#include <cstdio>

#include "polyhead/kernels/parallelize.h"

namespace {

struct Shared {
  std::atomic<int> started{0};
  int value = 0;  // written by both tasks without synchronisation: the race
  bool met = true;
};

// Each task waits (relaxed atomics: no happens-before for ThreadSanitizer) until both run, so that
// they run at once on two threads, then writes the same int.
void race_between_tasks(void* context, size_t index) {
  auto* shared = static_cast<Shared*>(context);
  shared->started.fetch_add(1, std::memory_order_relaxed);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (shared->started.load(std::memory_order_relaxed) < 2)
    if (std::chrono::steady_clock::now() > give_up) {
      shared->met = false;
      return;
    }
  shared->value = static_cast<int>(index) + 1;
}

}  // namespace

int main() {
  pthreadpool_t pool = pthreadpool_create(2);
  if (!pool) {
    std::fprintf(stderr, "tsan canary: could not start a 2-thread pool\n");
    return 1;
  }
  Shared shared;
  polyhead::kernels::parallelize_1d(pool, race_between_tasks, &shared, 2, 0);
  pthreadpool_destroy(pool);
  if (!shared.met) {
    std::fprintf(stderr, "tsan canary: the two tasks never ran at once\n");
    return 1;
  }
  std::printf("tsan canary: both tasks wrote (last value %d)\n", shared.value);
  return 0;
}
