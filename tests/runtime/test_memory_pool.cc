// MemoryPool: arenas are reused after release, the smallest fitting block first.
#include <catch2/catch.hpp>

#include "polyhead/runtime/memory_pool.h"

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
