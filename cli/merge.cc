// `polyhead merge`: one model from several that share a backbone, the backbone kept once
// (tools/merge, docs/merge.md). Prints what is shared: nodes, weight bytes and MACs.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/json.h"
#include "offline/graph/graph_costs.h"
#include "offline/merge/model_merger.h"

namespace polyhead::cli {

const char kMergeUsage[] =
    "usage: polyhead merge A.phm B.phm [C.phm...] -o OUT.phm [--names a,b,c] [--split-at NAME]\n"
    "                      [--json]\n"
    "\n"
    "Merges models that share a backbone (heads fine-tuned on one frozen network, shipped as\n"
    "separate models) into one model that computes the backbone once. Nodes are matched by\n"
    "structure from the shared inputs, never by name: the same operator, options and constant\n"
    "bytes, fed by matched nodes. The longest common prefix is kept once (also the part only some\n"
    "of the models share); the rest of each model becomes its tasks' heads. Every task keeps its\n"
    "outputs bit for bit. The models must take the same inputs (shape, type, pre-processing).\n"
    "Models that share nothing are still merged, side by side, with a warning.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the merged .phm file to write (required)\n"
    "  --names a,b,c       one name per model: a model with one task has it renamed to the name,\n"
    "                      a model with several has them renamed name.task; the name prefixes the\n"
    "                      model's head nodes (default: the file name). Needed when two models\n"
    "                      have a task of the same name\n"
    "  --split-at NAME     share exactly the first model's nodes up to the one writing tensor "
    "NAME,\n"
    "                      or up to node NAME (names of the first model); every model must\n"
    "                      contain them\n"
    "  --json              print the report as one JSON object\n";

namespace {

// MACs of the merged model's nodes, summed by which models contain them.
struct MacTotals {
  uint64_t shared = 0, partly_shared = 0, total = 0, separate = 0;
  std::vector<uint64_t> head, alone;  // per source model
};

Result<MacTotals> count_macs(const merge::MergeReport& r) {
  PH_ASSIGN_OR_RETURN(Model merged, Model::from_bytes(r.bytes));
  PH_ASSIGN_OR_RETURN(graph::GraphCosts costs, graph::read_graph_costs(merged));
  if (costs.nodes.size() != r.nodes.size())
    return Status(ErrorCode::kInternal, "the merged model's node count changed");
  MacTotals t;
  t.head.assign(r.models.size(), 0);
  t.alone.assign(r.models.size(), 0);
  for (size_t n = 0; n < r.nodes.size(); ++n) {
    const uint64_t macs = costs.nodes[n].macs;
    const std::vector<size_t>& users = r.nodes[n].models;
    t.total += macs;
    for (size_t m : users) t.alone[m] += macs;
    if (users.size() == r.models.size())
      t.shared += macs;
    else if (users.size() >= 2)
      t.partly_shared += macs;
    else
      t.head[users[0]] += macs;
  }
  for (uint64_t a : t.alone) t.separate += a;
  return t;
}

std::string percent(uint64_t part, uint64_t whole) {
  return whole
             ? format_float(100.0 * static_cast<double>(part) / static_cast<double>(whole), 3) + "%"
             : "-";
}

void print_text(const std::string& out, const merge::MergeReport& r, const MacTotals& macs) {
  size_t source_nodes = 0, tasks = 0;
  uint64_t source_bytes = 0;
  for (const auto& m : r.models) {
    source_nodes += m.nodes;
    tasks += m.tasks.size();
    source_bytes += m.file_bytes;
  }
  std::printf("merged %zu models into %s: %zu tasks, %zu nodes (%zu in the separate models)\n\n",
              r.models.size(), out.c_str(), tasks, r.nodes.size(), source_nodes);
  std::printf("  %-26s %6s %12s %12s\n", "", "nodes", "weights", "MACs");
  std::printf("  %-26s %6zu %12s %12s\n",
              ("shared by all " + std::to_string(r.models.size())).c_str(), r.shared_nodes,
              format_bytes(r.shared_param_bytes).c_str(), format_count(macs.shared).c_str());
  if (r.partly_shared_nodes > 0)
    std::printf("  %-26s %6zu %12s %12s\n", "shared by some", r.partly_shared_nodes,
                format_bytes(r.partly_shared_param_bytes).c_str(),
                format_count(macs.partly_shared).c_str());
  for (size_t m = 0; m < r.models.size(); ++m)
    std::printf("  %-26s %6zu %12s %12s\n", ("head of " + r.models[m].name).c_str(),
                r.models[m].head_nodes, format_bytes(r.models[m].head_param_bytes).c_str(),
                format_count(macs.head[m]).c_str());
  std::printf("\n  %-14s %-24s %6s %12s %12s  %s\n", "model", "file", "nodes", "weights", "MACs",
              "tasks");
  for (size_t m = 0; m < r.models.size(); ++m) {
    const auto& info = r.models[m];
    std::printf("  %-14s %-24s %6zu %12s %12s  %s\n", info.name.c_str(), info.source.c_str(),
                info.nodes, format_bytes(info.param_bytes).c_str(),
                format_count(macs.alone[m]).c_str(), join(info.tasks, ",").c_str());
  }
  const uint64_t merged_bytes = r.bytes.size();
  std::printf("\nfile   %s merged, %s for the %zu models (%s)\n",
              format_bytes(merged_bytes).c_str(), format_bytes(source_bytes).c_str(),
              r.models.size(), percent(merged_bytes, source_bytes).c_str());
  if (macs.total > 0)
    std::printf("MACs   %s for every task in one pass, %s as separate models (%.2fx)\n",
                format_count(macs.total).c_str(), format_count(macs.separate).c_str(),
                static_cast<double>(macs.separate) / static_cast<double>(macs.total));
  bool header = false;
  for (size_t m = 1; m < r.models.size(); ++m) {
    if (r.models[m].divergence.empty()) continue;
    if (!header) std::printf("\nwhere sharing with %s ends\n", r.models[0].name.c_str());
    header = true;
    std::printf("  %s: %s\n", r.models[m].name.c_str(), r.models[m].divergence.c_str());
  }
}

std::string to_json(const std::string& out, const std::string& split_at,
                    const merge::MergeReport& r, const MacTotals& macs) {
  uint64_t source_bytes = 0;
  for (const auto& m : r.models) source_bytes += m.file_bytes;
  std::vector<std::string> shared, partly;
  for (const auto& n : r.nodes)
    if (n.models.size() == r.models.size())
      shared.push_back(n.name);
    else if (n.models.size() >= 2)
      partly.push_back(n.name);
  JsonWriter j;
  j.begin_object();
  j.field("output", out).field("file_bytes", static_cast<uint64_t>(r.bytes.size()));
  j.field("source_file_bytes", source_bytes);
  j.field("split_at", split_at);
  j.field("nodes", static_cast<uint64_t>(r.nodes.size()));
  j.key("shared").begin_object();
  j.field("nodes", static_cast<uint64_t>(r.shared_nodes))
      .field("param_bytes", r.shared_param_bytes)
      .field("macs", macs.shared)
      .field("node_names", shared);
  j.end_object();
  j.key("partly_shared").begin_object();
  j.field("nodes", static_cast<uint64_t>(r.partly_shared_nodes))
      .field("param_bytes", r.partly_shared_param_bytes)
      .field("macs", macs.partly_shared)
      .field("node_names", partly);
  j.end_object();
  j.key("models").begin_array();
  for (size_t m = 0; m < r.models.size(); ++m) {
    const auto& info = r.models[m];
    j.begin_object()
        .field("name", info.name)
        .field("file", info.source)
        .field("file_bytes", info.file_bytes)
        .field("tasks", info.tasks)
        .field("nodes", static_cast<uint64_t>(info.nodes))
        .field("head_nodes", static_cast<uint64_t>(info.head_nodes))
        .field("param_bytes", info.param_bytes)
        .field("head_param_bytes", info.head_param_bytes)
        .field("macs", macs.alone[m])
        .field("head_macs", macs.head[m])
        .field("divergence", info.divergence)
        .end_object();
  }
  j.end_array();
  j.field("param_bytes", r.param_bytes);
  j.field("total_macs", macs.total).field("separate_macs", macs.separate);
  j.field("warnings", r.warnings);
  j.end_object();
  return j.str();
}

}  // namespace

int merge_main(const std::vector<std::string>& raw) {
  const char* cmd = "merge";
  const std::vector<std::string> args = expand_output_flag(raw);
  auto parsed = parse_args(args, {{"--output", true, false},
                                  {"--names", true, false},
                                  {"--split-at", true, false},
                                  {"--json", false, false}});
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kMergeUsage, stdout);
    return kExitOk;
  }
  const std::vector<std::string>& inputs = parsed->positional;
  if (inputs.size() < 2)
    return report_usage_error(cmd,
                              "needs two models or more, got " + std::to_string(inputs.size()));
  if (!parsed->has("--output")) return report_usage_error(cmd, "missing -o OUT.phm");
  const std::string out = parsed->get("--output");
  for (const std::string& in : inputs)
    if (same_file(in, out))
      return report_usage_error(cmd, "-o '" + out + "' would overwrite the input '" + in + "'");
  merge::MergeOptions options;
  options.sources = inputs;
  options.split_at = parsed->get("--split-at");
  if (parsed->has("--split-at") && options.split_at.empty())
    return report_usage_error(cmd, "--split-at needs a tensor or node name");
  if (parsed->has("--names")) {
    auto names = parse_list("--names", parsed->get("--names"));
    if (!names.is_ok()) return report_usage_error(cmd, names.status().message());
    if (names->size() != inputs.size())
      return report_usage_error(cmd, "--names gives " + std::to_string(names->size()) +
                                         " names for " + std::to_string(inputs.size()) + " models");
    options.names = *names;
  }

  std::vector<Model> models;
  for (const std::string& in : inputs) {
    auto model = Model::load_file(in);
    if (!model.is_ok())
      return report_error(cmd, "cannot load model '" + in + "': " + model.status().to_string(),
                          kExitRuntime);
    models.push_back(std::move(*model));
  }
  auto report = merge::merge_models(models, options);
  if (!report.is_ok()) return report_error(cmd, report.status().message(), kExitRuntime);
  auto macs = count_macs(*report);
  if (!macs.is_ok()) return report_error(cmd, macs.status().to_string(), kExitRuntime);
  models.clear();  // the sources' mappings are no longer needed

  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(report->bytes.data()),
          static_cast<std::streamsize>(report->bytes.size()));
  f.close();
  if (!f) return report_error(cmd, "cannot write '" + out + "'", kExitRuntime);
  for (const std::string& w : report->warnings)
    std::fprintf(stderr, "polyhead merge: warning: %s\n", w.c_str());
  if (parsed->has("--json"))
    std::printf("%s\n", to_json(out, options.split_at, *report, *macs).c_str());
  else
    print_text(out, *report, *macs);
  return kExitOk;
}

}  // namespace polyhead::cli
