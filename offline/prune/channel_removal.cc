#include "offline/prune/channel_removal.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "offline/prune/bias_correction.h"
#include "offline/prune/magnitude.h"
#include "offline/prune/node_options.h"
#include "offline/prune/sparse_storage.h"

namespace polyhead::prune {

namespace {

// One cut of a constant: along `axis`, keeping `kept` of `full` positions.
struct Cut {
  ConstantSlice::Axis axis;
  std::vector<int> kept;
  size_t full;
  bool operator==(const Cut& o) const { return axis == o.axis && kept == o.kept && full == o.full; }
};

// `t` cut to the positions `kept` of its first or last dimension (every element type).
Status slice_constant(quantize::EditModel& m, quantize::EditTensor& t, ConstantSlice::Axis axis,
                      const std::vector<int>& kept, size_t full) {
  if (t.shape.empty()) return Status(ErrorCode::kInternal, "constant '" + t.name + "' is a scalar");
  size_t elements = 1;
  for (int d : t.shape) elements *= static_cast<size_t>(d);
  const size_t element_bytes = elements ? t.size / elements : 0;
  const bool first = axis == ConstantSlice::Axis::kFirst;
  const size_t dim = static_cast<size_t>(first ? t.shape.front() : t.shape.back());
  if (dim != full || element_bytes == 0 || element_bytes * elements != t.size)
    return Status(ErrorCode::kInternal, "constant '" + t.name + "' does not have " +
                                            std::to_string(full) +
                                            " channels where pruning cuts it");
  // [outer][dim][inner], with outer = 1 (first) or inner = 1 (last).
  const size_t outer = first ? 1 : elements / dim;
  const size_t inner = (first ? elements / dim : 1) * element_bytes;
  std::vector<uint8_t> out(outer * kept.size() * inner);
  uint8_t* dst = out.data();
  for (size_t o = 0; o < outer; ++o)
    for (int k : kept) {
      std::memcpy(dst, t.data + (o * dim + static_cast<size_t>(k)) * inner, inner);
      dst += inner;
    }
  (first ? t.shape.front() : t.shape.back()) = static_cast<int>(kept.size());
  t.size = out.size();
  t.data = m.store(std::move(out));
  store_dense(t);
  return Status::ok();
}

}  // namespace

std::vector<bool> choose_removed_classes(const ChannelTies& ties,
                                         const std::vector<size_t>& removed_per_unit) {
  std::vector<bool> removed(ties.atoms.size(), false);
  std::map<int, double> score;  // per removable class root
  for (size_t u = 0; u < ties.units.size(); ++u) {
    const ChannelUnit& unit = ties.units[u];
    for (size_t k = 0; k < unit.classes.size(); ++k) score[unit.classes[k]] = unit.scores[k];
    for (size_t k : smallest(unit.scores, removed_per_unit[u]))
      removed[static_cast<size_t>(unit.classes[k])] = true;
  }
  // Give back one class to every tensor left without a channel: its best-scoring removed one.
  for (size_t t = 0; t < ties.tensor_atoms.size(); ++t) {
    const std::vector<int>& atoms = ties.tensor_atoms[t];
    if (atoms.empty() || !ties.kept(static_cast<int>(t), removed).empty()) continue;
    int best = -1;
    for (int a : atoms) {
      const int r = ties.root[static_cast<size_t>(a)];
      if (best < 0 || score[r] > score[best]) best = r;
    }
    removed[static_cast<size_t>(best)] = false;
  }
  return removed;
}

Result<quantize::EditModel> remove_channels(const merge::SourceGraph& g, const ChannelTies& ties,
                                            const std::vector<bool>& removed,
                                            const ChannelMeans* means) {
  quantize::EditModel m = quantize::edit_copy(g);
  std::vector<size_t> position(g.root->nodes()->size());  // node index -> m.nodes entry
  for (size_t i = 0; i < g.order.size(); ++i) position[static_cast<size_t>(g.order[i])] = i;

  for (size_t t = 0; t < ties.tensor_atoms.size(); ++t) {
    const size_t full = ties.tensor_atoms[t].size();
    if (full == 0 || g.is_constant(static_cast<int>(t))) continue;
    const size_t kept = ties.kept(static_cast<int>(t), removed).size();
    if (kept != full) m.tensors[t].shape.back() = static_cast<int>(kept);
  }

  // What each (node, input slot) needs cut from the constant it reads: its cuts in order.
  std::map<std::pair<int, int>, std::vector<Cut>> cuts;
  for (const ConstantSlice& s : ties.slices) {
    std::vector<int> kept = ties.kept(s.by, removed);
    const size_t full = ties.tensor_atoms[static_cast<size_t>(s.by)].size();
    if (kept.size() == full) continue;
    cuts[{s.node, s.slot}].push_back({s.axis, std::move(kept), full});
  }
  // Bias correction, on the full-size weights before anything is cut: the consumers' removed
  // input columns, at their inputs' means.
  for (const ConstantSlice& s : ties.slices) {
    const schema::Node& src = g.node(s.node);
    const bool consumer =
        (src.op() == schema::OpKind::CONV_2D || src.op() == schema::OpKind::FULLY_CONNECTED) &&
        s.slot == 1 && s.axis == ConstantSlice::Axis::kLast;
    if (!means || !consumer || (*means)[static_cast<size_t>(s.by)].empty()) continue;
    const std::vector<int> kept = ties.kept(s.by, removed);
    const size_t full = ties.tensor_atoms[static_cast<size_t>(s.by)].size();
    if (kept.size() == full) continue;
    quantize::EditNode& node = m.nodes[position[static_cast<size_t>(s.node)]];
    const quantize::EditTensor& w = m.tensors[static_cast<size_t>(node.inputs[1])];
    const size_t rows = static_cast<size_t>(w.shape.front());
    const size_t cols = w.size / sizeof(float) / rows;
    std::vector<float> gone(rows * cols);
    std::memcpy(gone.data(), w.data, gone.size() * sizeof(float));
    std::vector<bool> stays(full, false);
    for (int k : kept) stays[static_cast<size_t>(k)] = true;
    for (size_t i = 0; i < gone.size(); ++i)
      if (stays[i % full]) gone[i] = 0.f;
    const bool had_bias = src.inputs()->size() > 2 && src.inputs()->Get(2) >= 0;
    add_to_bias(m, node,
                removed_contribution(gone.data(), rows, cols, (*means)[static_cast<size_t>(s.by)]));
    // A new bias follows the node's output channels like an old one would.
    const int out = src.outputs()->Get(0);
    const size_t out_full = ties.tensor_atoms[static_cast<size_t>(out)].size();
    std::vector<int> out_kept = ties.kept(out, removed);
    if (!had_bias && out_kept.size() != out_full)
      cuts[{s.node, 2}].push_back({ConstantSlice::Axis::kFirst, std::move(out_kept), out_full});
  }

  // Readers of one constant that need the same cuts share the cut constant; when they differ
  // (or some need none), each other set of cuts gets a copy of its own.
  std::map<int, std::vector<std::pair<int, int>>> readers;  // constant -> (node, slot)
  for (int n : g.order) {
    const quantize::EditNode& node = m.nodes[position[static_cast<size_t>(n)]];
    for (size_t slot = 0; slot < node.inputs.size(); ++slot) {
      const int t = node.inputs[slot];
      if (t >= 0 && m.tensors[static_cast<size_t>(t)].data)
        readers[t].emplace_back(n, static_cast<int>(slot));
    }
  }
  for (const auto& [constant, users] : readers) {
    std::vector<std::pair<std::vector<Cut>, std::vector<std::pair<int, int>>>> groups;
    for (const auto& user : users) {
      auto it = cuts.find(user);
      const std::vector<Cut> wanted = it == cuts.end() ? std::vector<Cut>{} : it->second;
      auto same = std::find_if(groups.begin(), groups.end(),
                               [&](const auto& grp) { return grp.first == wanted; });
      if (same == groups.end()) {
        groups.emplace_back(wanted, std::vector<std::pair<int, int>>{});
        same = groups.end() - 1;
      }
      same->second.push_back(user);
    }
    for (size_t k = 0; k < groups.size(); ++k) {
      if (groups[k].first.empty()) continue;
      int target = constant;
      if (k > 0) {  // the first set of cuts edits the constant itself, the others a copy
        quantize::EditTensor copy = m.tensors[static_cast<size_t>(constant)];
        copy.name += "/pruned_" + std::to_string(k);
        target = m.add_tensor(std::move(copy));
        for (const auto& [n, slot] : groups[k].second)
          m.nodes[position[static_cast<size_t>(n)]].inputs[static_cast<size_t>(slot)] = target;
      }
      for (const Cut& cut : groups[k].first)
        PH_RETURN_IF_ERROR(slice_constant(m, m.tensors[static_cast<size_t>(target)], cut.axis,
                                          cut.kept, cut.full));
    }
  }

  for (const OptionEdit& e : ties.option_edits) {
    const std::vector<int> kept = ties.kept(e.by, removed);
    const size_t full = ties.tensor_atoms[static_cast<size_t>(e.by)].size();
    if (kept.size() == full) continue;
    const schema::Node& src = g.node(e.node);
    quantize::EditNode& node = m.nodes[position[static_cast<size_t>(e.node)]];
    if (e.kind == OptionEdit::Kind::kGroups) {
      node.options_from = with_groups(m, src, static_cast<int>(kept.size()));
    } else {
      const auto* o = src.options_as_PadOptions();
      const int before = o->before()->Get(o->before()->size() - 1);
      const int after = o->after()->Get(o->after()->size() - 1);
      int kept_before = 0, kept_after = 0;
      for (int k : kept) {
        kept_before += k < before ? 1 : 0;
        kept_after += k >= static_cast<int>(full) - after ? 1 : 0;
      }
      node.options_from = with_channel_pad(m, src, kept_before, kept_after);
    }
  }
  quantize::drop_unused_constants(m);
  return m;
}

}  // namespace polyhead::prune
