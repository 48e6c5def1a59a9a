// The arena planner on large synthetic graphs (1k to 10k tensors): how long planning takes and
// how close the arena comes to the lower bound the lifetimes allow (reported as counters).
// Two kinds of lifetime patterns:
//   chain: a deep network; most tensors die at the next step or two, some skip connections
//          live a few steps, a few (feature pyramid branches) live long;
//   wide:  many heads reading a shared trunk; lifetimes spread over a tenth of the graph.
//
//   bench_arena_planner --benchmark_filter=chain
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "polyhead/runtime/arena_planner.h"

namespace {

using polyhead::runtime::TensorLifetime;

enum Pattern { kChain = 0, kWide = 1 };

// Tensor i is written at step i; sizes are log-uniform between 256 B and 4 MiB like activations of
// a vision network. Fixed seed: every run plans the same graph.
std::vector<TensorLifetime> synthetic_graph(size_t tensors, Pattern pattern) {
  std::mt19937 rng(12345u + static_cast<unsigned>(tensors) + static_cast<unsigned>(pattern));
  std::uniform_real_distribution<double> log_size(8.0, 22.0);  // 2^8 .. 2^22 bytes
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<TensorLifetime> out(tensors);
  for (size_t i = 0; i < tensors; ++i) {
    size_t span;
    if (pattern == kChain) {
      const double r = u(rng);
      span = r < 0.8    ? 1 + static_cast<size_t>(u(rng) * 2)
             : r < 0.97 ? 2 + static_cast<size_t>(u(rng) * 10)
                        : 10 + static_cast<size_t>(u(rng) * 200);
    } else {
      span = 1 + static_cast<size_t>(u(rng) * static_cast<double>(tensors) / 10);
    }
    out[i].bytes = static_cast<size_t>(std::exp2(log_size(rng)));
    out[i].first_step = i;
    out[i].last_step = std::min(i + span, tensors - 1);
  }
  return out;
}

void BM_PlanArena(benchmark::State& state) {
  const auto tensors = static_cast<size_t>(state.range(0));
  const auto pattern = static_cast<Pattern>(state.range(1));
  state.SetLabel(pattern == kChain ? "chain" : "wide");
  const std::vector<TensorLifetime> graph = synthetic_graph(tensors, pattern);
  polyhead::runtime::ArenaPlan plan;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    plan = polyhead::runtime::plan_arena(graph);
    benchmark::DoNotOptimize(plan.arena_bytes);
  }
  state.counters["tensors"] = static_cast<double>(tensors);
  state.counters["arena_MiB"] = static_cast<double>(plan.arena_bytes) / (1024.0 * 1024.0);
  state.counters["vs_bound"] =
      static_cast<double>(plan.arena_bytes) / static_cast<double>(plan.lower_bound_bytes);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * tensors));
}

BENCHMARK(BM_PlanArena)
    ->ArgNames({"tensors", "pattern"})
    ->ArgsProduct({{1000, 2000, 5000, 10000}, {kChain, kWide}})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
