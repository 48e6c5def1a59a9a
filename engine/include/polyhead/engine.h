// Engine and Plan: prepare a set of tasks once, then run them frame after frame.
//
//   auto model = polyhead::Model::load_file("model.phm");
//   auto engine = polyhead::Engine::create(*model, {/*threads=*/2});
//   auto plan = engine->prepare({"detect", "segment"});
//   plan->set_input("image", pixels, count);
//   plan->run();                      // backbone once, both heads
//   plan->run({"detect"});            // backbone and the detection head only
//   auto boxes = plan->output("detect", "boxes");
//
// An Engine and its Plans are used from one thread at a time; make one engine per thread to run
// in parallel (they can share one Model, and one ThreadPool).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/pixel_image.h"
#include "polyhead/precision.h"
#include "polyhead/sparse_weights.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"
#include "polyhead/thread_pool.h"

namespace polyhead {

namespace detail {
struct EngineState;
struct PlanState;
}  // namespace detail

// Whether a plan's heads (the nodes only one of its tasks needs) may run at the same time, one
// head per pool thread, after the shared nodes. Outputs are the same every way.
enum class ParallelHeads {
  kAuto,    // each plan times its first runs both ways and keeps the faster (docs/performance.md)
  kNever,   // one node after another, each parallelised inside as chosen
  kAlways,  // concurrently whenever a run has two or more heads and the pool two or more threads
};
const char* parallel_heads_name(ParallelHeads mode);
// Parses "auto", "never" or "always"; the error lists them.
Result<ParallelHeads> parse_parallel_heads(std::string_view name);

struct EngineOptions {
  size_t threads = 1;              // 0 = one per logical processor
  size_t plan_cache_capacity = 8;  // prepared task sets kept for reuse
  // kF16 runs XNNPACK's half-precision operators; it needs a CPU with fp16 arithmetic
  // (ARMv8.2-A FP16) and create() fails on others rather than emulating it (docs/arm.md).
  Precision precision = Precision::kF32;
  // With several threads, each node of a plan is measured over the plan's first runs (about
  // seven) with the thread pool and on the calling thread alone, and from then on runs the faster
  // way: small nodes lose more to waking the pool than they gain. Outputs do not change. false
  // runs every node on the pool (docs/performance.md, "Threads per node").
  bool choose_threads_per_node = true;
  // A pool shared with other engines (thread_pool.h); empty = the engine makes its own pool of
  // `threads`. With a pool, `threads` must stay 1 (its default) or equal the pool's threads.
  ThreadPool thread_pool{};
  // With two or more threads, whether heads run concurrently. kAuto plans lay out their arena so
  // that they can, which may make it larger (PlanInfo::arena_bytes).
  ParallelHeads parallel_heads = ParallelHeads::kAuto;
  // Layers whose weights the model stores block-sparse (docs/sparse.md): kAuto runs the sparse
  // kernel where it beats the dense one at the layer's density, kSparse wherever it can run the
  // layer, kDense never (the weights are then expanded once per engine). Outputs agree to float
  // rounding either way.
  SparseWeights sparse_weights = SparseWeights::kAuto;
};

struct PlanInfo {
  std::vector<std::string> tasks;
  size_t nodes = 0;                    // nodes a full run executes (shared ones once)
  size_t arena_bytes = 0;              // activation memory of the plan
  size_t arena_lower_bound_bytes = 0;  // largest bytes live at any one step
  std::string arena_strategy;
  // EngineOptions::choose_threads_per_node: nodes whose choice is made so far, and those of them
  // that run on the calling thread alone (both 0 with one thread or the choice off).
  size_t nodes_with_thread_choice = 0;
  size_t nodes_on_calling_thread = 0;
  // Heads that may run concurrently (0 when heads run one after another: ParallelHeads::kNever,
  // one thread, or fewer than two heads), and whether runs with two or more of them do so now
  // (kAuto: false until its measurement picks parallel).
  size_t parallel_head_groups = 0;
  bool heads_in_parallel = false;
};

class Plan {
 public:
  // Copies `count` floats into the input `name`; `count` must equal the input's element count.
  Status set_input(std::string_view name, const float* data, size_t count);
  // Where to write input `name` directly (zero copy). Marks the input as set.
  Result<float*> input_buffer(std::string_view name);
  // Fills the image input `name` from an 8-bit frame (RGB/BGR/RGBA/BGRA/GRAY/NV21/NV12): resized
  // per the input's declared fit, converted to its colour order, normalised and written in its
  // layout, as write_pixels() describes. Returns the transform from model pixels back to frame
  // pixels for post-processing. No heap allocation on success (the scratch rows are made by
  // prepare()). A rejected frame leaves the input as it was.
  Result<ImageTransform> set_input_pixels(std::string_view name, const PixelImage& image);
  // Names of the model inputs this plan reads (all must be set before run()).
  std::vector<std::string> input_names() const;

  // Runs every task of the plan; no heap allocation, no lock.
  Status run();
  // Runs only `tasks` (a subset of the plan's tasks): the shared nodes they need and their heads.
  Status run(const std::vector<std::string>& tasks);
  Status run(std::initializer_list<std::string_view> tasks);
  // Runs only the `count` NUL-terminated names in `tasks` (count 0 = every task); does not
  // allocate on success (for the C API and other callers holding plain C strings).
  Status run(const char* const* tasks, size_t count);

  // The output `output` of task `task` from the last run that included the task. The view stays
  // valid until the next run of this plan or until the plan is destroyed.
  Result<TensorView> output(std::string_view task, std::string_view output) const;

  // Copies output `output` of task `task` into the caller's `data` at the end of every later run
  // that includes the task (a memcpy of the output's bytes; no allocation). `bytes` must equal
  // the output's size. Binding the same output again replaces the buffer; null data unbinds it.
  // The buffer must stay valid while it is bound.
  Status bind_output(std::string_view task, std::string_view output, void* data, size_t bytes);

  PlanInfo info() const;
  // PlanInfo::heads_in_parallel without allocating (ParallelHeads::kAuto decides it over the
  // plan's first runs, so it can change after prepare).
  bool heads_in_parallel() const;
  // The model the plan was prepared from (its tasks' priorities and rates, for schedulers).
  const Model& model() const;
  // Nodes executed by the last run() call.
  size_t last_run_nodes() const;
  // Names of the nodes a run of `tasks` would execute, in the plan's order (empty = all of its
  // tasks).
  Result<std::vector<std::string>> node_names(const std::vector<std::string>& tasks = {}) const;

  // Per-node timing for profilers (`polyhead bench --profile`). Enabling sizes the buffer here, so
  // profiled runs still allocate nothing; while disabled a run pays one branch. Kept per handle
  // that prepare() returned (copies of a Plan share it).
  void set_profiling(bool enabled);
  bool profiling() const;
  // Nanoseconds each node took in the last run() of this handle, in the order of node_names()
  // (every task of the plan); 0 for the nodes that run skipped. Empty while profiling is off.
  const std::vector<uint64_t>& node_times_ns() const;

 private:
  friend class Engine;
  explicit Plan(std::shared_ptr<detail::PlanState> state) : state_(std::move(state)) {}
  template <typename Names>
  Status run_names(const Names& tasks);
  std::shared_ptr<detail::PlanState> state_;
};

struct EngineStats {
  // Weights held by the kernels created so far, shared by all plans; counted as the constant bytes
  // they were packed from for XNNPACK's operators (their padding is not visible through its API),
  // padding included for Polyhead's own kernels.
  size_t packed_weight_bytes = 0;
  // Of the kernels created so far, those running block-sparse weights on the sparse kernel, and
  // the bytes of sparse weights expanded to dense for the others (EngineOptions::sparse_weights).
  size_t sparse_kernel_nodes = 0;
  size_t expanded_sparse_weight_bytes = 0;
  size_t arena_pool_bytes = 0;  // memory the arena pool holds
  size_t cached_plans = 0;
  size_t threads = 1;
};

class Engine {
 public:
  static Result<Engine> create(const Model& model, const EngineOptions& options = {});

  // Prepares (or fetches from the cache) the plan for `tasks`; empty means every task. Running out
  // of memory here (as in create and Model's loaders) is ErrorCode::kOutOfMemory, and the engine
  // stays usable.
  Result<Plan> prepare(const std::vector<std::string>& tasks = {});

  const Model& model() const;
  EngineStats stats() const;

 private:
  explicit Engine(std::shared_ptr<detail::EngineState> state) : state_(std::move(state)) {}
  Result<Plan> prepare_tasks(const std::vector<std::string>& tasks);
  std::shared_ptr<detail::EngineState> state_;
};

}  // namespace polyhead
