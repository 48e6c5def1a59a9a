// MemoryPool and PlanCache: arenas are reused after release; plans are cached by task set.
#include <catch2/catch.hpp>

#include "polyhead/engine.h"
#include "polyhead/runtime/memory_pool.h"
#include "polyhead/runtime/plan_cache.h"
#include "support/test_models.h"

using namespace polyhead;
using polyhead::runtime::Arena;
using polyhead::runtime::MemoryPool;

TEST_CASE("released arenas are handed to the next request that fits") {
  auto pool = MemoryPool::create();
  std::byte* first = nullptr;
  {
    Arena a = pool->acquire(1000);
    REQUIRE(a.data());
    CHECK(reinterpret_cast<uintptr_t>(a.data()) % 64 == 0);
    CHECK(a.capacity() >= 1000);
    first = a.data();
    CHECK(pool->in_use_bytes() == a.capacity());
  }
  CHECK(pool->in_use_bytes() == 0);
  Arena b = pool->acquire(500);
  CHECK(b.data() == first);
  CHECK(pool->allocations() == 1);
  Arena c = pool->acquire(500);  // the first block is lent out: a new one
  CHECK(c.data() != first);
  CHECK(pool->allocations() == 2);
}

TEST_CASE("the smallest free block that fits is chosen") {
  auto pool = MemoryPool::create();
  std::byte* small = nullptr;
  {
    Arena big = pool->acquire(1 << 20);
    Arena s = pool->acquire(4096);
    small = s.data();
  }
  Arena again = pool->acquire(2000);
  CHECK(again.data() == small);
}

TEST_CASE("an arena outlives a dropped pool handle") {
  Arena a;
  {
    auto pool = MemoryPool::create();
    a = pool->acquire(128);
  }
  REQUIRE(a.data());
  a.data()[0] = std::byte{1};  // the arena keeps its pool alive
}

TEST_CASE("plans are cached by task set regardless of order") {
  const std::string path =
      testing::write_temp_file(testing::tiny_two_task_model(), "polyhead_test_memory_pool.phm");
  auto model = Model::load_file(path);
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {1, 2});
  REQUIRE(engine.is_ok());
  auto ab = engine->prepare({"classify", "segment"});
  auto ba = engine->prepare({"segment", "classify"});
  REQUIRE(ab.is_ok());
  REQUIRE(ba.is_ok());
  CHECK(engine->stats().cached_plans == 1);
  auto a = engine->prepare({"classify"});
  auto b = engine->prepare({"segment"});
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  CHECK(engine->stats().cached_plans == 2);  // capacity 2: the oldest was dropped
  // Weights were packed once per node, however many plans use them.
  CHECK(engine->stats().packed_weight_bytes > 0);
  const size_t packed = engine->stats().packed_weight_bytes;
  auto again = engine->prepare({"classify", "segment"});
  REQUIRE(again.is_ok());
  CHECK(engine->stats().packed_weight_bytes == packed);
  std::remove(path.c_str());
}
