#include "polyhead/runtime/execution_plan.h"

#include <algorithm>
#include <chrono>

namespace polyhead::runtime {

Result<std::unique_ptr<ExecutionPlan>> ExecutionPlan::create(
    const Graph& graph, ModelKernels& kernels, MemoryPool& pool, std::vector<int> tasks,
    pthreadpool_t threads, bool choose_threads) {
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

  std::vector<TensorLifetime> lifetimes;
  std::vector<int> planned;
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    if (first[t] < 0) continue;
    // Outputs nobody reads still need memory for the step that writes them.
    const long last_step = std::max(last[t], first[t]);
    lifetimes.push_back(
        {graph.tensors[t].bytes, static_cast<size_t>(first[t]), static_cast<size_t>(last_step)});
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
        plan->io_.push_back(const_cast<void*>(graph.tensors[static_cast<size_t>(t)].constant));
      } else {
        plan->io_.push_back(plan->tensor_data(t));
      }
    }
    for (int t : node.outputs) plan->io_.push_back(plan->tensor_data(t));
    plan->steps_.push_back(step);
  }
  for (const Step& s : plan->steps_) {
    void* const* io = plan->io_.data() + s.io_begin;
    PH_RETURN_IF_ERROR(s.kernel->setup(io, io + s.inputs, threads));
    kernels.set_bound_plan(s.node, plan.get());
  }
  // With one thread there is nothing to choose.
  const bool several = threads && pthreadpool_get_threads_count(threads) > 1;
  plan->undecided_steps_ = choose_threads && several ? plan->steps_.size() : 0;
  return plan;
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

Status ExecutionPlan::run(TaskMask mask, pthreadpool_t pool, uint64_t* step_times_ns) {
  size_t executed = 0;
  const bool choosing = undecided_steps_ > 0 && pool != nullptr;
  if (step_times_ns || choosing) {
    // Timed: the clock is read around each step only here (a profiled run, or the first runs
    // of a plan that still chooses its threads), so plain runs never pay for it.
    for (size_t i = 0; i < steps_.size(); ++i) {
      if (step_times_ns) step_times_ns[i] = 0;
      Step& s = steps_[i];
      if (!(s.tasks & mask)) continue;
      pthreadpool_t run_pool = pool_for(s, pool);
      const auto start = std::chrono::steady_clock::now();
      PH_RETURN_IF_ERROR(run_step(s, pool, run_pool));
      const auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::steady_clock::now() - start)
                                                .count());
      if (step_times_ns) step_times_ns[i] = ns;
      if (choosing && !s.threads.decided) record(s, run_pool == nullptr, ns);
      ++executed;
    }
  } else {
    for (const Step& s : steps_) {
      if (!(s.tasks & mask)) continue;
      PH_RETURN_IF_ERROR(run_step(s, pool, pool_for(s, pool)));
      ++executed;
    }
  }
  last_run_steps_ = executed;
  last_run_mask_ = mask;
  return Status::ok();
}

}  // namespace polyhead::runtime
