#include "support/lock_counter.h"

#include <dlfcn.h>
#include <pthread.h>

#include <atomic>

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_locks{0};

template <typename Fn>
Fn next_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}
}  // namespace

extern "C" {
int pthread_mutex_lock(pthread_mutex_t* m) {
  using Fn = int (*)(pthread_mutex_t*);
  static const Fn real = next_symbol<Fn>("pthread_mutex_lock");
  if (g_counting.load(std::memory_order_relaxed)) g_locks.fetch_add(1, std::memory_order_relaxed);
  return real(m);
}
int pthread_mutex_trylock(pthread_mutex_t* m) {
  using Fn = int (*)(pthread_mutex_t*);
  static const Fn real = next_symbol<Fn>("pthread_mutex_trylock");
  if (g_counting.load(std::memory_order_relaxed)) g_locks.fetch_add(1, std::memory_order_relaxed);
  return real(m);
}
}

namespace polyhead::testing {

long count_locks(const std::function<void()>& body) {
  g_locks = 0;
  g_counting = true;
  body();
  g_counting = false;
  return g_locks.load();
}

}  // namespace polyhead::testing
