#include "offline/quantize/short_names.h"

#include <unordered_set>

#include "offline/graph/source_graph.h"

namespace polyhead::quantize {

namespace {

std::string base36(size_t v) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  do {
    s.insert(s.begin(), kDigits[v % 36]);
    v /= 36;
  } while (v > 0);
  return s;
}

// `letter` + index in base 36, with '_' appended while it equals a kept name.
std::string short_name(char letter, size_t index, const std::unordered_set<std::string>& kept) {
  std::string s = letter + base36(index);
  while (kept.count(s)) s += '_';
  return s;
}

}  // namespace

Result<NameMode> parse_name_mode(const std::string& option, const std::string& text) {
  if (text == "keep") return NameMode::kKeep;
  if (text == "short") return NameMode::kShort;
  return Status(ErrorCode::kInvalidArgument, option + " must be keep or short, got '" + text + "'");
}

ShortNameCounts shorten_names(EditModel& m) {
  std::vector<bool> keep_tensor(m.tensors.size(), false);
  for (const auto& in : m.inputs) keep_tensor[static_cast<size_t>(in.first)] = true;
  for (const EditTask& t : m.tasks)
    for (const auto& o : t.outputs) keep_tensor[static_cast<size_t>(o.second)] = true;
  std::vector<bool> keep_node(m.nodes.size(), false);
  for (size_t n = 0; n < m.nodes.size(); ++n)
    for (int t : m.nodes[n].outputs)
      if (t >= 0 && keep_tensor[static_cast<size_t>(t)]) keep_node[n] = true;

  std::unordered_set<std::string> kept_tensors, kept_nodes;
  for (size_t t = 0; t < m.tensors.size(); ++t)
    if (keep_tensor[t]) kept_tensors.insert(m.tensors[t].name);
  for (size_t n = 0; n < m.nodes.size(); ++n)
    if (keep_node[n]) kept_nodes.insert(m.nodes[n].name);

  ShortNameCounts counts;
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    if (keep_tensor[t]) continue;
    m.tensors[t].name = short_name('t', t, kept_tensors);
    ++counts.tensors;
  }
  // A node takes the short name of its first output, so the file stores the string once for both
  // (the writer shares equal strings); '_' is appended while it equals a name already taken.
  std::unordered_set<std::string> taken = kept_nodes;
  for (size_t n = 0; n < m.nodes.size(); ++n) {
    if (keep_node[n]) continue;
    const std::vector<int>& outs = m.nodes[n].outputs;
    std::string name = !outs.empty() && outs[0] >= 0 ? m.tensors[static_cast<size_t>(outs[0])].name
                                                     : short_name('n', n, kept_nodes);
    while (taken.count(name)) name += '_';
    taken.insert(name);
    m.nodes[n].name = std::move(name);
    ++counts.nodes;
  }
  return counts;
}

Result<std::vector<uint8_t>> shorten_names_in_file(const std::vector<uint8_t>& phm,
                                                   bool keep_defaults) {
  PH_ASSIGN_OR_RETURN(const Model model, Model::from_bytes(phm));
  PH_ASSIGN_OR_RETURN(const merge::SourceGraph graph, merge::read_source_graph(model, "the model"));
  EditModel m = edit_copy(graph);
  shorten_names(m);
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> out, write_model(m, keep_defaults));
  // The renamed file must load like the original (unique node names, inputs found by name).
  PH_RETURN_IF_ERROR(Model::from_bytes(out).status());
  return out;
}

}  // namespace polyhead::quantize
