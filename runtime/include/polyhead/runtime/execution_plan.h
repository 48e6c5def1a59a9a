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

namespace polyhead::runtime {

// Bit i selects the plan's i-th task (plans hold at most 64 tasks).
using TaskMask = uint64_t;
constexpr size_t kMaxTasksPerPlan = 64;

class ExecutionPlan {
 public:
  // `tasks` are graph task indices, without duplicates. Kernels are set up against the plan's
  // arena here, so backend errors surface at prepare time rather than in run().
  // `choose_threads`: decide per step, from its measured times, whether it runs on the pool or on
  // the calling thread alone (see ThreadChoice below); false runs every step on the pool.
  static Result<std::unique_ptr<ExecutionPlan>> create(const Graph& graph, ModelKernels& kernels,
                                                       MemoryPool& pool, std::vector<int> tasks,
                                                       pthreadpool_t threads,
                                                       bool choose_threads = true);
  ~ExecutionPlan();
  ExecutionPlan(const ExecutionPlan&) = delete;
  ExecutionPlan& operator=(const ExecutionPlan&) = delete;

  // Runs the steps needed by the tasks selected in `mask` (a subset of this plan's tasks). With
  // `step_times_ns` (one entry per step, owned by the caller so a profiled run allocates nothing),
  // stores how long each step took and 0 for the steps the mask skips; null costs one branch.
  Status run(TaskMask mask, pthreadpool_t pool, uint64_t* step_times_ns = nullptr);

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
  size_t undecided_steps_ = 0;  // steps still measuring; 0 when the choice is off
};

}  // namespace polyhead::runtime
