#include "polyhead/engine.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "enum_names.h"
#include "model_data.h"
#include "out_of_memory.h"
#include "pixel_converter.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/runtime/execution_plan.h"
#include "polyhead/runtime/memory_pool.h"
#include "polyhead/runtime/model_kernels.h"
#include "polyhead/runtime/plan_cache.h"
#include "polyhead/runtime/thread_pool.h"
#include "thread_pool_state.h"

namespace polyhead {
namespace detail {

struct EngineState {
  EngineState(const Model& m, const EngineOptions& o)
      : model(m),
        options(o),
        kernels(m.data().graph, o.precision, o.sparse_weights),
        threads(o.thread_pool ? o.thread_pool.state()
                              : std::make_shared<ThreadPoolState>(o.threads)),
        cache(o.plan_cache_capacity) {}
  Model model;
  EngineOptions options;
  runtime::ModelKernels kernels;
  std::shared_ptr<runtime::MemoryPool> pool = runtime::MemoryPool::create();
  std::shared_ptr<ThreadPoolState> threads;  // the engine's own pool or one shared with others
  runtime::PlanCache cache;
};

struct PlanState {
  std::shared_ptr<EngineState> engine;  // keeps graph, kernels and pool alive
  std::shared_ptr<runtime::ExecutionPlan> plan;
  std::vector<int> inputs;      // model input tensors the plan reads
  std::vector<char> input_set;  // per entry of `inputs`
  bool profiling = false;
  std::vector<uint64_t> node_times_ns;  // one per plan step while profiling
  // Per entry of `inputs`: the converter of an image input (made by prepare, so that frames
  // convert without allocating), empty for inputs that are not images.
  std::vector<std::optional<PixelConverter>> pixel_converters;
  struct OutputBinding {
    int task = 0;  // graph task id
    int tensor = 0;
    void* data = nullptr;
    size_t bytes = 0;
  };
  std::vector<OutputBinding> output_bindings;

  // Runs the tasks of `mask`, then copies the bound outputs of the tasks that ran.
  Status run(runtime::TaskMask mask) {
    runtime::ThreadPool& pool = engine->threads->pool;
    pool.enter_run();
    const Status ran = plan->run(mask, pool, profiling ? node_times_ns.data() : nullptr);
    pool.leave_run();
    PH_RETURN_IF_ERROR(ran);
    for (const OutputBinding& b : output_bindings)
      if (plan->last_run_mask() & plan->mask_of(b.task))
        std::memcpy(b.data, plan->tensor_data(b.tensor), b.bytes);
    return Status::ok();
  }
};

}  // namespace detail

namespace {

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s.empty() ? "(none)" : s;
}

runtime::HeadParallelism head_parallelism(const EngineOptions& o) {
  switch (o.parallel_heads) {
    case ParallelHeads::kNever:
      return runtime::HeadParallelism::kOff;
    case ParallelHeads::kAlways:
      return runtime::HeadParallelism::kOn;
    case ParallelHeads::kAuto:
      break;
  }
  return runtime::HeadParallelism::kAuto;
}

std::vector<std::string> task_names(const runtime::Graph& g) {
  std::vector<std::string> v;
  for (const auto& t : g.tasks) v.push_back(t.name);
  return v;
}

}  // namespace

Result<Engine> Engine::create(const Model& model, const EngineOptions& options) {
  if (options.threads > 1024)
    return Status(ErrorCode::kInvalidArgument,
                  "threads must be at most 1024, found " + std::to_string(options.threads));
  if (options.thread_pool && options.threads != 1 &&
      options.threads != options.thread_pool.threads())
    return Status(ErrorCode::kInvalidArgument,
                  "threads = " + std::to_string(options.threads) + " conflicts with the shared " +
                      std::to_string(options.thread_pool.threads()) +
                      "-thread pool given as thread_pool; leave threads at 1 or set it to " +
                      std::to_string(options.thread_pool.threads()));
  if (static_cast<unsigned>(options.parallel_heads) > 2u)
    return Status(ErrorCode::kInvalidArgument,
                  "parallel_heads must be auto, never or always, found " +
                      std::to_string(static_cast<int>(options.parallel_heads)));
  if (static_cast<unsigned>(options.sparse_weights) > 2u)
    return Status(ErrorCode::kInvalidArgument,
                  "sparse_weights must be auto, sparse or dense, found " +
                      std::to_string(static_cast<int>(options.sparse_weights)));
  if (options.plan_cache_capacity == 0)
    return Status(ErrorCode::kInvalidArgument, "plan_cache_capacity must be at least 1, found 0");
  if (options.precision == Precision::kF16 && !kernels::cpu_has_fp16_arithmetic())
    return Status(ErrorCode::kUnsupported,
                  "precision f16 needs a CPU with half-precision arithmetic (ARMv8.2-A FP16, e.g. "
                  "Cortex-A55/A76/A78, Apple M1); this CPU has none: use precision f32");
  return detail::answer_out_of_memory("Engine::create", [&]() -> Result<Engine> {
    PH_RETURN_IF_ERROR(detail::check_file_unchanged(model.data()));
    auto state = std::make_shared<detail::EngineState>(model, options);
    if (!options.thread_pool)
      PH_RETURN_IF_ERROR(state->threads->check_started(options.threads, ""));
    return Engine(std::move(state));
  });
}

const Model& Engine::model() const {
  return state_->model;
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.packed_weight_bytes = state_->kernels.packed_weight_bytes();
  s.sparse_kernel_nodes = state_->kernels.sparse_kernel_count();
  s.expanded_sparse_weight_bytes = state_->kernels.expanded_weight_bytes();
  s.arena_pool_bytes = state_->pool->owned_bytes();
  s.cached_plans = state_->cache.size();
  s.threads = state_->threads->pool.threads();
  return s;
}

Result<Plan> Engine::prepare(const std::vector<std::string>& tasks) {
  return detail::answer_out_of_memory("Engine::prepare", [&] { return prepare_tasks(tasks); });
}

Result<Plan> Engine::prepare_tasks(const std::vector<std::string>& tasks) {
  // Preparing reads operator options and weights in place; a file changed since it was verified
  // could send those reads anywhere.
  PH_RETURN_IF_ERROR(detail::check_file_unchanged(state_->model.data()));
  const runtime::Graph& g = state_->model.data().graph;
  std::vector<int> ids;
  if (tasks.empty()) {
    for (size_t i = 0; i < g.tasks.size(); ++i) ids.push_back(static_cast<int>(i));
  } else {
    for (const std::string& name : tasks) {
      const int id = g.find_task(name);
      if (id < 0)
        return Status(ErrorCode::kNotFound,
                      "unknown task '" + name + "'; the model has " + join_names(task_names(g)));
      if (std::find(ids.begin(), ids.end(), id) != ids.end())
        return Status(ErrorCode::kInvalidArgument, "task '" + name + "' is listed twice");
      ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  auto state = std::make_shared<detail::PlanState>();
  state->engine = state_;
  state->plan = state_->cache.find(ids);
  if (!state->plan) {
    state_->cache.make_room();
    PH_ASSIGN_OR_RETURN(
        auto plan, runtime::ExecutionPlan::create(
                       g, state_->kernels, *state_->pool, ids, state_->threads->pool.get(),
                       state_->options.choose_threads_per_node, head_parallelism(state_->options)));
    state->plan = std::move(plan);
    state_->cache.insert(ids, state->plan);
  }
  for (int t : g.inputs)
    if (state->plan->tensor_data(t)) state->inputs.push_back(t);
  state->input_set.assign(state->inputs.size(), 0);
  for (int t : state->inputs) {
    std::optional<detail::PixelConverter> converter;
    for (const InputInfo& info : state_->model.inputs()) {
      if (info.name != g.tensors[static_cast<size_t>(t)].name) continue;
      auto made = detail::PixelConverter::create(info);
      if (made.is_ok()) converter.emplace(std::move(*made));
    }
    state->pixel_converters.push_back(std::move(converter));
  }
  return Plan(std::move(state));
}

namespace {

// Index of input `name` among the inputs the plan reads, or why there is none.
Result<size_t> find_plan_input(const detail::PlanState& s, std::string_view name) {
  const runtime::Graph& g = s.engine->model.data().graph;
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    const runtime::TensorInfo& t = g.tensors[static_cast<size_t>(s.inputs[i])];
    if (t.name != name) continue;
    if (t.type != ElementType::kF32)
      return Status(ErrorCode::kUnsupported,
                    "input '" + t.name + "' has element type " + element_type_name(t.type));
    return i;
  }
  std::vector<std::string> names;
  for (int t : s.inputs) names.push_back(g.tensors[static_cast<size_t>(t)].name);
  for (int t : g.inputs)
    if (g.tensors[static_cast<size_t>(t)].name == name)
      return Status(ErrorCode::kNotFound, "input '" + std::string(name) +
                                              "' is not read by the tasks of this plan; it reads " +
                                              join_names(names));
  return Status(ErrorCode::kNotFound,
                "unknown input '" + std::string(name) + "'; the plan reads " + join_names(names));
}

}  // namespace

Result<float*> Plan::input_buffer(std::string_view name) {
  PH_ASSIGN_OR_RETURN(const size_t index, find_plan_input(*state_, name));
  state_->input_set[index] = 1;
  return reinterpret_cast<float*>(state_->plan->tensor_data(state_->inputs[index]));
}

std::vector<std::string> Plan::input_names() const {
  const runtime::Graph& g = state_->engine->model.data().graph;
  std::vector<std::string> names;
  for (int t : state_->inputs) names.push_back(g.tensors[static_cast<size_t>(t)].name);
  return names;
}

Status Plan::set_input(std::string_view name, const float* data, size_t count) {
  PH_ASSIGN_OR_RETURN(const size_t index, find_plan_input(*state_, name));
  const runtime::TensorInfo& t =
      state_->engine->model.data().graph.tensors[static_cast<size_t>(state_->inputs[index])];
  const auto expected = static_cast<size_t>(t.shape.elements());
  // A rejected call leaves the input as it was (set or not).
  if (count != expected)
    return Status(ErrorCode::kInvalidArgument,
                  "input '" + t.name + "' of shape " + t.shape.to_string() + " takes " +
                      std::to_string(expected) + " floats, got " + std::to_string(count));
  if (!data) return Status(ErrorCode::kInvalidArgument, "input '" + t.name + "': data is null");
  std::memcpy(state_->plan->tensor_data(state_->inputs[index]), data, count * sizeof(float));
  state_->input_set[index] = 1;
  return Status::ok();
}

Result<ImageTransform> Plan::set_input_pixels(std::string_view name, const PixelImage& image) {
  PH_ASSIGN_OR_RETURN(const size_t index, find_plan_input(*state_, name));
  std::optional<detail::PixelConverter>& converter = state_->pixel_converters[index];
  if (!converter) {
    // Not an image input: say why, from the same checks prepare() made.
    for (const InputInfo& info : state_->engine->model.inputs())
      if (info.name == name) PH_RETURN_IF_ERROR(detail::PixelConverter::create(info).status());
    return Status(ErrorCode::kInvalidArgument, "input '" + std::string(name) + "' is not an image");
  }
  float* dst = reinterpret_cast<float*>(state_->plan->tensor_data(state_->inputs[index]));
  PH_ASSIGN_OR_RETURN(const ImageTransform t, converter->convert(image, dst));
  state_->input_set[index] = 1;
  return t;
}

namespace {

Status missing_input(const detail::PlanState& s) {
  const runtime::Graph& g = s.engine->model.data().graph;
  for (size_t i = 0; i < s.inputs.size(); ++i)
    if (!s.input_set[i])
      return Status(ErrorCode::kInvalidArgument,
                    "input '" + g.tensors[static_cast<size_t>(s.inputs[i])].name +
                        "' was not set before run()");
  return Status::ok();
}

}  // namespace

Status Plan::run() {
  for (char set : state_->input_set)
    if (!set) return missing_input(*state_);
  return state_->run(state_->plan->all_tasks_mask());
}

template <typename Names>
Status Plan::run_names(const Names& tasks) {
  const runtime::Graph& g = state_->engine->model.data().graph;
  runtime::TaskMask mask = 0;
  for (const auto& name : tasks) {
    runtime::TaskMask bit = 0;
    for (int t : state_->plan->tasks())
      if (g.tasks[static_cast<size_t>(t)].name == name) bit = state_->plan->mask_of(t);
    if (!bit) {
      std::vector<std::string> names;
      for (int t : state_->plan->tasks()) names.push_back(g.tasks[static_cast<size_t>(t)].name);
      const std::string task(name);
      const bool known = g.find_task(task) >= 0;
      return Status(known ? ErrorCode::kInvalidArgument : ErrorCode::kNotFound,
                    (known ? "task '" + task + "' was not prepared in this plan"
                           : "unknown task '" + task + "'") +
                        "; the plan holds " + join_names(names));
    }
    mask |= bit;
  }
  if (mask == 0) return run();
  // Every head reads the model inputs through the shared backbone, so all must be set.
  for (char set : state_->input_set)
    if (!set) return missing_input(*state_);
  return state_->run(mask);
}

Status Plan::run(const std::vector<std::string>& tasks) {
  return run_names(tasks);
}
Status Plan::run(std::initializer_list<std::string_view> tasks) {
  return run_names(tasks);
}
Status Plan::run(const char* const* tasks, size_t count) {
  if (count == 0) return run();
  if (!tasks)
    return Status(ErrorCode::kInvalidArgument,
                  "task list is null but count is " + std::to_string(count));
  for (size_t i = 0; i < count; ++i)
    if (!tasks[i])
      return Status(ErrorCode::kInvalidArgument,
                    "task name " + std::to_string(i) + " of " + std::to_string(count) + " is null");
  // A view of the C array, iterated by run_names like any container of names.
  struct Names {
    const char* const* first;
    const char* const* last;
    const char* const* begin() const { return first; }
    const char* const* end() const { return last; }
  };
  return run_names(Names{tasks, tasks + count});
}

namespace {

// Task id and tensor of output `output` of task `task` in the plan, or why there is none.
Result<std::pair<int, int>> find_output(const detail::PlanState& s, std::string_view task,
                                        std::string_view output) {
  const runtime::Graph& g = s.engine->model.data().graph;
  for (int t : s.plan->tasks()) {
    const runtime::TaskInfo& info = g.tasks[static_cast<size_t>(t)];
    if (info.name != task) continue;
    for (const runtime::TaskOutputInfo& o : info.outputs)
      if (o.name == output) return std::make_pair(t, o.tensor);
    // Names are gathered only for the error: a found output allocates nothing (read per frame).
    std::vector<std::string> names;
    for (const runtime::TaskOutputInfo& o : info.outputs) names.push_back(o.name);
    return Status(ErrorCode::kNotFound, "task '" + info.name + "' has no output '" +
                                            std::string(output) + "'; it has " + join_names(names));
  }
  std::vector<std::string> names;
  for (int t : s.plan->tasks()) names.push_back(g.tasks[static_cast<size_t>(t)].name);
  return Status(ErrorCode::kNotFound, "task '" + std::string(task) +
                                          "' is not in this plan; it holds " + join_names(names));
}

}  // namespace

Result<TensorView> Plan::output(std::string_view task, std::string_view output) const {
  PH_ASSIGN_OR_RETURN(const auto found, find_output(*state_, task, output));
  const runtime::Graph& g = state_->engine->model.data().graph;
  if (!(state_->plan->last_run_mask() & state_->plan->mask_of(found.first)))
    return Status(ErrorCode::kInvalidArgument, "task '" +
                                                   g.tasks[static_cast<size_t>(found.first)].name +
                                                   "' did not run in the last run() of this plan");
  const runtime::TensorInfo& ti = g.tensors[static_cast<size_t>(found.second)];
  TensorView view;
  view.data = state_->plan->tensor_data(found.second);
  view.shape = ti.shape;
  view.type = ti.type;
  return view;
}

Status Plan::bind_output(std::string_view task, std::string_view output, void* data, size_t bytes) {
  PH_ASSIGN_OR_RETURN(const auto found, find_output(*state_, task, output));
  const runtime::TensorInfo& ti =
      state_->engine->model.data().graph.tensors[static_cast<size_t>(found.second)];
  const size_t expected = static_cast<size_t>(ti.shape.elements()) * element_size(ti.type);
  // A rejected buffer leaves the binding as it was.
  if (data && bytes != expected)
    return Status(ErrorCode::kInvalidArgument,
                  "output '" + std::string(output) + "' of task '" + std::string(task) + "' (" +
                      ti.shape.to_string() + " " + element_type_name(ti.type) + ") takes " +
                      std::to_string(expected) + " bytes, the buffer has " + std::to_string(bytes));
  auto& bindings = state_->output_bindings;
  bindings.erase(std::remove_if(bindings.begin(), bindings.end(),
                                [&](const auto& b) {
                                  return b.tensor == found.second && b.task == found.first;
                                }),
                 bindings.end());
  if (data) bindings.push_back({found.first, found.second, data, bytes});
  return Status::ok();
}

PlanInfo Plan::info() const {
  const runtime::Graph& g = state_->engine->model.data().graph;
  PlanInfo info;
  for (int t : state_->plan->tasks()) info.tasks.push_back(g.tasks[static_cast<size_t>(t)].name);
  info.nodes = state_->plan->nodes().size();
  info.arena_bytes = state_->plan->arena_plan().arena_bytes;
  info.arena_lower_bound_bytes = state_->plan->arena_plan().lower_bound_bytes;
  info.arena_strategy = state_->plan->arena_plan().strategy;
  info.nodes_with_thread_choice = state_->plan->decided_steps();
  info.nodes_on_calling_thread = state_->plan->serial_steps();
  info.parallel_head_groups = state_->plan->head_groups();
  info.heads_in_parallel = state_->plan->heads_in_parallel();
  return info;
}

bool Plan::heads_in_parallel() const {
  return state_->plan->heads_in_parallel();
}

const Model& Plan::model() const {
  return state_->engine->model;
}

void Plan::set_profiling(bool enabled) {
  state_->profiling = enabled;
  if (enabled)
    state_->node_times_ns.assign(state_->plan->nodes().size(), 0);
  else
    state_->node_times_ns.clear();
}

bool Plan::profiling() const {
  return state_->profiling;
}

const std::vector<uint64_t>& Plan::node_times_ns() const {
  return state_->node_times_ns;
}

size_t Plan::last_run_nodes() const {
  return state_->plan->last_run_steps();
}

Result<std::vector<std::string>> Plan::node_names(const std::vector<std::string>& tasks) const {
  const runtime::Graph& g = state_->engine->model.data().graph;
  runtime::TaskMask mask = tasks.empty() ? state_->plan->all_tasks_mask() : 0;
  for (const std::string& name : tasks) {
    const int id = g.find_task(name);
    const runtime::TaskMask bit = id < 0 ? 0 : state_->plan->mask_of(id);
    if (!bit) return Status(ErrorCode::kNotFound, "task '" + name + "' is not in this plan");
    mask |= bit;
  }
  std::vector<int> ids;
  for (size_t i = 0; i < state_->plan->tasks().size(); ++i)
    if (mask & (runtime::TaskMask{1} << i)) ids.push_back(state_->plan->tasks()[i]);
  // In the plan's step order (with heads in parallel: shared nodes first, then head by head), the
  // order of node_times_ns().
  std::vector<char> needed(g.nodes.size(), 0);
  for (int n : runtime::nodes_for_tasks(g, ids)) needed[static_cast<size_t>(n)] = 1;
  std::vector<std::string> names;
  for (int n : state_->plan->nodes())
    if (needed[static_cast<size_t>(n)]) names.push_back(g.nodes[static_cast<size_t>(n)].name);
  return names;
}

namespace {
constexpr const char* kParallelHeadsNames[] = {"auto", "never", "always"};
}  // namespace

const char* parallel_heads_name(ParallelHeads mode) {
  return detail::name_of(mode, kParallelHeadsNames);
}

Result<ParallelHeads> parse_parallel_heads(std::string_view name) {
  return detail::parse<ParallelHeads>(name, kParallelHeadsNames, "parallel heads mode");
}

}  // namespace polyhead
