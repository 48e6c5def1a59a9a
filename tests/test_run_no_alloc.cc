// After prepare, Plan::run() performs no heap allocation: every allocation entry point of the
// process (operator new, malloc and friends, which XNNPACK and pthreadpool use too) is counted
// while run() executes, switching between plans that share kernels.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

#include "polyhead/engine.h"
#include "support/test_models.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
void note() {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

void* operator new(size_t n) {
  note();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  note();
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void* operator new(size_t n, std::align_val_t a) {
  note();
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
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
void* malloc(size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  note();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  note();
  return __libc_realloc(p, n);
}
void free(void* p) {
  __libc_free(p);
}
void* memalign(size_t a, size_t n) {
  note();
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
  note();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  note();
  void* p = __libc_memalign(a, n);
  if (!p) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}
#define POLYHEAD_COUNTS_MALLOC 1
#endif

using namespace polyhead;

namespace {

long count_allocations(const std::function<void()>& body) {
  g_allocations = 0;
  g_counting = true;
  body();
  g_counting = false;
  return g_allocations.load();
}

}  // namespace

TEST_CASE("run() allocates nothing, also when plans sharing kernels alternate") {
  const auto threads = GENERATE(size_t{1}, size_t{2});
  const std::string path = testing::write_temp_file(
      testing::tiny_two_task_model(), "polyhead_test_no_alloc_" + std::to_string(threads) + ".phm");
  auto model = Model::load_file(path);
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {threads, 8});
  REQUIRE(engine.is_ok());
  auto all = engine->prepare();
  auto one = engine->prepare({"segment"});
  REQUIRE(all.is_ok());
  REQUIRE(one.is_ok());
  auto input = testing::random_values(8 * 8 * 3, 3);
  REQUIRE(all->set_input("image", input.data(), input.size()).is_ok());
  REQUIRE(one->set_input("image", input.data(), input.size()).is_ok());
  // The counter itself works (guards against a silently broken interposition).
  CHECK(count_allocations([] { delete new int(1); }) >= 1);

  bool ok = true;
  const long allocations = count_allocations([&] {
    for (int i = 0; i < 5; ++i) {
      ok = ok && all->run().is_ok();
      ok = ok && one->run().is_ok();  // rebinds the shared stem kernel to another arena
      ok = ok && all->run({"classify"}).is_ok();
      ok = ok && all->output("classify", "logits").is_ok();
    }
  });
  REQUIRE(ok);
  CHECK(allocations == 0);
#ifdef POLYHEAD_COUNTS_MALLOC
  // C allocations (XNNPACK's and pthreadpool's) are seen too.
  int (*volatile aligned)(void**, size_t, size_t) = &posix_memalign;
  CHECK(count_allocations([&] {
          void* p = nullptr;
          if (aligned(&p, 64, 256) == 0) free(p);
        }) == 1);
#endif
  std::remove(path.c_str());
}

TEST_CASE("run() allocates nothing for any operator kind, across three alternating plans") {
  const auto threads = GENERATE(size_t{1}, size_t{2});
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {threads, 8});
  REQUIRE(engine.is_ok());
  std::vector<Plan> plans;
  for (const std::vector<std::string>& tasks :
       {std::vector<std::string>{}, {"dense"}, {"pooled", "classes"}}) {
    auto plan = engine->prepare(tasks);
    REQUIRE(plan.is_ok());
    for (const std::string& name : plan->input_names()) {
      auto buffer = plan->input_buffer(name);
      REQUIRE(buffer.is_ok());
      const auto& inputs = model->inputs();
      for (const InputInfo& in : inputs)
        if (in.name == name)
          for (int64_t i = 0; i < in.shape.elements(); ++i)
            (*buffer)[i] = 0.01f * static_cast<float>(i % 97);
    }
    plans.push_back(*plan);
  }
  bool ok = true;
  const long allocations = count_allocations([&] {
    for (int round = 0; round < 3; ++round)
      for (Plan& plan : plans) ok = ok && plan.run().is_ok();
    ok = ok && plans[0].run({"pooled"}).is_ok();
  });
  REQUIRE(ok);
  CHECK(allocations == 0);
}
