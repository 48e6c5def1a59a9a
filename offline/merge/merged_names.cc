#include "offline/merge/merged_names.h"

#include <algorithm>
#include <unordered_set>

namespace polyhead::merge {

namespace {

std::string prefixed(const std::string& name, const std::vector<size_t>& users, size_t models,
                     const std::vector<std::string>& prefixes) {
  if (users.size() == models) return name;
  std::string prefix;
  for (size_t m : users) prefix += (prefix.empty() ? "" : "+") + prefixes[m];
  return prefix + "/" + name;
}

}  // namespace

MergedNames name_merged_graph(const MergedGraph& mg, const std::vector<SourceGraph>& graphs,
                              const std::vector<std::string>& prefixes) {
  MergedNames names;
  const size_t models = graphs.size();
  // Which models read each constant: those of the nodes reading it.
  std::vector<std::vector<size_t>> constant_users(mg.tensors.size());
  for (const MergedNode& n : mg.nodes)
    for (int t : n.inputs) {
      if (t < 0 || mg.tensors[static_cast<size_t>(t)].constant < 0) continue;
      std::vector<size_t>& u = constant_users[static_cast<size_t>(t)];
      for (size_t m : n.users)
        if (std::find(u.begin(), u.end(), m) == u.end()) u.push_back(m);
    }
  for (std::vector<size_t>& u : constant_users) std::sort(u.begin(), u.end());

  std::unordered_set<std::string> taken;
  for (const MergedNode& n : mg.nodes) {
    const std::string base =
        prefixed(graphs[n.model].node_name(n.source), n.users, models, prefixes);
    std::string name = base;
    for (int k = 2; !taken.insert(name).second; ++k) name = base + "#" + std::to_string(k);
    if (name != base)
      names.warnings.push_back("node name '" + base +
                               "' is taken in the merged model; the node from '" +
                               graphs[n.model].source + "' is named '" + name + "'");
    names.nodes.push_back(std::move(name));
  }
  for (size_t t = 0; t < mg.tensors.size(); ++t) {
    const MergedTensor& mt = mg.tensors[t];
    const std::string name = graphs[mt.model].tensor_name(mt.source);
    if (mt.producer >= 0)
      names.tensors.push_back(
          prefixed(name, mg.nodes[static_cast<size_t>(mt.producer)].users, models, prefixes));
    else if (mt.constant >= 0)
      names.tensors.push_back(prefixed(name, constant_users[t], models, prefixes));
    else
      names.tensors.push_back(name);  // a model input: every model reads it
  }
  return names;
}

}  // namespace polyhead::merge
