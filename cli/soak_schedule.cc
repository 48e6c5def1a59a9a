#include "cli/soak_schedule.h"

#include <algorithm>
#include <utility>

namespace polyhead::cli {

std::vector<std::vector<size_t>> soak_subsets(size_t task_count) {
  std::vector<std::vector<size_t>> subsets;
  if (task_count == 0) return subsets;
  if (task_count > kAllSubsetsMaxTasks) {
    std::vector<size_t> all;
    for (size_t t = 0; t < task_count; ++t) {
      subsets.push_back({t});
      all.push_back(t);
    }
    subsets.push_back(all);
    return subsets;
  }
  for (uint32_t mask = 1; mask < (1u << task_count); ++mask) {
    std::vector<size_t> s;
    for (size_t t = 0; t < task_count; ++t)
      if (mask & (1u << t)) s.push_back(t);
    subsets.push_back(s);
  }
  // Fewest tasks first, then by the masks' order: a stable, readable listing.
  std::stable_sort(subsets.begin(), subsets.end(),
                   [](const std::vector<size_t>& a, const std::vector<size_t>& b) {
                     return a.size() < b.size();
                   });
  return subsets;
}

uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void next_soak_cycle(size_t subsets, uint64_t& state, std::vector<SoakBlock>& blocks) {
  blocks.resize(2 * subsets);
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i].subset = i / 2;
    blocks[i].own_plan = (i % 2) == 1;
  }
  // Fisher-Yates with our own generator: std::shuffle's algorithm is left to the library, and
  // the order must be the same wherever the program was built.
  for (size_t i = blocks.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(next_random(state) % i);
    std::swap(blocks[i - 1], blocks[j]);
  }
  for (SoakBlock& b : blocks) b.runs = 1 + static_cast<size_t>(next_random(state) % kMaxBlockRuns);
}

}  // namespace polyhead::cli
