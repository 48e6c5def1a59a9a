#include "support/allocation_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

// Called where the armed allocation fails: a breakpoint here (gdb) shows who allocated.
extern "C" [[gnu::noinline]] void polyhead_allocation_failure_injected() {
  asm volatile("");
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<bool> g_fail{false};
std::atomic<long> g_allocations{0};
std::atomic<bool> g_numbering{false};
std::atomic<long> g_numbered{0};
std::atomic<long> g_fail_at{0};
std::atomic<bool> g_injected{false};
std::atomic<long> g_live{0};

// Counts one allocation; false when this one must fail.
bool note() {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (!g_numbering.load(std::memory_order_relaxed)) return true;
  const long number = g_numbered.fetch_add(1, std::memory_order_relaxed) + 1;
  if (number != g_fail_at.load(std::memory_order_relaxed)) return true;
  g_injected = true;
  polyhead_allocation_failure_injected();
  return false;
}
// For operator new only: C code cannot take an exception.
void note_or_fail() {
  if (!note() || g_fail.load(std::memory_order_relaxed)) throw std::bad_alloc();
}
// Live block bookkeeping of the replaced C functions.
void* track(void* p) {
  if (p) g_live.fetch_add(1, std::memory_order_relaxed);
  return p;
}
}  // namespace

void* operator new(size_t n) {
  note_or_fail();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (!note() || g_fail.load(std::memory_order_relaxed)) return nullptr;
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void* operator new(size_t n, std::align_val_t a) {
  note_or_fail();
  const auto align = static_cast<size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n, std::align_val_t a) {
  return operator new(n, a);
}
// Every replaced form allocates with malloc, so every form of delete frees with free.
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}

// Sanitizers own malloc; interpose it only in normal builds.
#if !defined(__SANITIZE_ADDRESS__) && defined(__GLIBC__)
extern "C" {
void* __libc_malloc(size_t);            // NOLINT(bugprone-reserved-identifier): glibc
void* __libc_calloc(size_t, size_t);    // NOLINT(bugprone-reserved-identifier): glibc
void* __libc_realloc(void*, size_t);    // NOLINT(bugprone-reserved-identifier): glibc
void* __libc_memalign(size_t, size_t);  // NOLINT(bugprone-reserved-identifier): glibc
void __libc_free(void*);                // NOLINT(bugprone-reserved-identifier): glibc
void* malloc(size_t n) {
  if (!note()) return nullptr;
  return track(__libc_malloc(n));
}
void* calloc(size_t a, size_t b) {
  if (!note()) return nullptr;
  return track(__libc_calloc(a, b));
}
void* realloc(void* p, size_t n) {
  if (!p) return malloc(n);
  if (n == 0) {  // glibc frees the block and returns null
    free(p);
    return nullptr;
  }
  if (!note()) return nullptr;  // the block stays allocated, as when realloc fails
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (p) g_live.fetch_sub(1, std::memory_order_relaxed);
  __libc_free(p);
}
void* memalign(size_t a, size_t n) {
  if (!note()) return nullptr;
  return track(__libc_memalign(a, n));
}
void* aligned_alloc(size_t a, size_t n) {
  if (!note()) return nullptr;
  return track(__libc_memalign(a, n));
}
int posix_memalign(void** out, size_t a, size_t n) {
  if (!note()) return 12;  // ENOMEM
  void* p = track(__libc_memalign(a, n));
  if (!p) return 12;
  *out = p;
  return 0;
}
}
#define POLYHEAD_COUNTS_MALLOC 1
#endif

namespace polyhead::testing {

long count_allocations(const std::function<void()>& body) {
  g_allocations = 0;
  g_counting = true;
  body();
  g_counting = false;
  return g_allocations.load();
}

bool counts_c_allocations() {
#ifdef POLYHEAD_COUNTS_MALLOC
  return true;
#else
  return false;
#endif
}

void fail_allocations(bool on) {
  g_fail = on;
}

void arm_allocation_failure(long k) {
  g_injected = false;
  g_numbered = 0;
  g_fail_at = k;
  g_numbering = true;
}

long disarm_allocation_failure() {
  g_numbering = false;
  g_fail_at = 0;
  return g_numbered.load();
}

bool allocation_failure_injected() {
  return g_injected.load();
}

long live_blocks() {
#ifdef POLYHEAD_COUNTS_MALLOC
  return g_live.load();
#else
  return -1;
#endif
}

}  // namespace polyhead::testing
