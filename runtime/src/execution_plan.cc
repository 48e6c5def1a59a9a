#include "polyhead/runtime/execution_plan.h"

#include <algorithm>
#include <chrono>

namespace polyhead::runtime {

Result<std::unique_ptr<ExecutionPlan>> ExecutionPlan::create(const Graph& graph,
                                                             ModelKernels& kernels,
                                                             MemoryPool& pool,
                                                             std::vector<int> tasks,
                                                             pthreadpool_t threads) {
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
              static_cast<uint32_t>(node.outputs.size())};
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

Status ExecutionPlan::run_step(const Step& s, pthreadpool_t pool) {
  if (kernels_.bound_plan(s.node) != this) {
    // Another plan used this kernel since: point it at this plan's memory. Shapes are
    // unchanged, so the backend does not allocate here.
    void* const* io = io_.data() + s.io_begin;
    PH_RETURN_IF_ERROR(s.kernel->setup(io, io + s.inputs, pool));
    kernels_.set_bound_plan(s.node, this);
  }
  return s.kernel->run(pool);
}

Status ExecutionPlan::run(TaskMask mask, pthreadpool_t pool, uint64_t* step_times_ns) {
  size_t executed = 0;
  if (step_times_ns) {
    // Profiled: the clock is read around each step only here, so plain runs never pay for it.
    for (size_t i = 0; i < steps_.size(); ++i) {
      step_times_ns[i] = 0;
      if (!(steps_[i].tasks & mask)) continue;
      const auto start = std::chrono::steady_clock::now();
      PH_RETURN_IF_ERROR(run_step(steps_[i], pool));
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - start);
      step_times_ns[i] = static_cast<uint64_t>(ns.count());
      ++executed;
    }
  } else {
    for (const Step& s : steps_) {
      if (!(s.tasks & mask)) continue;
      PH_RETURN_IF_ERROR(run_step(s, pool));
      ++executed;
    }
  }
  last_run_steps_ = executed;
  last_run_mask_ = mask;
  return Status::ok();
}

}  // namespace polyhead::runtime
