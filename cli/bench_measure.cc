#include "cli/bench_measure.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "cli/bench_model.h"
#include "cli/format.h"
#include "offline/graph/graph_costs.h"
#include "cli/process_memory.h"
#include "cli/progress.h"
#include "polyhead/engine.h"

namespace polyhead::cli {
namespace {

using Clock = std::chrono::steady_clock;

// However small --runs and --min-time are, a measurement stops here (a bound on memory).
constexpr size_t kMaxSamples = 1000000;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The same fixed pattern in every input, so runs are comparable between invocations.
Status fill_inputs(const Model& model, Plan& plan) {
  for (const std::string& name : plan.input_names()) {
    const InputInfo* info = nullptr;
    for (const InputInfo& in : model.inputs())
      if (in.name == name) info = &in;
    if (!info) return Status(ErrorCode::kInternal, "plan input '" + name + "' is not in the model");
    PH_ASSIGN_OR_RETURN(float* data, plan.input_buffer(name));
    const auto count = static_cast<size_t>(info->shape.elements());
    for (size_t i = 0; i < count; ++i) data[i] = std::sin(0.01f * static_cast<float>(i));
  }
  return Status::ok();
}

// `what` names the measurement in the progress lines ("one pass", "classify alone").
Result<Latency> measure(Plan& plan, const BenchConfig& c, Progress& progress,
                        const std::string& what) {
  std::string runs = std::to_string(c.runs) + " timed";
  if (c.min_time_s > 0) runs += " (and at least " + format_float(c.min_time_s, 4) + " s)";
  progress.stage(what + ": " + counted(static_cast<size_t>(c.warmup), "warm-up run") + ", then " +
                 runs);
  for (int i = 0; i < c.warmup; ++i) PH_RETURN_IF_ERROR(plan.run());
  Latency l;
  l.samples_ms.reserve(static_cast<size_t>(c.runs));
  const double min_ms = c.min_time_s * 1000.0;
  double total_ms = 0;
  while ((l.samples_ms.size() < static_cast<size_t>(c.runs) || total_ms < min_ms) &&
         l.samples_ms.size() < kMaxSamples) {
    const auto start = Clock::now();
    PH_RETURN_IF_ERROR(plan.run());
    const double ms = ms_since(start);
    l.samples_ms.push_back(ms);
    total_ms += ms;
    // Outside the timed interval; prints at most once a second.
    progress.step(what + ": timed", l.samples_ms.size(),
                  c.min_time_s > 0 ? 0 : static_cast<size_t>(c.runs), "runs");
  }
  l.ms = summarize(l.samples_ms);
  return l;
}

// Which part each plan node belongs to: "shared" when two or more of the tasks need it, else the
// one task whose head it is (the rule of `polyhead inspect`).
Result<std::vector<std::string>> node_parts(const Plan& plan, const std::vector<std::string>& tasks,
                                            const graph::GraphCosts& costs,
                                            const std::vector<size_t>& plan_nodes) {
  std::vector<int> users(costs.nodes.size(), 0);
  std::vector<size_t> owner(costs.nodes.size(), 0);
  for (size_t t = 0; t < tasks.size(); ++t) {
    PH_ASSIGN_OR_RETURN(std::vector<std::string> names, plan.node_names({tasks[t]}));
    PH_ASSIGN_OR_RETURN(std::vector<size_t> nodes, graph::resolve_nodes(names, costs));
    for (size_t n : nodes) {
      ++users[n];
      owner[n] = t;
    }
  }
  std::vector<std::string> parts;
  parts.reserve(plan_nodes.size());
  for (size_t n : plan_nodes) parts.push_back(users[n] >= 2 ? "shared" : tasks[owner[n]]);
  return parts;
}

Result<Profile> profile(Plan& plan, const BenchConfig& c, const std::vector<std::string>& tasks,
                        const graph::GraphCosts& costs, const std::vector<size_t>& plan_nodes,
                        Progress& progress) {
  PH_ASSIGN_OR_RETURN(std::vector<std::string> parts, node_parts(plan, tasks, costs, plan_nodes));
  const size_t nodes = plan_nodes.size();
  const auto runs = static_cast<size_t>(c.runs);
  // Column per node, row per run; filled from the plan's buffer after each run.
  std::vector<double> us(runs * nodes);
  progress.stage("profiling every node: " + counted(runs, "run"));
  plan.set_profiling(true);
  for (size_t r = 0; r < runs; ++r) {
    const Status ran = plan.run();
    if (!ran.is_ok()) {
      plan.set_profiling(false);
      return ran;
    }
    const std::vector<uint64_t>& ns = plan.node_times_ns();
    for (size_t k = 0; k < nodes; ++k) us[r * nodes + k] = static_cast<double>(ns[k]) / 1e3;
    progress.step("profiling", r + 1, runs, "runs");
  }
  plan.set_profiling(false);

  Profile p;
  p.runs = runs;
  for (size_t k = 0; k < nodes; ++k) {
    std::vector<double> column(runs);
    for (size_t r = 0; r < runs; ++r) column[r] = us[r * nodes + k];
    const Summary s = summarize(column);
    const graph::NodeCost& cost = costs.nodes[plan_nodes[k]];
    NodeProfile n;
    n.name = cost.name;
    n.op = cost.op;
    n.part = parts[k];
    n.input_shapes = cost.input_shapes;
    n.output_shapes = cost.output_shapes;
    n.macs = cost.macs;
    n.median_us = s.median;
    n.mean_us = s.mean;
    // GFLOP/s = 2 * MACs / ns; a node below the clock's resolution gets 0 rather than infinity.
    n.gflops = s.median > 0 ? 2.0 * static_cast<double>(cost.macs) / (s.median * 1e3) : 0;
    p.total_median_us += s.median;
    p.nodes.push_back(std::move(n));
  }
  // Shares of the summed medians: robust to a few disturbed runs, and in the sort order.
  for (NodeProfile& n : p.nodes)
    n.share = p.total_median_us > 0 ? n.median_us / p.total_median_us : 0;

  p.parts.push_back({"shared"});
  for (const std::string& t : tasks) p.parts.push_back({t});
  for (const NodeProfile& n : p.nodes)
    for (PartProfile& part : p.parts)
      if (part.part == n.part) {
        ++part.nodes;
        part.macs += n.macs;
        part.median_us += n.median_us;
        part.share += n.share;
      }
  std::stable_sort(p.nodes.begin(), p.nodes.end(), [](const NodeProfile& a, const NodeProfile& b) {
    return a.median_us > b.median_us;
  });
  return p;
}

// Each task as its own plan on `engine` (the kernels, and so the packed weights, are shared).
// `what` prefixes the progress lines ("sweep 2/2, 2 threads, " in a sweep).
Result<Separate> separate(Engine& engine, const Model& model, const BenchConfig& c,
                          const std::vector<std::string>& tasks, double one_pass_median_ms,
                          Progress& progress, const std::string& what) {
  Separate s;
  s.one_pass_median_ms = one_pass_median_ms;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const std::string& task = tasks[i];
    PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare({task}));
    PH_RETURN_IF_ERROR(fill_inputs(model, plan));
    PH_ASSIGN_OR_RETURN(Latency l, measure(plan, c, progress,
                                           what + task + " alone (" + std::to_string(i + 1) + "/" +
                                               std::to_string(tasks.size()) + ")"));
    s.sum_median_ms += l.ms.median;
    s.tasks.push_back({task, std::move(l)});
  }
  s.saving = s.sum_median_ms > 0 ? 1.0 - one_pass_median_ms / s.sum_median_ms : 0;
  return s;
}

Result<ThreadPoint> sweep_point(const Model& model, const BenchConfig& c, size_t threads,
                                const std::vector<std::string>& tasks, Progress& progress,
                                const std::string& what) {
  EngineOptions options;
  options.threads = threads;
  options.parallel_heads = c.parallel_heads;
  options.sparse_weights = c.sparse_weights;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model, options));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare(tasks));
  PH_RETURN_IF_ERROR(fill_inputs(model, plan));
  ThreadPoint point;
  point.threads = threads;
  point.resolved_threads = engine.stats().threads;
  PH_ASSIGN_OR_RETURN(point.latency, measure(plan, c, progress, what + "one pass"));
  if (c.separate) {
    point.has_separate = true;
    PH_ASSIGN_OR_RETURN(point.separate,
                        separate(engine, model, c, tasks, point.latency.ms.median, progress, what));
  }
  return point;
}

}  // namespace

Result<BenchResult> run_bench(const BenchConfig& config, Progress& progress) {
  BenchResult r;
  r.config = config;

  progress.stage("loading " + config.model_path);
  auto start = Clock::now();
  PH_ASSIGN_OR_RETURN(const Model model, load_bench_model(config.model_path, r.model_format));
  r.load_ms = ms_since(start);
  PH_RETURN_IF_ERROR(check_bench_tasks(model, config.tasks));
  PH_ASSIGN_OR_RETURN(graph::GraphCosts costs, graph::read_graph_costs(model));

  progress.stage("preparing " +
                 (config.tasks.empty() ? std::string("every task") : join(config.tasks, ", ")) +
                 ", " +
                 (config.threads == 0 ? std::string("one thread per logical processor")
                                      : counted(config.threads, "thread")));
  const uint64_t rss_before = resident_bytes();
  start = Clock::now();
  EngineOptions options;
  options.threads = config.threads;
  options.parallel_heads = config.parallel_heads;
  options.sparse_weights = config.sparse_weights;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model, options));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare(config.tasks));
  r.prepare_ms = ms_since(start);
  const uint64_t rss_after = resident_bytes();

  const PlanInfo info = plan.info();
  r.tasks = info.tasks;
  r.plan_nodes = info.nodes;
  r.resolved_threads = engine.stats().threads;
  PH_ASSIGN_OR_RETURN(std::vector<std::string> names, plan.node_names());
  PH_ASSIGN_OR_RETURN(std::vector<size_t> plan_nodes, graph::resolve_nodes(names, costs));
  for (size_t n : plan_nodes) r.plan_macs += costs.nodes[n].macs;

  PH_RETURN_IF_ERROR(fill_inputs(model, plan));
  PH_ASSIGN_OR_RETURN(r.latency, measure(plan, config, progress, "one pass"));
  r.nodes_with_thread_choice = plan.info().nodes_with_thread_choice;
  r.nodes_on_calling_thread = plan.info().nodes_on_calling_thread;
  r.parallel_head_groups = plan.info().parallel_head_groups;
  r.heads_in_parallel = plan.info().heads_in_parallel;
  if (config.profile) {
    r.has_profile = true;
    PH_ASSIGN_OR_RETURN(r.profile, profile(plan, config, r.tasks, costs, plan_nodes, progress));
  }

  Memory& m = r.memory;
  m.model_bytes = model.file_bytes();
  m.packed_weight_bytes = engine.stats().packed_weight_bytes;
  m.sparse_kernel_nodes = engine.stats().sparse_kernel_nodes;
  m.expanded_sparse_weight_bytes = engine.stats().expanded_sparse_weight_bytes;
  m.prepare_rss_delta_bytes = static_cast<int64_t>(rss_after) - static_cast<int64_t>(rss_before);
  m.arena_bytes = info.arena_bytes;
  m.arena_lower_bound_bytes = info.arena_lower_bound_bytes;
  // Read before the separate plans and other engines add their own memory.
  m.peak_rss_bytes = peak_resident_bytes();

  if (config.separate) {
    r.has_separate = true;
    PH_ASSIGN_OR_RETURN(
        r.separate, separate(engine, model, config, r.tasks, r.latency.ms.median, progress, ""));
  }
  for (size_t i = 0; i < config.sweep_threads.size(); ++i) {
    const size_t threads = config.sweep_threads[i];
    const std::string what =
        "sweep " + std::to_string(i + 1) + "/" + std::to_string(config.sweep_threads.size()) +
        ", " + (threads == 0 ? std::string("auto threads") : counted(threads, "thread")) + ", ";
    PH_ASSIGN_OR_RETURN(ThreadPoint point,
                        sweep_point(model, config, threads, r.tasks, progress, what));
    r.sweep.push_back(std::move(point));
  }
  for (ThreadPoint& p : r.sweep)
    p.speedup =
        p.latency.ms.median > 0 ? r.sweep.front().latency.ms.median / p.latency.ms.median : 0;
  return r;
}

}  // namespace polyhead::cli
