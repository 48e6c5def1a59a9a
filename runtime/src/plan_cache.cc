#include "polyhead/runtime/plan_cache.h"

namespace polyhead::runtime {

std::shared_ptr<ExecutionPlan> PlanCache::find(const std::vector<int>& tasks) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->first == tasks) {
      entries_.splice(entries_.begin(), entries_, it);
      ++hits_;
      return entries_.front().second;
    }
  ++misses_;
  return nullptr;
}

void PlanCache::make_room() {
  while (!entries_.empty() && entries_.size() >= capacity_) entries_.pop_back();
}

void PlanCache::insert(const std::vector<int>& tasks, std::shared_ptr<ExecutionPlan> plan) {
  entries_.emplace_front(tasks, std::move(plan));
  while (entries_.size() > capacity_) entries_.pop_back();
}

}  // namespace polyhead::runtime
