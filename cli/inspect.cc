// `polyhead inspect`: what a model holds and what a task set costs: inputs, tasks, which nodes
// each task owns and which are shared, parameters, MACs and the planned activation memory.
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/json.h"
#include "offline/graph/file_sections.h"
#include "offline/graph/graph_costs.h"
#include "polyhead/engine.h"

namespace polyhead::cli {

const char kInspectUsage[] =
    "usage: polyhead inspect MODEL [--tasks a,b] [--json]\n"
    "\n"
    "Shows the model's inputs and tasks and, for the chosen task set (default: all tasks):\n"
    "the nodes each task needs alone (its head), the nodes shared by two or more tasks (the\n"
    "backbone), parameter bytes and multiply-accumulates of each part, and the activation\n"
    "arena a plan for the task set uses against its lower bound; last, where the file's bytes\n"
    "go (constants by kind, alignment padding, names, quantization tables, anchors, ...).\n"
    "\n"
    "options:\n"
    "  --tasks a,b   the task set to analyse (comma separated)\n"
    "  --json        print one JSON object instead of tables\n";

namespace {

// What one task costs on its own and what it adds on top of the shared nodes.
struct TaskCost {
  const TaskInfo* info = nullptr;
  std::vector<size_t> nodes;  // every node it needs, indices into graph::GraphCosts::nodes
  std::vector<std::string> exclusive_nodes;
  uint64_t exclusive_macs = 0;
  uint64_t standalone_macs = 0;
  uint64_t exclusive_param_bytes = 0;
  uint64_t standalone_param_bytes = 0;
};

struct Report {
  std::string path;
  const Model* model = nullptr;
  std::vector<TaskCost> tasks;
  std::vector<std::string> shared_nodes;
  uint64_t shared_macs = 0, total_macs = 0;
  uint64_t shared_param_bytes = 0, param_bytes = 0;
  size_t plan_nodes = 0;
  PlanInfo plan;
  graph::FileSections sections;
};

Result<Report> analyse(const std::string& path, const Model& model,
                       const std::vector<std::string>& tasks) {
  Report r;
  r.path = path;
  r.model = &model;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare(tasks));
  r.plan = plan.info();
  PH_ASSIGN_OR_RETURN(graph::GraphCosts costs, graph::read_graph_costs(model));
  PH_ASSIGN_OR_RETURN(r.sections, graph::measure_file_sections(model.bytes(), model.file_bytes()));

  // How many of the chosen tasks need each node, and each constant.
  std::vector<int> node_users(costs.nodes.size(), 0), node_owner(costs.nodes.size(), -1);
  std::vector<int> const_users(costs.constant_bytes.size(), 0),
      const_owner(costs.constant_bytes.size(), -1);
  for (const std::string& name : r.plan.tasks) {
    TaskCost tc;
    for (const TaskInfo& t : model.tasks())
      if (t.name == name) tc.info = &t;
    if (!tc.info)
      return Status(ErrorCode::kInternal, "plan task '" + name + "' is not in the model");
    PH_ASSIGN_OR_RETURN(std::vector<std::string> names, plan.node_names({name}));
    PH_ASSIGN_OR_RETURN(tc.nodes, graph::resolve_nodes(names, costs));
    const int id = static_cast<int>(r.tasks.size());
    std::vector<char> counted(costs.constant_bytes.size(), 0);
    for (size_t n : tc.nodes) {
      ++node_users[n];
      node_owner[n] = id;
      tc.standalone_macs += costs.nodes[n].macs;
      for (int c : costs.nodes[n].constants) {
        if (counted[static_cast<size_t>(c)]) continue;
        counted[static_cast<size_t>(c)] = 1;
        ++const_users[static_cast<size_t>(c)];
        const_owner[static_cast<size_t>(c)] = id;
        tc.standalone_param_bytes += costs.constant_bytes[static_cast<size_t>(c)];
      }
    }
    r.tasks.push_back(std::move(tc));
  }
  // A node (or constant) needed by one task only is that task's head; two or more: shared.
  for (size_t n = 0; n < costs.nodes.size(); ++n) {
    if (node_users[n] == 0) continue;
    ++r.plan_nodes;
    r.total_macs += costs.nodes[n].macs;
    if (node_users[n] >= 2) {
      r.shared_nodes.push_back(costs.nodes[n].name);
      r.shared_macs += costs.nodes[n].macs;
    } else {
      TaskCost& tc = r.tasks[static_cast<size_t>(node_owner[n])];
      tc.exclusive_nodes.push_back(costs.nodes[n].name);
      tc.exclusive_macs += costs.nodes[n].macs;
    }
  }
  for (size_t c = 0; c < const_users.size(); ++c) {
    if (const_users[c] == 0) continue;
    r.param_bytes += costs.constant_bytes[c];
    if (const_users[c] >= 2)
      r.shared_param_bytes += costs.constant_bytes[c];
    else
      r.tasks[static_cast<size_t>(const_owner[c])].exclusive_param_bytes += costs.constant_bytes[c];
  }
  return r;
}

void write_preprocess(JsonWriter& j, const Preprocess& p) {
  j.begin_object()
      .field("width", p.width)
      .field("height", p.height)
      .field("layout", to_string(p.layout))
      .field("color", to_string(p.color))
      .field("mean", p.mean)
      .field("std", p.std)
      .field("pixel_scale", static_cast<double>(p.pixel_scale))
      .end_object();
}

std::string to_json(const Report& r) {
  const Model& m = *r.model;
  JsonWriter j;
  j.begin_object();
  j.field("model", r.path).field("file_bytes", static_cast<uint64_t>(m.file_bytes()));
  j.field("format_version", std::to_string(m.format_version_major()) + "." +
                                std::to_string(m.format_version_minor()));
  j.field("producer", m.producer()).field("description", m.description());
  j.key("inputs").begin_array();
  for (const InputInfo& in : m.inputs()) {
    j.begin_object()
        .field("name", in.name)
        .field("shape", in.shape)
        .field("type", element_type_name(in.type));
    j.key("preprocess");
    write_preprocess(j, in.preprocess);
    j.end_object();
  }
  j.end_array();
  j.key("tasks").begin_array();
  for (const TaskCost& t : r.tasks) {
    j.begin_object().field("name", t.info->name).field("kind", to_string(t.info->kind));
    j.field("priority", t.info->priority).field("rate", t.info->rate);
    j.key("outputs").begin_array();
    for (const TaskOutputInfo& o : t.info->outputs)
      j.begin_object()
          .field("name", o.name)
          .field("tensor", o.tensor)
          .field("shape", o.shape)
          .field("type", element_type_name(o.type))
          .end_object();
    j.end_array();
    j.field("nodes", static_cast<uint64_t>(t.nodes.size()));
    j.field("exclusive_nodes", t.exclusive_nodes);
    j.field("macs", t.exclusive_macs).field("standalone_macs", t.standalone_macs);
    j.field("param_bytes", t.exclusive_param_bytes)
        .field("standalone_param_bytes", t.standalone_param_bytes);
    j.end_object();
  }
  j.end_array();
  uint64_t separate = 0;
  for (const TaskCost& t : r.tasks) separate += t.standalone_macs;
  j.field("shared_nodes", r.shared_nodes);
  j.field("shared_macs", r.shared_macs).field("shared_param_bytes", r.shared_param_bytes);
  j.field("total_macs", r.total_macs).field("separate_macs", separate);
  j.field("param_bytes", r.param_bytes);
  j.field("plan_nodes", static_cast<uint64_t>(r.plan.nodes));
  j.field("arena_bytes", static_cast<uint64_t>(r.plan.arena_bytes));
  j.field("arena_lower_bound_bytes", static_cast<uint64_t>(r.plan.arena_lower_bound_bytes));
  j.field("arena_strategy", r.plan.arena_strategy);
  j.key("file_sections").begin_array();
  for (const graph::FileSection& s : r.sections.sections)
    j.begin_object()
        .field("section", s.key)
        .field("bytes", s.bytes)
        .field("count", s.count)
        .end_object();
  j.end_array();
  j.end_object();
  return j.str();
}

std::string preprocess_text(const Preprocess& p) {
  std::string s = std::string(to_string(p.layout)) + " " + to_string(p.color);
  if (p.width > 0 || p.height > 0)
    s += " " + std::to_string(p.width) + "x" + std::to_string(p.height);
  auto list = [](const std::vector<float>& v) {
    std::vector<std::string> items;
    items.reserve(v.size());
    for (float x : v) items.push_back(format_float(x));
    return "[" + join(items, ",") + "]";
  };
  if (!p.mean.empty()) s += " mean " + list(p.mean);
  if (!p.std.empty()) s += " std " + list(p.std);
  s += " pixel_scale " + format_float(p.pixel_scale);
  return s;
}

// Bytes per section, exact (they sum to the file size), and their share of the file.
void print_sections(const graph::FileSections& f) {
  std::printf("\nfile sections (%llu bytes)\n", static_cast<unsigned long long>(f.file_bytes));
  for (const graph::FileSection& s : f.sections) {
    if (s.bytes == 0) continue;
    const double share =
        f.file_bytes ? 100.0 * static_cast<double>(s.bytes) / static_cast<double>(f.file_bytes)
                     : 0.0;
    std::printf("  %-46s %10llu B %5.1f%%", s.label.c_str(),
                static_cast<unsigned long long>(s.bytes), share);
    if (s.count > 0) std::printf("  (%llu)", static_cast<unsigned long long>(s.count));
    std::printf("\n");
  }
}

void print_table(const Report& r) {
  const Model& m = *r.model;
  std::printf("model     %s (%s, format %u.%u, producer '%s')\n", r.path.c_str(),
              format_bytes(m.file_bytes()).c_str(), m.format_version_major(),
              m.format_version_minor(), m.producer().c_str());
  if (!m.description().empty()) std::printf("          %s\n", m.description().c_str());
  std::printf("\ninputs\n");
  for (const InputInfo& in : m.inputs())
    std::printf("  %-14s %-18s %-4s %s\n", in.name.c_str(), in.shape.to_string().c_str(),
                element_type_name(in.type), preprocess_text(in.preprocess).c_str());
  std::printf("\n%-16s %-15s %6s %11s %11s %12s %12s\n", "tasks", "kind", "nodes", "head MACs",
              "head params", "alone MACs", "alone params");
  uint64_t separate = 0;
  for (const TaskCost& t : r.tasks) {
    separate += t.standalone_macs;
    std::printf(
        "  %-14s %-15s %6zu %11s %11s %12s %12s\n", t.info->name.c_str(), to_string(t.info->kind),
        t.exclusive_nodes.size(), format_count(t.exclusive_macs).c_str(),
        format_bytes(t.exclusive_param_bytes).c_str(), format_count(t.standalone_macs).c_str(),
        format_bytes(t.standalone_param_bytes).c_str());
    for (const TaskOutputInfo& o : t.info->outputs)
      std::printf("    -> %-10s %-18s %s\n", o.name.c_str(), o.shape.to_string().c_str(),
                  element_type_name(o.type));
  }
  std::printf("  %-14s %-15s %6zu %11s %11s\n", "(shared)", "", r.shared_nodes.size(),
              format_count(r.shared_macs).c_str(), format_bytes(r.shared_param_bytes).c_str());
  std::printf("  %-14s %-15s %6zu %11s %11s\n", "(one pass)", "", r.plan_nodes,
              format_count(r.total_macs).c_str(), format_bytes(r.param_bytes).c_str());
  if (r.tasks.size() > 1 && r.total_macs > 0)
    std::printf("  each task as its own pass: %s MACs (%.2fx one pass)\n",
                format_count(separate).c_str(),
                static_cast<double>(separate) / static_cast<double>(r.total_macs));
  const double ratio = r.plan.arena_lower_bound_bytes
                           ? static_cast<double>(r.plan.arena_bytes) /
                                 static_cast<double>(r.plan.arena_lower_bound_bytes)
                           : 1.0;
  std::printf("\narena     %s (lower bound %s, %.3fx, strategy %s) for tasks %s\n",
              format_bytes(r.plan.arena_bytes).c_str(),
              format_bytes(r.plan.arena_lower_bound_bytes).c_str(), ratio,
              r.plan.arena_strategy.c_str(), join(r.plan.tasks, ",").c_str());
  std::printf("\nshared nodes (%zu)\n%s\n", r.shared_nodes.size(),
              r.shared_nodes.empty() ? "  (none)" : wrap_list(r.shared_nodes, 2).c_str());
  for (const TaskCost& t : r.tasks)
    std::printf("\n%s head nodes (%zu)\n%s\n", t.info->name.c_str(), t.exclusive_nodes.size(),
                t.exclusive_nodes.empty() ? "  (none)" : wrap_list(t.exclusive_nodes, 2).c_str());
  print_sections(r.sections);
}

}  // namespace

int inspect_main(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"--tasks", true}, {"--json", false}});
  if (!parsed.is_ok()) return report_usage_error("inspect", parsed.status().message());
  if (parsed->help) {
    std::fputs(kInspectUsage, stdout);
    return kExitOk;
  }
  if (parsed->positional.size() != 1)
    return report_usage_error("inspect", parsed->positional.empty()
                                             ? "missing MODEL argument"
                                             : "expected one MODEL, found extra argument '" +
                                                   parsed->positional[1] + "'");
  std::vector<std::string> tasks;
  if (parsed->has("--tasks")) {
    auto list = parse_list("--tasks", parsed->get("--tasks"));
    if (!list.is_ok()) return report_usage_error("inspect", list.status().message());
    tasks = *list;
  }
  const std::string& path = parsed->positional[0];
  auto model = Model::load_file(path);
  if (!model.is_ok())
    return report_error(
        "inspect", "cannot load model '" + path + "': " + model.status().to_string(), kExitRuntime);
  auto report = analyse(path, *model, tasks);
  if (!report.is_ok())
    return report_error("inspect", path + ": " + report.status().to_string(), kExitRuntime);
  if (parsed->has("--json"))
    std::printf("%s\n", to_json(*report).c_str());
  else
    print_table(*report);
  return kExitOk;
}

}  // namespace polyhead::cli
