// `polyhead bench --soak N`: runs a model N times, cycling through its task subsets on one plan of
// every task and on plans prepared per subset (evicted from the engine's plan cache and prepared
// again now and then), and fails at once when an output changes or resident memory grows past a
// bound after warm-up. See docs/bench.md, "Soak".
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/bench_stats.h"
#include "cli/progress.h"
#include "polyhead/engine.h"
#include "polyhead/result.h"

namespace polyhead::cli {

constexpr size_t kDefaultSoakRuns = 100000;
// Why 2 MiB: after warm-up every plan, arena and kernel of the cycle exists, so a sound engine
// adds nothing; what still moves is the allocator and the kernel's page accounting (tens of
// KiB). A leak of one small object per run (100,000 runs x 24 bytes) is over it, and so is one
// more arena of the demo model (6 MiB). AddressSanitizer's quarantine keeps freed blocks resident
// (up to 256 MiB), so every plan prepared again after an eviction grows resident memory without a
// leak; its builds get a wider default (LeakSanitizer checks leaks there).
#if defined(__SANITIZE_ADDRESS__)
constexpr double kDefaultSoakRssGrowthMib = 64.0;
#else
constexpr double kDefaultSoakRssGrowthMib = 2.0;
#endif

// SoakConfig::warmup_runs: default_soak_warmup(runs) (0 is a valid choice: no warm-up).
constexpr size_t kSoakDefaultWarmup = static_cast<size_t>(-1);

struct SoakConfig {
  std::string model_path;
  std::vector<std::string> tasks;  // the tasks whose subsets are cycled; empty = every task
  size_t runs = kDefaultSoakRuns;
  size_t threads = 1;  // 0 = one per logical processor
  ParallelHeads parallel_heads = ParallelHeads::kAuto;
  SparseWeights sparse_weights = SparseWeights::kAuto;
  size_t warmup_runs = kSoakDefaultWarmup;  // runs before the RSS baseline
  size_t sample_every = 0;  // RSS and latency samples every K runs; 0 = default_soak_sample(runs)
  size_t plan_cache = 0;    // the engine's plan cache capacity; 0 = default_soak_plan_cache()
  double rss_growth_mib = kDefaultSoakRssGrowthMib;
  uint64_t seed = 1;
};

// 1 % of the runs, but at least 200 (a few cycles over every subset and plan) and at most half.
size_t default_soak_warmup(size_t runs);
// About 200 samples over the soak, at least every run.
size_t default_soak_sample(size_t runs);
// Half the subsets (at least 1): the plans of the other half are evicted and prepared again as the
// shuffled cycle comes back to them. (The engine's default, 8, holds every subset of 3 tasks.)
size_t default_soak_plan_cache(size_t subsets);

// For tests: replace what the soak measures, to make its checks fail on purpose.
struct SoakHooks {
  // Resident bytes after `run` runs; default: VmRSS.
  std::function<uint64_t(size_t run)> resident_bytes;
  // Called before run number `run` (0-based) on the plan about to run it.
  std::function<void(size_t run, Plan& plan)> before_run;
};

struct SoakSubsetResult {
  std::vector<std::string> tasks;
  size_t runs = 0;  // after warm-up, on either plan
  Summary latency_ms;
};

struct SoakSample {
  size_t run = 0;  // runs done
  uint64_t rss_bytes = 0;
  double median_ms = 0;  // of the runs since the previous sample (0 for the first)
};

struct SoakResult {
  SoakConfig config;  // with the defaults resolved
  std::string model_format;
  std::vector<std::string> tasks;
  size_t resolved_threads = 1;
  size_t runs_done = 0;
  bool passed = true;
  std::string failure;  // why it failed, naming the run, subset, task and output or the memory

  size_t plan_switches = 0;     // runs on another plan than the run before
  size_t subset_switches = 0;   // runs of another task set than the run before
  size_t prepares = 0;          // Engine::prepare calls, the plan of every task included
  size_t first_prepares = 0;    // task sets prepared for the first time
  size_t re_prepares = 0;       // task sets prepared again after the cache had dropped them
  size_t cache_hits = 0;        // prepares answered from the cache
  size_t cached_plans = 0;      // in the engine's cache at the end
  size_t output_slots = 0;      // (subset, plan, task, output) with a reference hash
  size_t output_checks = 0;     // comparisons against a reference
  bool output_changed = false;  // the failure is a changed output
  // Whether the reference of every task output was the same from every subset and plan.
  bool outputs_agree_across_plans = true;

  uint64_t rss_start_bytes = 0;
  uint64_t rss_after_warmup_bytes = 0;
  uint64_t rss_end_bytes = 0;
  uint64_t rss_max_bytes = 0;   // of the samples
  uint64_t peak_rss_bytes = 0;  // VmHWM at the end
  int64_t rss_max_drift_bytes = 0;
  size_t rss_max_drift_run = 0;
  uint64_t rss_bound_bytes = 0;
  uint64_t arena_pool_after_warmup_bytes = 0;
  uint64_t arena_pool_end_bytes = 0;

  Summary latency_ms;                 // every run after warm-up
  double first_decile_median_ms = 0;  // of the runs after warm-up
  double last_decile_median_ms = 0;
  double prepare_median_ms = 0;  // prepares that made a plan (first or again)
  std::vector<SoakSubsetResult> subsets;
  std::vector<SoakSample> samples;
  double elapsed_s = 0;
};

// Load or engine errors come back as errors (an unknown task as kInvalidArgument naming
// --tasks); a changed output or too much memory growth comes back as a result with passed = false.
Result<SoakResult> run_soak(const SoakConfig& config, Progress& progress,
                            const SoakHooks& hooks = {});

}  // namespace polyhead::cli
