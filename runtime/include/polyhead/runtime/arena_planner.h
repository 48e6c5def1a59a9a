// ArenaPlanner: assigns every intermediate tensor of an execution plan an offset in one arena,
// so that tensors whose lifetimes overlap never share bytes, and reports how close the result is
// to the lower bound that the lifetimes allow.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace polyhead::runtime {

struct TensorLifetime {
  size_t bytes = 0;
  size_t first_step = 0;  // step that writes it (0 for tensors live on entry)
  size_t last_step = 0;   // last step that reads it (inclusive)
  // Tensors of different non-negative groups never share bytes whatever their steps: their
  // groups run at the same time (heads in parallel). -1 = only the steps decide.
  int group = -1;
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // one per tensor, aligned
  size_t arena_bytes = 0;
  // The largest number of bytes live at any one step: no placement can use less.
  size_t lower_bound_bytes = 0;
  // Which ordering won: greedy-by-size, -by-breadth, -by-lifetime, -by-area or -by-time.
  std::string strategy;
};

constexpr size_t kArenaAlignment = 64;

// Places each tensor, in one of five orders (decreasing size; busiest step first; longest lifetime;
// largest bytes x lifetime; first use), into the best-fitting gap among already placed tensors
// that are live at the same time; keeps the smallest arena, stopping early at the lower bound.
ArenaPlan plan_arena(const std::vector<TensorLifetime>& tensors,
                     size_t alignment = kArenaAlignment);

}  // namespace polyhead::runtime
