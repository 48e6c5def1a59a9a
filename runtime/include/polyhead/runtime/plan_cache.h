// PlanCache: prepared plans keyed by their task set (order-insensitive), least recently prepared
// dropped first when full. Plans are shared: dropping one from the cache does not free it while a
// caller still holds it.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <utility>
#include <vector>

#include "polyhead/runtime/execution_plan.h"

namespace polyhead::runtime {

class PlanCache {
 public:
  explicit PlanCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // `tasks` must be sorted.
  std::shared_ptr<ExecutionPlan> find(const std::vector<int>& tasks);
  void insert(const std::vector<int>& tasks, std::shared_ptr<ExecutionPlan> plan);
  // Drops the least recently prepared plan if the cache is full, so that a plan about to be
  // created can reuse its arena instead of growing the pool.
  void make_room();
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  size_t capacity_;
  std::list<std::pair<std::vector<int>, std::shared_ptr<ExecutionPlan>>>
      entries_;  // most recent first
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace polyhead::runtime
