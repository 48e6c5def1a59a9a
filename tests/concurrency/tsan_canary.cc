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
  std::atomic<int> started{0}, written{0};
  int value = 0;  // written by both tasks without synchronisation: the race
  int seen[2] = {0, 0};
  bool met = true;
};

// Until `counter` reaches 2, or false after 10 s.
bool wait_for_both(const std::atomic<int>& counter) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (counter.load(std::memory_order_relaxed) < 2)
    if (std::chrono::steady_clock::now() > give_up) return false;
  return true;
}

// Each task waits (relaxed atomics: no happens-before for ThreadSanitizer) until both run, so that
// they run at once on two threads, and writes the same int. Two writes at the same instant can
// both miss the other in ThreadSanitizer's shadow memory (one CI run reported nothing), so each
// task then waits until both have written and reads the int: the other task's write is recorded
// by then, and the read races with it for certain.
void race_between_tasks(void* context, size_t index) {
  auto* shared = static_cast<Shared*>(context);
  shared->started.fetch_add(1, std::memory_order_relaxed);
  if (!wait_for_both(shared->started)) {
    shared->met = false;
    return;
  }
  shared->value = static_cast<int>(index) + 1;
  shared->written.fetch_add(1, std::memory_order_relaxed);
  if (!wait_for_both(shared->written)) {
    shared->met = false;
    return;
  }
  shared->seen[index] = shared->value;
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
  std::printf("tsan canary: both tasks wrote (last value %d, read %d and %d)\n", shared.value,
              shared.seen[0], shared.seen[1]);
  return 0;
}
