#include "polyhead/runtime/arena_planner.h"

#include <algorithm>
#include <numeric>

namespace polyhead::runtime {
namespace {

size_t align_up(size_t v, size_t a) {
  return (v + a - 1) / a * a;
}

bool overlaps(const TensorLifetime& a, const TensorLifetime& b) {
  if (a.group >= 0 && b.group >= 0 && a.group != b.group) return true;
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

// Places tensors in `order`, each at the lowest-waste gap among placed tensors live with it.
ArenaPlan place(const std::vector<TensorLifetime>& t, const std::vector<size_t>& order,
                size_t alignment) {
  ArenaPlan plan;
  plan.offsets.assign(t.size(), 0);
  std::vector<size_t> placed;  // kept sorted by offset
  placed.reserve(t.size());
  std::vector<size_t> live;
  for (size_t id : order) {
    const size_t need = align_up(std::max<size_t>(t[id].bytes, 1), alignment);
    live.clear();
    for (size_t p : placed)
      if (overlaps(t[p], t[id])) live.push_back(p);
    size_t best = SIZE_MAX, best_waste = SIZE_MAX, cursor = 0;
    for (size_t p : live) {
      const size_t start = plan.offsets[p];
      if (start > cursor && start - cursor >= need && start - cursor - need < best_waste) {
        best = cursor;
        best_waste = start - cursor - need;
      }
      cursor = std::max(cursor, start + align_up(std::max<size_t>(t[p].bytes, 1), alignment));
    }
    if (best == SIZE_MAX) best = cursor;
    plan.offsets[id] = best;
    plan.arena_bytes = std::max(plan.arena_bytes, best + need);
    placed.insert(
        std::upper_bound(placed.begin(), placed.end(), id,
                         [&](size_t a, size_t b) { return plan.offsets[a] < plan.offsets[b]; }),
        id);
  }
  return plan;
}

}  // namespace

ArenaPlan plan_arena(const std::vector<TensorLifetime>& t, size_t alignment) {
  size_t steps = 0;
  for (const auto& x : t) steps = std::max(steps, x.last_step + 1);
  std::vector<size_t> live_bytes(steps, 0);
  for (const auto& x : t)
    for (size_t s = x.first_step; s <= x.last_step; ++s) live_bytes[s] += x.bytes;
  const size_t lower_bound = steps ? *std::max_element(live_bytes.begin(), live_bytes.end()) : 0;

  // No single order is best for every graph, and placing costs microseconds, so several classic
  // orders are tried and the smallest arena wins (ties keep the earlier order).
  std::vector<size_t> by_size(t.size());
  std::iota(by_size.begin(), by_size.end(), 0);
  std::stable_sort(by_size.begin(), by_size.end(), [&](size_t a, size_t b) {
    if (t[a].bytes != t[b].bytes) return t[a].bytes > t[b].bytes;
    return t[a].first_step < t[b].first_step;
  });
  auto length = [&](size_t i) { return t[i].last_step - t[i].first_step + 1; };
  auto sorted = [&](auto less) {
    std::vector<size_t> order = by_size;
    std::stable_sort(order.begin(), order.end(), less);
    return order;
  };

  // Tensors of the busiest steps first, largest first within a step.
  std::vector<size_t> steps_by_load(steps);
  std::iota(steps_by_load.begin(), steps_by_load.end(), 0);
  std::stable_sort(steps_by_load.begin(), steps_by_load.end(),
                   [&](size_t a, size_t b) { return live_bytes[a] > live_bytes[b]; });
  std::vector<char> taken(t.size(), 0);
  std::vector<size_t> by_breadth;
  by_breadth.reserve(t.size());
  for (size_t s : steps_by_load)
    for (size_t id : by_size)
      if (!taken[id] && t[id].first_step <= s && s <= t[id].last_step) {
        taken[id] = 1;
        by_breadth.push_back(id);
      }
  for (size_t id : by_size)
    if (!taken[id]) by_breadth.push_back(id);

  const std::pair<const char*, std::vector<size_t>> orders[] = {
      {"greedy-by-size", by_size},
      {"greedy-by-breadth", by_breadth},
      // Long-lived tensors (inputs, outputs) first, so they sit below the churn.
      {"greedy-by-lifetime", sorted([&](size_t a, size_t b) { return length(a) > length(b); })},
      {"greedy-by-area",
       sorted([&](size_t a, size_t b) { return t[a].bytes * length(a) > t[b].bytes * length(b); })},
      // Allocation order, like a stack allocator that reuses freed space.
      {"greedy-by-time",
       sorted([&](size_t a, size_t b) { return t[a].first_step < t[b].first_step; })},
  };
  ArenaPlan best;
  for (const auto& [name, order] : orders) {
    ArenaPlan candidate = place(t, order, alignment);
    if (best.strategy.empty() || candidate.arena_bytes < best.arena_bytes) {
      best = std::move(candidate);
      best.strategy = name;
    }
    if (best.arena_bytes <= lower_bound) break;  // cannot do better
  }
  best.lower_bound_bytes = lower_bound;
  return best;
}

}  // namespace polyhead::runtime
