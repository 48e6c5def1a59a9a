#include "offline/merge/graph_matcher.h"

#include <unordered_map>

#include "offline/graph/schema_copy.h"

namespace polyhead::merge {

namespace {

// What decides whether two nodes compute the same thing, as one string: operator, canonical
// options, each input as a merged tensor or a constant class, and each output's declaration.
Result<std::string> node_key(const std::vector<SourceGraph>& graphs, ConstantPool& pool,
                             size_t model, int n, const std::vector<int>& tensor_map) {
  const SourceGraph& g = graphs[model];
  const schema::Node& node = g.node(n);
  std::string key = std::to_string(static_cast<int>(node.op())) + "|";
  PH_ASSIGN_OR_RETURN(std::string options, options_bytes(node));
  key += std::to_string(options.size()) + ":" + options + "|";
  for (int t : *node.inputs()) {
    if (t < 0) {
      key += "-;";
    } else if (g.is_constant(t)) {
      key += "C" + std::to_string(pool.intern(graphs, model, t)) + ";";
    } else {
      const int merged = tensor_map[static_cast<size_t>(t)];
      if (merged < 0)
        return Status(ErrorCode::kInternal, "'" + g.source + "': node '" + g.node_name(n) +
                                                "' reads tensor '" + g.tensor_name(t) +
                                                "' before its producer was merged");
      key += "T" + std::to_string(merged) + ";";
    }
  }
  key += "|";
  for (int t : *node.outputs()) key += tensor_signature(g.tensor(t)) + ";";
  return key;
}

}  // namespace

Result<MergedGraph> match_graphs(const std::vector<SourceGraph>& graphs, ConstantPool& pool,
                                 const std::vector<char>& backbone) {
  MergedGraph mg;
  mg.tensor_map.resize(graphs.size());
  mg.node_map.resize(graphs.size());
  for (const schema::Input* in : *graphs[0].root->inputs()) {
    mg.inputs.push_back(static_cast<int>(mg.tensors.size()));
    mg.tensors.push_back({0, in->tensor(), -1, -1});
  }
  std::unordered_multimap<std::string, int> index;  // node key -> merged nodes
  for (size_t m = 0; m < graphs.size(); ++m) {
    const SourceGraph& g = graphs[m];
    std::vector<int>& tmap = mg.tensor_map[m];
    std::vector<int>& nmap = mg.node_map[m];
    tmap.assign(g.root->tensors()->size(), -1);
    nmap.assign(g.root->nodes()->size(), -1);
    for (size_t k = 0; k < mg.inputs.size(); ++k)
      tmap[static_cast<size_t>(
          g.root->inputs()->Get(static_cast<flatbuffers::uoffset_t>(k))->tensor())] = mg.inputs[k];
    for (int n : g.order) {
      PH_ASSIGN_OR_RETURN(std::string key, node_key(graphs, pool, m, n, tmap));
      const schema::Node& node = g.node(n);
      // The earliest eligible merged node, so the result does not depend on hash order.
      int match = -1;
      for (auto [it, end] = index.equal_range(key); it != end; ++it) {
        const MergedNode& c = mg.nodes[static_cast<size_t>(it->second)];
        if (c.shareable && c.users.back() != m && (match < 0 || it->second < match))
          match = it->second;
      }
      if (match >= 0) {
        MergedNode& c = mg.nodes[static_cast<size_t>(match)];
        c.users.push_back(m);
        nmap[static_cast<size_t>(n)] = match;
        for (flatbuffers::uoffset_t i = 0; i < node.inputs()->size(); ++i) {
          const int t = node.inputs()->Get(i);
          if (t >= 0 && tmap[static_cast<size_t>(t)] < 0)
            tmap[static_cast<size_t>(t)] = c.inputs[i];  // a constant: reuse the merged tensor
        }
        for (flatbuffers::uoffset_t i = 0; i < node.outputs()->size(); ++i)
          tmap[static_cast<size_t>(node.outputs()->Get(i))] = c.outputs[i];
        continue;
      }
      const int id = static_cast<int>(mg.nodes.size());
      MergedNode c;
      c.model = m;
      c.source = n;
      c.users = {m};
      c.shareable = backbone.empty() || (m == 0 && backbone[static_cast<size_t>(n)]);
      for (int t : *node.inputs()) {
        if (t >= 0 && tmap[static_cast<size_t>(t)] < 0) {  // a constant first read here
          tmap[static_cast<size_t>(t)] = static_cast<int>(mg.tensors.size());
          mg.tensors.push_back({m, t, pool.intern(graphs, m, t), -1});
        }
        c.inputs.push_back(t < 0 ? -1 : tmap[static_cast<size_t>(t)]);
      }
      for (int t : *node.outputs()) {
        tmap[static_cast<size_t>(t)] = static_cast<int>(mg.tensors.size());
        c.outputs.push_back(tmap[static_cast<size_t>(t)]);
        mg.tensors.push_back({m, t, -1, id});
      }
      nmap[static_cast<size_t>(n)] = id;
      mg.nodes.push_back(std::move(c));
      index.emplace(std::move(key), id);
    }
  }
  return mg;
}

}  // namespace polyhead::merge
