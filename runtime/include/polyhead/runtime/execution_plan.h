// ExecutionPlan: what prepare() produces for one set of tasks: the nodes they need in order (shared
// nodes once), every non-constant tensor's place in one arena, and the kernels bound to that
// memory. run() only walks the steps: no allocation, no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/runtime/arena_planner.h"
#include "polyhead/runtime/graph.h"
#include "polyhead/runtime/memory_pool.h"
#include "polyhead/runtime/model_kernels.h"
#include "polyhead/runtime/thread_pool.h"

namespace polyhead::runtime {

// Bit i selects the plan's i-th task (plans hold at most 64 tasks).
using TaskMask = uint64_t;
constexpr size_t kMaxTasksPerPlan = 64;

// Whether the heads of a plan (the nodes only one of its tasks needs) may run at the same time,
// one head per pool thread, once the shared nodes have run.
enum class HeadParallelism {
  kOff,   // one node after another, each parallelised inside (intra-operator) as chosen
  kOn,    // heads concurrently whenever a run has two or more and the pool two or more threads
  kAuto,  // measured: the plan's first runs time its heads both ways and keep the faster
};

class ExecutionPlan {
 public:
  // `tasks` are graph task indices, without duplicates. Kernels are set up against the plan's
  // arena here, so backend errors surface at prepare time rather than in run().
  // `choose_threads`: decide per step, from its measured times, whether it runs on the pool or on
  // the calling thread alone (see ThreadChoice below); false runs every step on the pool.
  static Result<std::unique_ptr<ExecutionPlan>> create(
      const Graph& graph, ModelKernels& kernels, MemoryPool& pool, std::vector<int> tasks,
      pthreadpool_t threads, bool choose_threads = true,
      HeadParallelism heads = HeadParallelism::kOff);
  ~ExecutionPlan();
  ExecutionPlan(const ExecutionPlan&) = delete;
  ExecutionPlan& operator=(const ExecutionPlan&) = delete;

  // Runs the steps needed by the tasks selected in `mask` (a subset of this plan's tasks). With
  // `step_times_ns` (one entry per step, owned by the caller so a profiled run allocates nothing),
  // stores how long each step took and 0 for the steps the mask skips; null costs one branch.
  // Parallelises on `threads` (the pool the plan was created for) while no other run shares it;
  // steps that start while another engine runs on the pool run on the calling thread instead.
  Status run(TaskMask mask, ThreadPool& threads, uint64_t* step_times_ns = nullptr);

  const std::vector<int>& tasks() const { return tasks_; }
  TaskMask all_tasks_mask() const { return all_mask_; }
  // Bit of graph task `task` in this plan, or 0 when the plan does not hold it.
  TaskMask mask_of(int task) const;
  // Graph node indices in execution order.
  const std::vector<int>& nodes() const { return nodes_; }
  size_t last_run_steps() const { return last_run_steps_; }
  TaskMask last_run_mask() const { return last_run_mask_; }
  // Steps whose thread choice is made, and those of them that run on the calling thread alone.
  size_t decided_steps() const;
  size_t serial_steps() const;
  // Heads that can run concurrently (0 when the plan keeps one order: heads off, one thread, or
  // fewer than two heads), and whether runs with two or more of them now do (kAuto: once decided).
  size_t head_groups() const { return groups_.size(); }
  bool heads_in_parallel() const { return !groups_.empty() && heads_.decided && heads_.parallel; }

  // Arena memory of a tensor of the plan, or null if the plan does not use it.
  std::byte* tensor_data(int tensor) const;
  const ArenaPlan& arena_plan() const { return arena_plan_; }

 private:
  ExecutionPlan(const Graph& graph, ModelKernels& kernels) : graph_(graph), kernels_(kernels) {}
  // Whether a step runs on the thread pool or on the calling thread alone. Waking the pool's
  // threads costs microseconds, more than a small step gains from them (an element-wise node of
  // a few thousand values, a squeeze-excite layer): so each step's first run is a warm-up, its
  // next 2 x kSamples runs alternate between the pool and the calling thread, and the faster of
  // the two best times decides, once, for the plan's life. Outputs are the same either way (the
  // kernels' results do not depend on how their work is split); only time differs.
  struct ThreadChoice {
    static constexpr uint16_t kSamples = 3;
    uint64_t best_pooled_ns = UINT64_MAX;
    uint64_t best_serial_ns = UINT64_MAX;
    uint16_t pooled_samples = 0;
    uint16_t serial_samples = 0;
    bool warmed_up = false;
    bool decided = false;
    bool serial = false;
  };

  struct Step {
    int node;
    kernels::Kernel* kernel;
    TaskMask tasks;     // which of the plan's tasks need this step
    uint32_t io_begin;  // first pointer of this step in io_
    uint32_t inputs;    // input pointers, then outputs
    uint32_t outputs;
    ThreadChoice threads;
  };

  // A head: the consecutive steps (in steps_) that only one task of the plan needs. With heads in
  // parallel, steps_ holds the shared steps first, then each head's, and the arena keeps the
  // heads' tensors apart (arena_planner.h, TensorLifetime::group).
  struct HeadGroup {
    TaskMask task;
    uint32_t first_step;
    uint32_t steps;
    uint64_t macs;  // orders the heads, largest first, so the last one to start is short
  };
  // kAuto's measurement, like ThreadChoice but for the whole head section of a run.
  struct HeadChoice {
    static constexpr uint16_t kSamples = 3;
    uint64_t best_parallel_ns = UINT64_MAX;
    uint64_t best_sequential_ns = UINT64_MAX;
    uint16_t parallel_samples = 0;
    uint16_t sequential_samples = 0;
    bool warmed_up = false;
    bool decided = false;
    bool parallel = false;
  };

  // What one run() call tracks across its steps.
  struct RunContext {
    ThreadPool& threads;
    uint64_t* step_times_ns;
    size_t executed = 0;
    bool shared = false;  // another run was seen on the pool: steps run on the calling thread
  };
  // Runs steps [begin, end) of `mask` one after another.
  Status run_sequence(size_t begin, size_t end, TaskMask mask, RunContext& run);
  // Runs the heads listed in active_groups_[0, count) concurrently on `pool`.
  Status run_heads_in_parallel(size_t count, RunContext& run);
  static void run_head_task(void* context, size_t index);
  // Records one timed head section of kAuto's measurement.
  void record_heads(bool parallel, uint64_t ns);
  // Reorders nodes_ into shared steps then heads and fills groups_ (prepare time).
  void group_heads(const Graph& graph, const std::vector<TaskMask>& node_mask,
                   HeadParallelism mode);
  // kAuto leaves heads in one order when the largest has more than this share of their MACs: on
  // two threads it would then run about as long alone as all heads do in turn with both threads.
  static constexpr double kAutoLargestHeadShare = 0.7;

  // Rebinds the step's kernel if another plan used it since (set up for `pool`, the plan's
  // threads), then runs it on `run_pool` (the pool, or null for the calling thread alone).
  Status run_step(const Step& s, pthreadpool_t pool, pthreadpool_t run_pool);
  // The pool a step runs on in this run: its decision, or the side it needs samples of.
  static pthreadpool_t pool_for(const Step& s, pthreadpool_t pool);
  // Records one timed run of an undecided step.
  void record(Step& s, bool serial, uint64_t ns);

  const Graph& graph_;
  ModelKernels& kernels_;
  std::vector<int> tasks_;
  TaskMask all_mask_ = 0;
  std::vector<int> nodes_;
  std::vector<Step> steps_;
  std::vector<void*> io_;
  std::vector<size_t> tensor_offset_;  // per graph tensor, SIZE_MAX when not in the arena
  ArenaPlan arena_plan_;
  Arena arena_;
  size_t last_run_steps_ = 0;
  TaskMask last_run_mask_ = 0;
  size_t undecided_steps_ = 0;     // steps still measuring; 0 when the choice is off
  std::vector<HeadGroup> groups_;  // empty unless heads may run in parallel
  size_t shared_steps_ = 0;        // steps before the first head when groups_ is not empty
  HeadChoice heads_;
  bool pool_was_shared_ = false;  // the last run saw another run on the pool
  // Per run, no allocation: the heads the mask selects, and what each one's run returned.
  std::vector<uint32_t> active_groups_;
  std::vector<Status> group_status_;
  std::vector<size_t> group_executed_;
  uint64_t* parallel_step_times_ = nullptr;  // the run's profiling buffer, read by the workers
};

}  // namespace polyhead::runtime
