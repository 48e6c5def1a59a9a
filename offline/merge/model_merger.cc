#include "offline/merge/model_merger.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "offline/graph/source_graph.h"
#include "offline/merge/constant_pool.h"
#include "offline/merge/divergence.h"
#include "offline/merge/graph_matcher.h"
#include "offline/merge/input_check.h"
#include "offline/merge/merged_names.h"
#include "offline/merge/merged_writer.h"
#include "offline/merge/split_point.h"

namespace polyhead::merge {

namespace {

Status invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

Status check_names(const std::vector<std::string>& names, size_t models) {
  if (names.empty()) return Status::ok();
  if (names.size() != models)
    return invalid("--names gives " + std::to_string(names.size()) + " names for " +
                   std::to_string(models) + " models");
  std::set<std::string> seen;
  for (const std::string& n : names) {
    if (n.empty()) return invalid("--names: a name is empty");
    if (n.find_first_of(",/+") != std::string::npos)
      return invalid("--names: " + quote(n) + " must not contain ',', '/' or '+'");
    if (!seen.insert(n).second) return invalid("--names: " + quote(n) + " is given twice");
  }
  return Status::ok();
}

// The prefix of each model's head names: its --names entry, else its file stem, made unique.
std::vector<std::string> head_prefixes(const MergeOptions& options, size_t models) {
  std::vector<std::string> prefixes;
  std::set<std::string> taken;
  for (size_t m = 0; m < models; ++m) {
    std::string p = !options.names.empty() ? options.names[m]
                    : !options.sources.empty()
                        ? std::filesystem::path(options.sources[m]).stem().string()
                        : "model" + std::to_string(m + 1);
    if (p.empty()) p = "model" + std::to_string(m + 1);
    const std::string base = p;
    for (int k = 2; taken.count(p); ++k) p = base + "_" + std::to_string(k);
    taken.insert(p);
    prefixes.push_back(p);
  }
  return prefixes;
}

Result<std::vector<MergedTask>> merged_tasks(const std::vector<SourceGraph>& graphs,
                                             const std::vector<std::string>& names) {
  std::vector<MergedTask> tasks;
  std::map<std::string, size_t> owner;
  for (size_t m = 0; m < graphs.size(); ++m) {
    const auto* list = graphs[m].root->tasks();
    for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
      const std::string own = list->Get(i)->name()->str();
      const std::string name = names.empty()       ? own
                               : list->size() == 1 ? names[m]
                                                   : names[m] + "." + own;
      if (auto it = owner.find(name); it != owner.end())
        return invalid("task " + quote(name) + " is in both " + quote(graphs[it->second].source) +
                       " and " + quote(graphs[m].source) +
                       (names.empty() ? ": give --names to rename the tasks"
                                      : " after renaming by --names: choose other names"));
      owner.emplace(name, m);
      tasks.push_back({m, static_cast<int>(i), name});
    }
  }
  return tasks;
}

MergedHeader merged_header(const std::vector<SourceGraph>& graphs,
                           const std::vector<std::string>& prefixes,
                           std::vector<std::string>* warnings) {
  MergedHeader h;
  h.producer = "polyhead merge";
  std::vector<std::string> descriptions;
  std::string sources;
  for (size_t m = 0; m < graphs.size(); ++m) {
    const schema::Model& root = *graphs[m].root;
    const std::string d = root.description() ? root.description()->str() : "";
    if (!d.empty() && std::find(descriptions.begin(), descriptions.end(), d) == descriptions.end())
      descriptions.push_back(d);
    sources += (m ? "; " : "") + prefixes[m] + ": " + graphs[m].source;
    if (root.producer() && root.producer()->size() > 0)
      sources += " (producer '" + root.producer()->str() + "')";
  }
  for (const std::string& d : descriptions)
    h.description += (h.description.empty() ? "" : "; ") + d;
  // Ours first: a merged model merged again keeps its own history under "<name>/merged_from".
  constexpr size_t kMerge = static_cast<size_t>(-1);
  std::map<std::string, size_t> first_owner = {{"merged_from", kMerge}};
  h.metadata.emplace_back("merged_from", sources);
  for (size_t m = 0; m < graphs.size(); ++m) {
    if (!graphs[m].root->metadata()) continue;
    for (const schema::Metadata* e : *graphs[m].root->metadata()) {
      const std::string key = e->key()->str();
      const std::string value = e->value() ? e->value()->str() : "";
      auto [it, fresh] = first_owner.emplace(key, m);
      if (fresh || it->second == m) {  // new, or repeated within one model: kept as it is
        h.metadata.emplace_back(key, value);
        continue;
      }
      const bool same = std::any_of(h.metadata.begin(), h.metadata.end(), [&](const auto& kv) {
        return kv.first == key && kv.second == value;
      });
      if (same) continue;
      const std::string renamed = prefixes[m] + "/" + key;
      h.metadata.emplace_back(renamed, value);
      warnings->push_back("metadata " + quote(key) + " of " + quote(graphs[m].source) +
                          " differs from the one kept; its value is kept as " + quote(renamed));
    }
  }
  return h;
}

bool contains(const std::vector<size_t>& users, size_t m) {
  return std::find(users.begin(), users.end(), m) != users.end();
}

void fill_report(const MergedGraph& mg, const MergedNames& names,
                 const std::vector<SourceGraph>& graphs, const std::vector<Model>& models,
                 const ConstantPool& pool, MergeReport& r) {
  const size_t count = graphs.size();
  for (size_t n = 0; n < mg.nodes.size(); ++n) {
    const std::vector<size_t>& users = mg.nodes[n].users;
    r.nodes.push_back({names.nodes[n], users});
    if (users.size() == count)
      ++r.shared_nodes;
    else if (users.size() >= 2)
      ++r.partly_shared_nodes;
    else
      ++r.models[users[0]].head_nodes;
  }
  // Constant bytes by content: which models read each distinct constant.
  std::vector<std::vector<size_t>> readers(pool.size());
  for (const MergedNode& n : mg.nodes)
    for (int t : n.inputs) {
      if (t < 0 || mg.tensors[static_cast<size_t>(t)].constant < 0) continue;
      std::vector<size_t>& u =
          readers[static_cast<size_t>(mg.tensors[static_cast<size_t>(t)].constant)];
      for (size_t m : n.users)
        if (!contains(u, m)) u.push_back(m);
    }
  for (size_t c = 0; c < readers.size(); ++c) {
    const uint64_t bytes = pool.bytes(static_cast<int>(c));
    const std::vector<size_t>& u = readers[c];
    if (u.empty()) continue;
    r.param_bytes += bytes;
    for (size_t m : u) r.models[m].param_bytes += bytes;
    if (u.size() == count)
      r.shared_param_bytes += bytes;
    else if (u.size() >= 2)
      r.partly_shared_param_bytes += bytes;
    else
      r.models[u[0]].head_param_bytes += bytes;
  }
  for (size_t m = 0; m < count; ++m) {
    r.models[m].nodes = graphs[m].root->nodes()->size();
    r.models[m].file_bytes = models[m].file_bytes();
  }
}

// Constants of model `m` that no node reads are not carried over; say so.
void warn_unread_constants(const MergedGraph& mg, const SourceGraph& g, size_t m,
                           std::vector<std::string>* warnings) {
  std::vector<std::string> unread;
  for (size_t t = 0; t < mg.tensor_map[m].size(); ++t)
    if (g.is_constant(static_cast<int>(t)) && mg.tensor_map[m][t] < 0)
      unread.push_back(g.tensor_name(static_cast<int>(t)));
  if (unread.empty()) return;
  warnings->push_back(
      quote(g.source) + " has " + std::to_string(unread.size()) +
      " constant(s) no node reads, left out of the merged model (first: " + quote(unread[0]) + ")");
}

}  // namespace

Result<MergeReport> merge_models(const std::vector<Model>& models, const MergeOptions& options) {
  const size_t count = models.size();
  if (count < 2) return invalid("merging needs two models or more, got " + std::to_string(count));
  if (!options.sources.empty() && options.sources.size() != count)
    return invalid("MergeOptions::sources names " + std::to_string(options.sources.size()) +
                   " models but " + std::to_string(count) + " are given");
  PH_RETURN_IF_ERROR(check_names(options.names, count));
  MergeReport report;
  std::vector<SourceGraph> graphs;
  for (size_t m = 0; m < count; ++m) {
    const std::string source =
        options.sources.empty() ? "model " + std::to_string(m + 1) : options.sources[m];
    PH_ASSIGN_OR_RETURN(SourceGraph g, read_source_graph(models[m], source));
    graphs.push_back(std::move(g));
  }
  PH_RETURN_IF_ERROR(check_same_inputs(graphs, &report.warnings));
  PH_ASSIGN_OR_RETURN(std::vector<MergedTask> tasks, merged_tasks(graphs, options.names));
  const std::vector<std::string> prefixes = head_prefixes(options, count);

  std::vector<char> backbone;
  if (!options.split_at.empty()) {
    PH_ASSIGN_OR_RETURN(backbone, backbone_up_to(graphs[0], options.split_at));
  }
  ConstantPool pool;
  PH_ASSIGN_OR_RETURN(MergedGraph mg, match_graphs(graphs, pool, backbone));
  if (!options.split_at.empty())
    for (size_t m = 1; m < count; ++m) {
      const int missing = first_divergence(mg, 0, m, /*shareable_only=*/true);
      if (missing >= 0)
        return invalid("--split-at " + quote(options.split_at) + ": " + quote(graphs[m].source) +
                       " does not contain the backbone of " + quote(graphs[0].source) +
                       " up to that tensor: " + explain_missing_node(mg, graphs, pool, m, missing));
    }

  MergedNames names = name_merged_graph(mg, graphs, prefixes);
  const MergedHeader header = merged_header(graphs, prefixes, &report.warnings);
  PH_ASSIGN_OR_RETURN(report.bytes, write_merged_model(mg, names, graphs, pool, tasks, header));
  auto loaded = Model::from_bytes(report.bytes);
  if (!loaded.is_ok())  // a bug here, never the user's: the sources were valid
    return Status(ErrorCode::kInternal,
                  "the merged model does not load: " + loaded.status().to_string());

  for (size_t m = 0; m < count; ++m) {
    MergedModelInfo info;
    info.name = prefixes[m];
    info.source = graphs[m].source;
    for (const MergedTask& t : tasks)
      if (t.model == m) info.tasks.push_back(t.name);
    if (m > 0 && options.split_at.empty()) {
      int c = first_divergence(mg, 0, m, false);
      if (c >= 0) {
        info.divergence = explain_missing_node(mg, graphs, pool, m, c);
      } else if ((c = first_divergence(mg, m, 0, false)) >= 0) {
        info.divergence = explain_missing_node(mg, graphs, pool, 0, c);
      }
    }
    report.models.push_back(std::move(info));
  }
  fill_report(mg, names, graphs, models, pool, report);

  for (size_t m = 0; m < count; ++m) warn_unread_constants(mg, graphs[m], m, &report.warnings);
  report.warnings.insert(report.warnings.end(), names.warnings.begin(), names.warnings.end());
  if (report.shared_nodes + report.partly_shared_nodes == 0) {
    report.warnings.push_back(
        "the models share no node: their tasks run side by side on the same input and nothing "
        "is computed once" +
        (report.models[1].divergence.empty() ? std::string()
                                             : " (" + report.models[1].divergence + ")"));
  } else if (count > 2) {
    for (size_t m = 0; m < count; ++m)
      if (report.models[m].head_nodes == report.models[m].nodes)
        report.warnings.push_back(quote(graphs[m].source) +
                                  " shares no node with the other models");
  }
  return report;
}

}  // namespace polyhead::merge
