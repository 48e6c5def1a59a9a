// What `polyhead bench` measures, as plain data: filled by bench_measure, rendered by bench_text
// (tables), bench_json (the schema of docs/bench.md) and bench_html (the report with charts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/bench_stats.h"
#include "polyhead/engine.h"
#include "polyhead/tensor.h"

namespace polyhead::cli {

struct BenchConfig {
  std::string model_path;
  std::vector<std::string> tasks;  // empty = every task of the model
  size_t threads = 1;              // 0 = one per logical processor
  int warmup = 5;                  // untimed runs before each measurement
  int runs = 50;                   // timed runs, at least
  double min_time_s = 0;           // and keep running until this much time was measured
  bool profile = false;
  bool separate = false;
  std::vector<size_t> sweep_threads;  // empty = no sweep
  ParallelHeads parallel_heads = ParallelHeads::kAuto;
  SparseWeights sparse_weights = SparseWeights::kAuto;
};

struct Latency {
  std::vector<double> samples_ms;  // in run order
  Summary ms;
};

struct NodeProfile {
  std::string name;
  std::string op;    // "CONV_2D"
  std::string part;  // "shared" or the one task that needs the node
  std::vector<Shape> input_shapes;
  std::vector<Shape> output_shapes;
  uint64_t macs = 0;
  double median_us = 0;
  double mean_us = 0;
  double share = 0;   // median / sum of every node's median
  double gflops = 0;  // 2 * MACs / median time
};

// The nodes of one part of the plan: the shared backbone or one task's head.
struct PartProfile {
  std::string part;
  size_t nodes = 0;
  uint64_t macs = 0;
  double median_us = 0;  // sum of its nodes' medians
  double share = 0;
};

struct Profile {
  size_t runs = 0;
  double total_median_us = 0;      // sum of every node's median
  std::vector<NodeProfile> nodes;  // slowest first
  std::vector<PartProfile> parts;  // "shared" first, then the tasks in plan order
};

struct SeparateTask {
  std::string task;
  Latency latency;
};

// Every task as its own plan (backbone and its head), next to the one multi-task pass.
struct Separate {
  std::vector<SeparateTask> tasks;
  double sum_median_ms = 0;       // what running the tasks one after another costs
  double one_pass_median_ms = 0;  // the chosen tasks in one plan
  double saving = 0;              // 1 - one pass / sum
};

struct ThreadPoint {
  size_t threads = 1;  // as asked (0 = one per logical processor)
  size_t resolved_threads = 1;
  Latency latency;
  double speedup = 1;  // median of the first sweep entry / this median
  bool has_separate = false;
  Separate separate;
};

struct Memory {
  uint64_t model_bytes = 0;  // the .phm file, mapped read-only (or held in memory)
  // What the engine counts for the kernels it created: the constant bytes they packed from
  // (XNNPACK's own padding is not visible through its API).
  uint64_t packed_weight_bytes = 0;
  // Layers whose block-sparse weights run on the sparse kernel, and sparse weights expanded to
  // dense for the others (EngineStats).
  uint64_t sparse_kernel_nodes = 0;
  uint64_t expanded_sparse_weight_bytes = 0;
  // Resident memory added by Engine::create + prepare: packed weights, arena, kernel state and
  // the pages of the mapped model touched while packing, as the OS counts them.
  int64_t prepare_rss_delta_bytes = 0;
  uint64_t arena_bytes = 0;
  uint64_t arena_lower_bound_bytes = 0;
  uint64_t peak_rss_bytes = 0;  // VmHWM after the main measurement; 0 where not reported
};

struct BenchResult {
  BenchConfig config;
  std::string model_format;        // "phm" or "tflite" (converted in memory)
  std::vector<std::string> tasks;  // the plan's tasks, in plan order
  size_t plan_nodes = 0;
  uint64_t plan_macs = 0;
  size_t resolved_threads = 1;
  // After the latency runs: nodes whose thread choice is made, and those of them on the calling
  // thread alone (EngineOptions::choose_threads_per_node).
  size_t nodes_with_thread_choice = 0;
  size_t nodes_on_calling_thread = 0;
  // After the latency runs: heads that may run at the same time (PlanInfo), and whether they do.
  size_t parallel_head_groups = 0;
  bool heads_in_parallel = false;
  double load_ms = 0;     // reading (and converting) the model
  double prepare_ms = 0;  // Engine::create + prepare: kernels, packed weights, arena
  Latency latency;        // one pass over the chosen tasks
  bool has_profile = false;
  Profile profile;
  bool has_separate = false;
  Separate separate;
  std::vector<ThreadPoint> sweep;
  Memory memory;
};

}  // namespace polyhead::cli
