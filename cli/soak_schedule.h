// The order in which `polyhead bench --soak` runs its task subsets: which subsets exist, and a
// seeded shuffle of blocks over them, so that a failure at run R happens again at run R with the
// same seed. Kept apart from the engine so the order can be tested on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace polyhead::cli {

// Task subsets as indices into the model's task list, each ascending. With at most
// kAllSubsetsMaxTasks tasks: every non-empty subset (2^n - 1, fewest tasks first); with more:
// every task alone, then all of them (n + 1), which keeps the cycle short on wide models.
constexpr size_t kAllSubsetsMaxTasks = 4;
std::vector<std::vector<size_t>> soak_subsets(size_t task_count);

// A stretch of consecutive runs of one subset on one plan.
struct SoakBlock {
  size_t subset = 0;
  bool own_plan = false;  // false: run(subset) on the plan of every task; true: the subset's plan
  size_t runs = 1;
};

// Runs of one block are drawn from [1, kMaxBlockRuns].
constexpr size_t kMaxBlockRuns = 8;

// splitmix64: a small, well-mixed generator whose whole state is one integer (the seed).
uint64_t next_random(uint64_t& state);

// Refills `blocks` (resized to 2 * subsets once, then reused without allocating) with one cycle:
// every subset once on the full plan and once on its own plan, in a shuffled order, each block
// of 1..kMaxBlockRuns runs. `state` advances, so consecutive cycles differ.
void next_soak_cycle(size_t subsets, uint64_t& state, std::vector<SoakBlock>& blocks);

}  // namespace polyhead::cli
