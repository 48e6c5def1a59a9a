#include "polyhead/runtime/memory_pool.h"

#include <cstdlib>

namespace polyhead::runtime {

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this != &other) {
    if (pool_ && data_) pool_->give_back(data_, capacity_);
    pool_ = std::move(other.pool_);
    data_ = other.data_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.capacity_ = 0;
  }
  return *this;
}

Arena::~Arena() {
  if (pool_ && data_) pool_->give_back(data_, capacity_);
}

std::shared_ptr<MemoryPool> MemoryPool::create(size_t alignment) {
  return std::shared_ptr<MemoryPool>(new MemoryPool(alignment));
}

MemoryPool::~MemoryPool() {
  for (Block& b : blocks_) std::free(b.data);
}

Arena MemoryPool::acquire(size_t bytes) {
  const size_t size = (std::max<size_t>(bytes, 1) + alignment_ - 1) / alignment_ * alignment_;
  Arena arena;
  std::lock_guard<std::mutex> lock(mutex_);
  Block* best = nullptr;
  for (Block& b : blocks_)
    if (!b.in_use && b.capacity >= size && (!best || b.capacity < best->capacity)) best = &b;
  if (!best) {
    blocks_.reserve(blocks_.size() + 1);  // may throw; then nothing is allocated yet to lose
    auto* data = static_cast<std::byte*>(std::aligned_alloc(alignment_, size));
    // Not zeroed: outputs cannot be read before a run writes them, and untouched pages of a
    // large arena cost no physical memory until used.
    if (!data) return arena;
    blocks_.push_back({data, size, false});
    ++allocations_;
    best = &blocks_.back();
  }
  best->in_use = true;
  arena.pool_ = shared_from_this();
  arena.data_ = best->data;
  arena.capacity_ = best->capacity;
  return arena;
}

void MemoryPool::give_back(std::byte* data, size_t) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Block& b : blocks_)
    if (b.data == data) b.in_use = false;
}

size_t MemoryPool::owned_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const Block& b : blocks_) n += b.capacity;
  return n;
}

size_t MemoryPool::in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const Block& b : blocks_)
    if (b.in_use) n += b.capacity;
  return n;
}

size_t MemoryPool::allocations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return allocations_;
}

}  // namespace polyhead::runtime
