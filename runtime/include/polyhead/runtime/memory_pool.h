// MemoryPool: owns the arenas of execution plans and hands released arenas to the next plan that
// fits, so preparing, dropping and re-preparing plans does not grow memory.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace polyhead::runtime {

class MemoryPool;

// A block of arena memory borrowed from a pool; returns itself to the pool when destroyed.
class Arena {
 public:
  Arena() = default;
  Arena(Arena&& other) noexcept { *this = std::move(other); }
  Arena& operator=(Arena&& other) noexcept;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  std::byte* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  friend class MemoryPool;
  std::shared_ptr<MemoryPool> pool_;
  std::byte* data_ = nullptr;
  size_t capacity_ = 0;
};

class MemoryPool : public std::enable_shared_from_this<MemoryPool> {
 public:
  static std::shared_ptr<MemoryPool> create(size_t alignment = 64);
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // Returns a free block of at least `bytes` (the smallest that fits), or a new one. Null data
  // when the system is out of memory.
  Arena acquire(size_t bytes);

  size_t owned_bytes() const;   // everything the pool allocated and still holds
  size_t in_use_bytes() const;  // blocks currently lent out
  size_t allocations() const;   // how many blocks the pool ever allocated

 private:
  explicit MemoryPool(size_t alignment) : alignment_(alignment) {}
  friend class Arena;
  void give_back(std::byte* data, size_t capacity);

  struct Block {
    std::byte* data;
    size_t capacity;
    bool in_use;
  };
  size_t alignment_;
  mutable std::mutex mutex_;  // prepare/release only; never taken by run()
  std::vector<Block> blocks_;
  size_t allocations_ = 0;
};

}  // namespace polyhead::runtime
