#include "polyhead/runtime/execution_plan.h"

#include <algorithm>
#include <chrono>

#include "polyhead/kernels/parallelize.h"

namespace polyhead::runtime {
namespace {

uint64_t elapsed_ns(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
}

}  // namespace

Result<std::unique_ptr<ExecutionPlan>> ExecutionPlan::create(
    const Graph& graph, ModelKernels& kernels, MemoryPool& pool, std::vector<int> tasks,
    pthreadpool_t threads, bool choose_threads, HeadParallelism heads) {
  if (tasks.empty()) return Status(ErrorCode::kInvalidArgument, "a plan needs at least one task");
  if (tasks.size() > kMaxTasksPerPlan)
    return Status(ErrorCode::kInvalidArgument,
                  "a plan holds at most 64 tasks, asked for " + std::to_string(tasks.size()));
  std::unique_ptr<ExecutionPlan> plan(new ExecutionPlan(graph, kernels));
  plan->tasks_ = std::move(tasks);
  plan->all_mask_ =
      plan->tasks_.size() == 64 ? ~TaskMask{0} : (TaskMask{1} << plan->tasks_.size()) - 1;
  plan->nodes_ = nodes_for_tasks(graph, plan->tasks_);

  // Which plan tasks need each node: walk back from each task separately.
  std::vector<TaskMask> node_mask(graph.nodes.size(), 0);
  for (size_t i = 0; i < plan->tasks_.size(); ++i)
    for (int n : nodes_for_tasks(graph, {plan->tasks_[i]}))
      node_mask[static_cast<size_t>(n)] |= TaskMask{1} << i;

  // Heads in parallel need two heads and a pool of two threads; then the shared steps go first
  // (a node two tasks need only reads nodes both need, so this order is still topological).
  const bool several = threads && pthreadpool_get_threads_count(threads) > 1;
  if (heads != HeadParallelism::kOff && several) plan->group_heads(graph, node_mask, heads);
  plan->heads_.decided = heads == HeadParallelism::kOn;
  plan->heads_.parallel = heads == HeadParallelism::kOn;

  // Lifetimes: model inputs and task outputs live for the whole plan (callers write inputs before
  // run and read outputs after it); other activations from their producer to their last reader.
  const size_t steps = plan->nodes_.size();
  const size_t end = steps == 0 ? 0 : steps - 1;
  std::vector<long> first(graph.tensors.size(), -1), last(graph.tensors.size(), -1);
  for (size_t s = 0; s < steps; ++s) {
    const NodeInfo& n = graph.nodes[static_cast<size_t>(plan->nodes_[s])];
    for (int t : n.outputs)
      if (first[static_cast<size_t>(t)] < 0) first[static_cast<size_t>(t)] = static_cast<long>(s);
    for (int t : n.inputs) {
      if (t < 0 || graph.tensors[static_cast<size_t>(t)].constant) continue;
      if (first[static_cast<size_t>(t)] < 0) first[static_cast<size_t>(t)] = 0;
      last[static_cast<size_t>(t)] = static_cast<long>(s);
    }
  }
  for (int t : graph.inputs)
    if (first[static_cast<size_t>(t)] >= 0) last[static_cast<size_t>(t)] = static_cast<long>(end);
  for (int task : plan->tasks_)
    for (const TaskOutputInfo& out : graph.tasks[static_cast<size_t>(task)].outputs) {
      const size_t t = static_cast<size_t>(out.tensor);
      if (graph.tensors[t].constant) continue;
      if (first[t] < 0) first[t] = 0;  // an output that is a model input
      last[t] = static_cast<long>(end);
    }

  // With heads in parallel, a head's tensors must not share bytes with another head's, and what
  // the shared steps made stays until every head has finished reading it.
  std::vector<int> step_group(steps, -1);
  for (size_t g = 0; g < plan->groups_.size(); ++g)
    for (uint32_t i = 0; i < plan->groups_[g].steps; ++i)
      step_group[plan->groups_[g].first_step + i] = static_cast<int>(g);

  std::vector<TensorLifetime> lifetimes;
  std::vector<int> planned;
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    if (first[t] < 0) continue;
    // Outputs nobody reads still need memory for the step that writes them.
    long last_step = std::max(last[t], first[t]);
    const int group = step_group.empty() ? -1 : step_group[static_cast<size_t>(first[t])];
    if (!plan->groups_.empty() && group < 0 && last_step >= static_cast<long>(plan->shared_steps_))
      last_step = static_cast<long>(end);
    lifetimes.push_back({graph.tensors[t].bytes, static_cast<size_t>(first[t]),
                         static_cast<size_t>(last_step), group});
    planned.push_back(static_cast<int>(t));
  }
  plan->arena_plan_ = plan_arena(lifetimes);
  plan->arena_ = pool.acquire(plan->arena_plan_.arena_bytes);
  if (!plan->arena_.data())
    return Status(ErrorCode::kOutOfMemory, "could not allocate an arena of " +
                                               std::to_string(plan->arena_plan_.arena_bytes) +
                                               " bytes");
  plan->tensor_offset_.assign(graph.tensors.size(), SIZE_MAX);
  for (size_t i = 0; i < planned.size(); ++i)
    plan->tensor_offset_[static_cast<size_t>(planned[i])] = plan->arena_plan_.offsets[i];

  // Kernels (created once per model) and the pointer table every setup reads.
  for (int n : plan->nodes_) {
    const NodeInfo& node = graph.nodes[static_cast<size_t>(n)];
    PH_ASSIGN_OR_RETURN(kernels::Kernel * kernel, kernels.get_or_create(n));
    Step step{n,
              kernel,
              node_mask[static_cast<size_t>(n)],
              static_cast<uint32_t>(plan->io_.size()),
              static_cast<uint32_t>(node.inputs.size()),
              static_cast<uint32_t>(node.outputs.size()),
              ThreadChoice{}};
    for (int t : node.inputs) {
      if (t < 0) {
        plan->io_.push_back(nullptr);
      } else if (graph.tensors[static_cast<size_t>(t)].constant) {
        plan->io_.push_back(const_cast<void*>(kernels.constant_data(n, t)));
      } else {
        plan->io_.push_back(plan->tensor_data(t));
      }
    }
    for (int t : node.outputs) plan->io_.push_back(plan->tensor_data(t));
    plan->steps_.push_back(step);
  }
  for (const Step& s : plan->steps_) {
    void* const* io = plan->io_.data() + s.io_begin;
    const Status set_up = s.kernel->setup(io, io + s.inputs, threads);
    kernels.note_setup(s.node, set_up.is_ok());
    PH_RETURN_IF_ERROR(set_up);
    kernels.set_bound_plan(s.node, plan.get());
  }
  // With one thread there is nothing to choose.
  plan->undecided_steps_ = choose_threads && several ? plan->steps_.size() : 0;
  return plan;
}

void ExecutionPlan::group_heads(const Graph& graph, const std::vector<TaskMask>& node_mask,
                                HeadParallelism mode) {
  std::vector<int> shared;
  std::vector<std::vector<int>> head(tasks_.size());
  for (int n : nodes_) {
    const TaskMask m = node_mask[static_cast<size_t>(n)];
    if (m != 0 && (m & (m - 1)) == 0) {
      size_t task = 0;
      while (!((m >> task) & 1u)) ++task;
      head[task].push_back(n);
    } else {
      shared.push_back(n);
    }
  }
  std::vector<size_t> with_head;
  for (size_t i = 0; i < head.size(); ++i)
    if (!head[i].empty()) with_head.push_back(i);
  if (with_head.size() < 2) return;
  auto macs = [&](size_t task) {
    uint64_t sum = 0;
    for (int n : head[task]) sum += graph.nodes[static_cast<size_t>(n)].macs;
    return sum;
  };
  std::stable_sort(with_head.begin(), with_head.end(),
                   [&](size_t a, size_t b) { return macs(a) > macs(b); });
  // kAuto: heads one per thread finish no sooner than the largest alone, while in turn each gets
  // every thread. When one head does most of the work (the demo model's detector, 85 % of its
  // heads' MACs; pose's segmentation, 86 %) running them side by side loses (docs/performance.md,
  // "Heads in parallel"), so such plans keep one order and the smaller arena without measuring.
  uint64_t total = 0;
  for (size_t task : with_head) total += macs(task);
  if (mode == HeadParallelism::kAuto &&
      static_cast<double>(macs(with_head[0])) > kAutoLargestHeadShare * static_cast<double>(total))
    return;
  nodes_ = std::move(shared);
  shared_steps_ = nodes_.size();
  for (size_t task : with_head) {
    groups_.push_back({TaskMask{1} << task, static_cast<uint32_t>(nodes_.size()),
                       static_cast<uint32_t>(head[task].size()), macs(task)});
    nodes_.insert(nodes_.end(), head[task].begin(), head[task].end());
  }
  active_groups_.assign(groups_.size(), 0);
  group_status_.assign(groups_.size(), Status::ok());
  group_executed_.assign(groups_.size(), 0);
}

ExecutionPlan::~ExecutionPlan() {
  kernels_.forget_plan(this);
}

TaskMask ExecutionPlan::mask_of(int task) const {
  for (size_t i = 0; i < tasks_.size(); ++i)
    if (tasks_[i] == task) return TaskMask{1} << i;
  return 0;
}

std::byte* ExecutionPlan::tensor_data(int tensor) const {
  if (tensor < 0 || static_cast<size_t>(tensor) >= tensor_offset_.size()) return nullptr;
  const size_t offset = tensor_offset_[static_cast<size_t>(tensor)];
  return offset == SIZE_MAX ? nullptr : arena_.data() + offset;
}

Status ExecutionPlan::run_step(const Step& s, pthreadpool_t pool, pthreadpool_t run_pool) {
  if (kernels_.bound_plan(s.node) != this) {
    // Another plan used this kernel since: point it at this plan's memory. Shapes are
    // unchanged, so the backend does not allocate here.
    void* const* io = io_.data() + s.io_begin;
    PH_RETURN_IF_ERROR(s.kernel->setup(io, io + s.inputs, pool));
    kernels_.set_bound_plan(s.node, this);
  }
  return s.kernel->run(run_pool);
}

pthreadpool_t ExecutionPlan::pool_for(const Step& s, pthreadpool_t pool) {
  const ThreadChoice& c = s.threads;
  if (c.decided) return c.serial ? nullptr : pool;
  if (!c.warmed_up) return pool;
  return c.serial_samples < c.pooled_samples ? nullptr : pool;
}

void ExecutionPlan::record(Step& s, bool serial, uint64_t ns) {
  ThreadChoice& c = s.threads;
  if (!c.warmed_up) {
    c.warmed_up = true;  // the first run pays for cold caches and page faults: not a sample
    return;
  }
  if (serial) {
    c.best_serial_ns = ns < c.best_serial_ns ? ns : c.best_serial_ns;
    ++c.serial_samples;
  } else {
    c.best_pooled_ns = ns < c.best_pooled_ns ? ns : c.best_pooled_ns;
    ++c.pooled_samples;
  }
  if (c.serial_samples >= ThreadChoice::kSamples && c.pooled_samples >= ThreadChoice::kSamples) {
    c.decided = true;
    c.serial = c.best_serial_ns < c.best_pooled_ns;
    --undecided_steps_;
  }
}

size_t ExecutionPlan::decided_steps() const {
  size_t n = 0;
  for (const Step& s : steps_) n += s.threads.decided ? 1 : 0;
  return n;
}

size_t ExecutionPlan::serial_steps() const {
  size_t n = 0;
  for (const Step& s : steps_) n += s.threads.decided && s.threads.serial ? 1 : 0;
  return n;
}

Status ExecutionPlan::run_sequence(size_t begin, size_t end, TaskMask mask, RunContext& run) {
  const pthreadpool_t pool = run.threads.get();
  const bool choosing = undecided_steps_ > 0 && pool != nullptr;
  const bool timed = run.step_times_ns || choosing;
  for (size_t i = begin; i < end; ++i) {
    if (run.step_times_ns) run.step_times_ns[i] = 0;
    Step& s = steps_[i];
    if (!(s.tasks & mask)) continue;
    pthreadpool_t run_pool = pool_for(s, pool);
    bool yielded = false;  // the pool is shared now or was lately: this step runs here instead
    if (run_pool && (run.shared || run.threads.shared_now())) {
      run_pool = nullptr;
      yielded = true;
      run.shared = true;
      run.threads.park_workers_if_busy();
    }
    // The clock is read around each step only in a profiled run or while the plan still chooses
    // its threads, so plain runs never pay for it.
    const auto start =
        timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    PH_RETURN_IF_ERROR(run_step(s, pool, run_pool));
    if (timed) {
      const uint64_t ns = elapsed_ns(start);
      if (run.step_times_ns) run.step_times_ns[i] = ns;
      // A step pushed off a busy pool measured neither side fairly.
      if (choosing && !s.threads.decided && !yielded) record(s, run_pool == nullptr, ns);
    }
    if (run_pool) run.threads.note_workers_busy();
    ++run.executed;
  }
  return Status::ok();
}

void ExecutionPlan::run_head_task(void* context, size_t index) {
  auto* plan = static_cast<ExecutionPlan*>(context);
  const HeadGroup& g = plan->groups_[plan->active_groups_[index]];
  uint64_t* times = plan->parallel_step_times_;
  for (size_t i = g.first_step; i < g.first_step + g.steps; ++i) {
    const auto start =
        times ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    // One head per pool thread: its nodes run on that thread alone.
    Status status = plan->steps_[i].kernel->run(nullptr);
    if (!status.is_ok()) {
      plan->group_status_[index] = std::move(status);
      return;
    }
    if (times) times[i] = elapsed_ns(start);
    ++plan->group_executed_[index];
  }
}

Status ExecutionPlan::run_heads_in_parallel(size_t count, RunContext& run) {
  const pthreadpool_t pool = run.threads.get();
  uint64_t* step_times_ns = run.step_times_ns;
  // Kernels another plan used since are pointed back at this plan's memory here, on the calling
  // thread, before any head starts.
  for (size_t k = 0; k < count; ++k) {
    const HeadGroup& g = groups_[active_groups_[k]];
    for (size_t i = g.first_step; i < g.first_step + g.steps; ++i) {
      const Step& s = steps_[i];
      if (kernels_.bound_plan(s.node) == this) continue;
      void* const* io = io_.data() + s.io_begin;
      PH_RETURN_IF_ERROR(s.kernel->setup(io, io + s.inputs, pool));
      kernels_.set_bound_plan(s.node, this);
    }
    group_status_[k] = Status::ok();
    group_executed_[k] = 0;
  }
  if (step_times_ns)
    for (size_t i = shared_steps_; i < steps_.size(); ++i) step_times_ns[i] = 0;
  parallel_step_times_ = step_times_ns;
  kernels::parallelize_1d(pool, &ExecutionPlan::run_head_task, this, count, 0);
  parallel_step_times_ = nullptr;
  run.threads.note_workers_busy();
  for (size_t k = 0; k < count; ++k) {
    PH_RETURN_IF_ERROR(group_status_[k]);
    run.executed += group_executed_[k];
  }
  return Status::ok();
}

void ExecutionPlan::record_heads(bool parallel, uint64_t ns) {
  HeadChoice& c = heads_;
  if (!c.warmed_up) {
    c.warmed_up = true;
    return;
  }
  if (parallel) {
    c.best_parallel_ns = std::min(c.best_parallel_ns, ns);
    ++c.parallel_samples;
  } else {
    c.best_sequential_ns = std::min(c.best_sequential_ns, ns);
    ++c.sequential_samples;
  }
  if (c.parallel_samples >= HeadChoice::kSamples && c.sequential_samples >= HeadChoice::kSamples) {
    c.decided = true;
    c.parallel = c.best_parallel_ns < c.best_sequential_ns;
  }
}

Status ExecutionPlan::run(TaskMask mask, ThreadPool& threads, uint64_t* step_times_ns) {
  // While other runs share the pool, and for the run after one that saw them, every step runs on
  // the calling thread: engines that overlap run side by side (concurrency between models instead
  // of parallelism inside them), and only an engine alone on the pool wakes its workers. Without
  // that memory the last engine of each frame, alone for its tail, would wake the workers only to
  // leave them spinning on the cores the next frame's engines need.
  RunContext run{threads, step_times_ns, 0, pool_was_shared_ || threads.shared_now()};
  if (run.shared) threads.park_workers_if_busy();
  size_t active = 0;
  if (threads.get())
    for (size_t g = 0; g < groups_.size(); ++g)
      if (groups_[g].task & mask) active_groups_[active++] = static_cast<uint32_t>(g);
  if (active < 2) {
    PH_RETURN_IF_ERROR(run_sequence(0, steps_.size(), mask, run));
  } else {
    PH_RETURN_IF_ERROR(run_sequence(0, shared_steps_, mask, run));
    // kAuto measures only once every node's own thread choice is made, so that the sequential
    // time it compares against is the best one; then it alternates until it has its samples.
    // Neither way is measured, nor heads handed to the pool, while another run shares it.
    const bool shared = run.shared || threads.shared_now();
    const bool sampling = !heads_.decided && undecided_steps_ == 0 && !shared;
    const bool parallel =
        !shared && (heads_.decided ? heads_.parallel
                                   : sampling && heads_.warmed_up &&
                                         heads_.parallel_samples <= heads_.sequential_samples);
    const auto start = std::chrono::steady_clock::now();
    if (parallel)
      PH_RETURN_IF_ERROR(run_heads_in_parallel(active, run));
    else
      PH_RETURN_IF_ERROR(run_sequence(shared_steps_, steps_.size(), mask, run));
    if (sampling) record_heads(parallel, elapsed_ns(start));
  }
  // Others are running on the pool and this run is done with it: let its workers sleep rather
  // than spin on the cores those runs need.
  if (threads.shared_now()) {
    run.shared = true;
    threads.park_workers_if_busy();
  }
  pool_was_shared_ = run.shared;
  last_run_steps_ = run.executed;
  last_run_mask_ = mask;
  return Status::ok();
}

}  // namespace polyhead::runtime
