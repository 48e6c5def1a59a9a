#include "offline/merge/divergence.h"

#include <algorithm>

#include "offline/graph/schema_copy.h"
#include "polyhead/kernels/shape_inference.h"

namespace polyhead::merge {

namespace {

bool contains(const std::vector<size_t>& users, size_t m) {
  return std::find(users.begin(), users.end(), m) != users.end();
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// How the declaration of `theirs` differs from `ours` (a tensor of model `source`); empty when it
// does not.
std::string declaration_difference(const schema::Tensor& ours, const schema::Tensor& theirs,
                                   const std::string& source) {
  if (shape_text(ours) != shape_text(theirs))
    return "has shape " + shape_text(theirs) + " where " + quote(source) + " has " +
           shape_text(ours);
  if (ours.type() != theirs.type())
    return std::string("has element type ") + schema::EnumNameElementType(theirs.type()) +
           " where " + quote(source) + " has " + schema::EnumNameElementType(ours.type());
  if (quantization_bytes(ours.quantization()) != quantization_bytes(theirs.quantization()))
    return "has different quantization parameters";
  return std::string();
}

// What differs between node `s` of model `m` and the merged node `ref`.
std::string node_difference(const MergedGraph& mg, const std::vector<SourceGraph>& graphs,
                            ConstantPool& pool, size_t m, int s, const MergedNode& ref) {
  const SourceGraph& g = graphs[m];
  const SourceGraph& r = graphs[ref.model];
  const schema::Node& a = r.node(ref.source);
  const schema::Node& b = g.node(s);
  const std::string who = quote(g.source) + " node " + quote(g.node_name(s));
  if (a.op() != b.op())
    return who + " reads the same data but is a " + kernels::op_kind_name(b.op());
  const auto* ai = a.inputs();
  const auto* bi = b.inputs();
  if (ai->size() != bi->size()) return who + " has " + std::to_string(bi->size()) + " inputs";
  for (flatbuffers::uoffset_t i = 0; i < ai->size(); ++i) {
    const int ta = ai->Get(i), tb = bi->Get(i);
    if ((ta < 0) != (tb < 0))
      return who + (tb < 0 ? " has no input " + std::to_string(i) + " where " + quote(r.source) +
                                 " has " + quote(r.tensor_name(ta))
                           : " has input " + std::to_string(i) + " " + quote(g.tensor_name(tb)) +
                                 " where " + quote(r.source) + " has none");
    if (ta < 0) continue;
    if (r.is_constant(ta) != g.is_constant(tb))
      return who + " has input " + std::to_string(i) +
             (g.is_constant(tb) ? " constant" : " not constant");
    if (!r.is_constant(ta) && ref.inputs[i] != mg.tensor_map[m][static_cast<size_t>(tb)])
      return who + " reads a different tensor as input " + std::to_string(i) + " (" +
             quote(g.tensor_name(tb)) + ")";
  }
  auto oa = options_bytes(a), ob = options_bytes(b);
  if (!oa.is_ok() || !ob.is_ok() || *oa != *ob)
    return who + " reads the same data with other options";
  for (flatbuffers::uoffset_t i = 0; i < ai->size(); ++i) {
    const int ta = ai->Get(i), tb = bi->Get(i);
    if (ta < 0 || !r.is_constant(ta)) continue;
    const std::string input = " its constant input " + std::to_string(i) + " (" +
                              quote(g.tensor_name(tb)) + ", here " + quote(r.tensor_name(ta)) + ")";
    const std::string decl = declaration_difference(r.tensor(ta), g.tensor(tb), r.source);
    if (!decl.empty()) return who + ":" + input + " " + decl;
    const int ca = pool.intern(graphs, ref.model, ta);
    const int cb = pool.intern(graphs, m, tb);
    if (ca == cb) continue;
    const uint8_t* pa = pool.data(ca);
    const uint8_t* pb = pool.data(cb);
    size_t first = 0;
    while (first < pool.bytes(ca) && pa[first] == pb[first]) ++first;
    return who + ":" + input + " holds different values (first difference at byte " +
           std::to_string(first) + " of " + std::to_string(pool.bytes(ca)) + ")";
  }
  const auto* oa_out = a.outputs();
  const auto* ob_out = b.outputs();
  for (flatbuffers::uoffset_t i = 0; i < oa_out->size() && i < ob_out->size(); ++i) {
    const std::string decl =
        declaration_difference(r.tensor(oa_out->Get(i)), g.tensor(ob_out->Get(i)), r.source);
    if (!decl.empty())
      return who + ": its output " + quote(g.tensor_name(ob_out->Get(i))) + " " + decl;
  }
  return who + " is identical but already stands for another node of " + quote(r.source) +
         (ref.shareable ? "" : ", or sharing ends at --split-at");
}

}  // namespace

int first_divergence(const MergedGraph& mg, size_t from, size_t m, bool shareable_only) {
  for (size_t c = 0; c < mg.nodes.size(); ++c) {
    const MergedNode& node = mg.nodes[c];
    if (!contains(node.users, from) || contains(node.users, m)) continue;
    if (shareable_only && !node.shareable) continue;
    bool available = true;
    for (int t : node.inputs) {
      if (t < 0) continue;
      const int p = mg.tensors[static_cast<size_t>(t)].producer;
      available = available && (p < 0 || contains(mg.nodes[static_cast<size_t>(p)].users, m));
    }
    if (available) return static_cast<int>(c);
  }
  return -1;
}

std::string explain_missing_node(const MergedGraph& mg, const std::vector<SourceGraph>& graphs,
                                 ConstantPool& pool, size_t m, int node) {
  const MergedNode& ref = mg.nodes[static_cast<size_t>(node)];
  const SourceGraph& r = graphs[ref.model];
  const SourceGraph& g = graphs[m];
  const std::string what = quote(r.source) + " node " + quote(r.node_name(ref.source)) + " (" +
                           kernels::op_kind_name(r.node(ref.source).op()) + ") has no match in " +
                           quote(g.source);
  // The merged tensors `ref` reads that are data (not constants).
  std::vector<int> data;
  for (int t : ref.inputs)
    if (t >= 0 && mg.tensors[static_cast<size_t>(t)].constant < 0) data.push_back(t);
  // Candidates: nodes of `m` reading any of that data and not already matched to a node of
  // `ref`'s model; the best has the same operator and reads exactly the same data, earliest in
  // topological order.
  int best = -1, best_score = -1;
  for (int s : g.order) {
    const schema::Node& n = g.node(s);
    const int merged = mg.node_map[m][static_cast<size_t>(s)];
    if (contains(mg.nodes[static_cast<size_t>(merged)].users, ref.model)) continue;
    bool reads = false;
    for (int t : *n.inputs())
      reads =
          reads || (t >= 0 && std::find(data.begin(), data.end(),
                                        mg.tensor_map[m][static_cast<size_t>(t)]) != data.end());
    if (!reads) continue;
    int score = n.op() == r.node(ref.source).op() ? 2 : 0;
    if (n.inputs()->size() == ref.inputs.size()) {
      bool same = true;
      for (flatbuffers::uoffset_t i = 0; i < n.inputs()->size(); ++i) {
        const int t = n.inputs()->Get(i);
        const int want = ref.inputs[i];
        if (want >= 0 && mg.tensors[static_cast<size_t>(want)].constant < 0)
          same = same && t >= 0 && mg.tensor_map[m][static_cast<size_t>(t)] == want;
      }
      score += same ? 1 : 0;
    }
    if (score > best_score) best = s, best_score = score;
  }
  if (best < 0) {
    if (data.empty()) return what + ": it reads only constants";
    const MergedTensor& t = mg.tensors[static_cast<size_t>(data[0])];
    return what + ": no node of " + quote(g.source) + " reads " +
           quote(graphs[t.model].tensor_name(t.source));
  }
  return what + ": " + node_difference(mg, graphs, pool, m, best, ref);
}

}  // namespace polyhead::merge
