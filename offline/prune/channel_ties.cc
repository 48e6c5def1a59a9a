#include "offline/prune/channel_ties.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "offline/prune/magnitude.h"
#include "offline/quantize/int8_support.h"

namespace polyhead::prune {

namespace {

using schema::OpKind;

int last_dim(const schema::Tensor& t) {
  const auto* s = t.shape();
  return s->size() ? s->Get(s->size() - 1) : 0;
}

// The analysis, node by node in execution order.
class Tier {
 public:
  explicit Tier(const merge::SourceGraph& g) : g_(g) {
    r_.tensor_atoms.resize(g.root->tensors()->size());
    norms_.resize(g.root->nodes()->size());
  }

  Result<ChannelTies> run() {
    const auto& inputs = *g_.root->inputs();
    for (const schema::Input* in : inputs) {
      const int t = in->tensor();
      atoms_of(t) =
          fresh(last_dim(g_.tensor(t)), -1, "are tied to model input '" + g_.tensor_name(t) + "'");
    }
    for (int n : g_.order) PH_RETURN_IF_ERROR(visit(n));
    for (const schema::Task* task : *g_.root->tasks())
      for (const schema::TaskOutput* o : *task->outputs())
        pin(o->tensor(),
            "reach output '" + o->name()->str() + "' of task '" + task->name()->str() + "'");
    finish();
    return std::move(r_);
  }

 private:
  std::vector<int>& atoms_of(int t) { return r_.tensor_atoms[static_cast<size_t>(t)]; }

  std::vector<int> fresh(int count, int producer, const std::string& pinned) {
    std::vector<int> out;
    for (int c = 0; c < count; ++c) {
      out.push_back(static_cast<int>(r_.atoms.size()));
      r_.atoms.push_back({producer, producer >= 0 ? c : -1});
      parent_.push_back(out.back());
      r_.pinned.push_back(pinned);
    }
    return out;
  }

  int find(int a) {
    while (parent_[static_cast<size_t>(a)] != a) {
      parent_[static_cast<size_t>(a)] =
          parent_[static_cast<size_t>(parent_[static_cast<size_t>(a)])];
      a = parent_[static_cast<size_t>(a)];
    }
    return a;
  }

  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (b < a) std::swap(a, b);  // the older atom stays the root: deterministic
    parent_[static_cast<size_t>(b)] = a;
    if (r_.pinned[static_cast<size_t>(a)].empty())
      r_.pinned[static_cast<size_t>(a)] = r_.pinned[static_cast<size_t>(b)];
  }

  void pin(int t, const std::string& reason) {
    for (int a : atoms_of(t)) {
      std::string& why = r_.pinned[static_cast<size_t>(find(a))];
      if (why.empty()) why = reason;
    }
  }

  std::string describe(int n) const {
    return std::string(quantize::op_name(g_.node(n).op())) + " node '" + g_.node_name(n) + "'";
  }

  // An operator this analysis does not see through: its inputs' channels stay, its output's
  // channels are new and stay too.
  void opaque(int n, const std::string& why) {
    const schema::Node& node = g_.node(n);
    for (int t : *node.inputs())
      if (t >= 0 && !g_.is_constant(t)) pin(t, "are read by " + describe(n) + why);
    for (int t : *node.outputs())
      atoms_of(t) =
          fresh(last_dim(g_.tensor(t)), -1, "are tied to the output of " + describe(n) + why);
  }

  bool all_float(const schema::Node& node) const {
    for (const auto* list : {node.inputs(), node.outputs()})
      for (int t : *list)
        if (t >= 0 && g_.tensor(t).type() != schema::ElementType::F32) return false;
    return true;
  }

  Status visit(int n) {
    const schema::Node& node = g_.node(n);
    if (node.outputs()->size() != 1 || node.inputs()->size() == 0) {
      opaque(n, "");
      return Status::ok();
    }
    if (!all_float(node)) {
      opaque(n, " (not float32)");
      return Status::ok();
    }
    const int out = node.outputs()->Get(0);
    const int x = node.inputs()->Get(0);
    switch (node.op()) {
      case OpKind::CONV_2D:
      case OpKind::DEPTHWISE_CONV_2D:
      case OpKind::FULLY_CONNECTED:
      case OpKind::TRANSPOSE_CONV_2D:
        return weighted(n, x, out);
      case OpKind::CLAMP:
      case OpKind::HARD_SWISH:
      case OpKind::SIGMOID:
      case OpKind::TANH:
      case OpKind::LEAKY_RELU:
      case OpKind::ABS:
      case OpKind::SILU:
      case OpKind::MAX_POOL_2D:
      case OpKind::AVERAGE_POOL_2D:
      case OpKind::MEAN:
      case OpKind::RESIZE:
        return same_channels(n, x, out);
      case OpKind::PRELU: {
        const int slope = node.inputs()->size() > 1 ? node.inputs()->Get(1) : -1;
        if (slope < 0 || !g_.is_constant(slope) ||
            !per_channel(g_.tensor(slope), last_dim(g_.tensor(x)))) {
          opaque(n, " (its slope is not one constant per channel)");
          return Status::ok();
        }
        r_.slices.push_back({n, 1, ConstantSlice::Axis::kLast, out});
        return same_channels(n, x, out);
      }
      case OpKind::PAD:
        return pad(n, x, out);
      case OpKind::ADD:
      case OpKind::SUB:
      case OpKind::MUL:
      case OpKind::DIV:
        binary(n, out);
        return Status::ok();
      case OpKind::CONCATENATION:
        concatenation(n, out);
        return Status::ok();
      default:
        opaque(n, "");
        return Status::ok();
    }
  }

  // A constant whose last dimension is `channels` and whose other dimensions are 1.
  static bool per_channel(const schema::Tensor& t, int channels) {
    const auto* s = t.shape();
    if (s->size() == 0 || s->Get(s->size() - 1) != channels) return false;
    for (flatbuffers::uoffset_t i = 0; i + 1 < s->size(); ++i)
      if (s->Get(i) != 1) return false;
    return true;
  }

  Status same_channels(int n, int x, int out) {
    if (last_dim(g_.tensor(x)) != last_dim(g_.tensor(out))) {
      opaque(n, " (its output has other channels)");
      return Status::ok();
    }
    atoms_of(out) = atoms_of(x);
    return Status::ok();
  }

  Status weighted(int n, int x, int out) {
    const schema::Node& node = g_.node(n);
    const int w = node.inputs()->size() > 1 ? node.inputs()->Get(1) : -1;
    const int bias = node.inputs()->size() > 2 ? node.inputs()->Get(2) : -1;
    if (w < 0 || !g_.is_constant(w) || (bias >= 0 && !g_.is_constant(bias))) {
      opaque(n, " (weights or bias not constant)");
      return Status::ok();
    }
    const schema::Tensor& weights = g_.tensor(w);
    const int in_c = last_dim(g_.tensor(x));
    const int out_c = last_dim(g_.tensor(out));
    const int rows = weights.shape()->Get(0);
    const auto* conv = node.options_as_Conv2DOptions();
    const int groups = conv ? conv->groups() : 1;
    if (rows != out_c)
      return Status(ErrorCode::kInternal, describe(n) + ": weight rows != output channels");
    if (groups == 1) {
      if (last_dim(weights) != in_c) {
        opaque(n, " (its weight's last dimension is not the input's channels)");
        return Status::ok();
      }
      r_.slices.push_back({n, 1, ConstantSlice::Axis::kLast, x});
      r_.slices.push_back({n, 1, ConstantSlice::Axis::kFirst, out});
      if (bias >= 0) r_.slices.push_back({n, 2, ConstantSlice::Axis::kFirst, out});
      atoms_of(out) = fresh(out_c, n, "");
      size_t cols = 1;
      for (flatbuffers::uoffset_t i = 1; i < weights.shape()->size(); ++i)
        cols *= static_cast<size_t>(weights.shape()->Get(i));
      std::vector<double> norms(static_cast<size_t>(rows), 0.0);
      const auto* data = reinterpret_cast<const float*>(g_.constant_data(w));
      if (data && g_.constant_size(w) >= static_cast<size_t>(rows) * cols * sizeof(float)) {
        std::vector<float> copy(static_cast<size_t>(rows) * cols);
        std::copy(data, data + copy.size(), copy.begin());
        norms = row_norms(copy.data(), static_cast<size_t>(rows), cols);
      }
      const double mean = norms.empty() ? 0
                                        : std::accumulate(norms.begin(), norms.end(), 0.0) /
                                              static_cast<double>(norms.size());
      for (double& v : norms) v = mean > 0 ? v / mean : 1.0;
      norms_[static_cast<size_t>(n)] = std::move(norms);
      producers_.push_back(n);
      return Status::ok();
    }
    if (groups == in_c && out_c == in_c && last_dim(weights) == 1) {  // depthwise, multiplier 1
      r_.slices.push_back({n, 1, ConstantSlice::Axis::kFirst, out});
      if (bias >= 0) r_.slices.push_back({n, 2, ConstantSlice::Axis::kFirst, out});
      r_.option_edits.push_back({n, OptionEdit::Kind::kGroups, out});
      atoms_of(out) = atoms_of(x);
      return Status::ok();
    }
    opaque(n, " (a grouped convolution)");
    return Status::ok();
  }

  Status pad(int n, int x, int out) {
    const auto* o = g_.node(n).options_as_PadOptions();
    const int rank = static_cast<int>(g_.tensor(x).shape()->size());
    if (!o || rank == 0 || static_cast<int>(o->before()->size()) != rank) {
      opaque(n, "");
      return Status::ok();
    }
    const int before = o->before()->Get(static_cast<flatbuffers::uoffset_t>(rank - 1));
    const int after = o->after()->Get(static_cast<flatbuffers::uoffset_t>(rank - 1));
    if (before == 0 && after == 0) return same_channels(n, x, out);
    std::vector<int> atoms = fresh(before, -1, "");
    const std::vector<int>& middle = atoms_of(x);
    atoms.insert(atoms.end(), middle.begin(), middle.end());
    const std::vector<int> tail = fresh(after, -1, "");
    atoms.insert(atoms.end(), tail.begin(), tail.end());
    atoms_of(out) = std::move(atoms);
    r_.option_edits.push_back({n, OptionEdit::Kind::kChannelPad, out});
    return Status::ok();
  }

  void binary(int n, int out) {
    const schema::Node& node = g_.node(n);
    const int out_c = last_dim(g_.tensor(out));
    std::vector<int> tied;  // non-constant operands with the output's channels
    for (flatbuffers::uoffset_t i = 0; i < node.inputs()->size(); ++i) {
      const int t = node.inputs()->Get(i);
      const int c = last_dim(g_.tensor(t));
      const bool scalar_like = g_.tensor(t).shape()->size() == 0 || (c == 1 && out_c != 1);
      if (scalar_like) continue;  // broadcast over the channels
      if (c != out_c) {
        opaque(n, "");
        return;
      }
      if (g_.is_constant(t))
        r_.slices.push_back({n, static_cast<int>(i), ConstantSlice::Axis::kLast, out});
      else
        tied.push_back(t);
    }
    if (tied.empty()) {
      opaque(n, " (no operand carries the channels)");
      return;
    }
    for (size_t k = 1; k < tied.size(); ++k)
      for (int c = 0; c < out_c; ++c)
        unite(atoms_of(tied[0])[static_cast<size_t>(c)], atoms_of(tied[k])[static_cast<size_t>(c)]);
    atoms_of(out) = atoms_of(tied[0]);
  }

  void concatenation(int n, int out) {
    const schema::Node& node = g_.node(n);
    const auto* o = node.options_as_ConcatenationOptions();
    const int rank = static_cast<int>(g_.tensor(out).shape()->size());
    int axis = o ? o->axis() : 3;
    if (axis < 0) axis += rank;
    if (axis == rank - 1) {  // along the channels: the inputs' channels one after another
      std::vector<int> atoms;
      for (int t : *node.inputs()) {
        const std::vector<int> part = g_.is_constant(t)
                                          ? fresh(last_dim(g_.tensor(t)), -1,
                                                  "are tied to a constant input of " + describe(n))
                                          : atoms_of(t);
        atoms.insert(atoms.end(), part.begin(), part.end());
      }
      atoms_of(out) = std::move(atoms);
      return;
    }
    // Along another axis: every input has the output's channels, lined up.
    const int out_c = last_dim(g_.tensor(out));
    std::vector<int> tied;
    for (flatbuffers::uoffset_t i = 0; i < node.inputs()->size(); ++i) {
      const int t = node.inputs()->Get(i);
      if (last_dim(g_.tensor(t)) != out_c) {
        opaque(n, "");
        return;
      }
      if (g_.is_constant(t))
        r_.slices.push_back({n, static_cast<int>(i), ConstantSlice::Axis::kLast, out});
      else
        tied.push_back(t);
    }
    if (tied.empty()) {
      opaque(n, "");
      return;
    }
    for (size_t k = 1; k < tied.size(); ++k)
      for (int c = 0; c < out_c; ++c)
        unite(atoms_of(tied[0])[static_cast<size_t>(c)], atoms_of(tied[k])[static_cast<size_t>(c)]);
    atoms_of(out) = atoms_of(tied[0]);
  }

  // Roots, units and scores.
  void finish() {
    const size_t count = r_.atoms.size();
    r_.root.resize(count);
    for (size_t a = 0; a < count; ++a) r_.root[a] = find(static_cast<int>(a));
    // Producers tied through a class are one unit.
    std::map<int, int> unit_of;  // producer -> representative producer
    auto rep = [&](int p) {
      while (unit_of[p] != p) p = unit_of[p];
      return p;
    };
    for (int p : producers_) unit_of[p] = p;
    std::vector<int> first_producer(count, -1);  // per root
    for (size_t a = 0; a < count; ++a) {
      const int p = r_.atoms[a].producer;
      if (p < 0) continue;
      int& first = first_producer[static_cast<size_t>(r_.root[a])];
      if (first < 0) {
        first = p;
      } else {
        const int x = rep(first), y = rep(p);
        if (x != y) unit_of[std::max(x, y)] = std::min(x, y);
      }
    }
    // Units in execution order of their first producer; classes in the order their first
    // producer atom appears.
    std::map<int, size_t> index;  // representative -> unit
    std::vector<ChannelUnit> units;
    std::vector<std::vector<double>> sums;
    std::vector<std::vector<int>> counts;
    std::map<int, std::pair<size_t, size_t>> class_at;  // root -> (unit, position)
    std::vector<std::string> first_pin;
    for (int p : producers_) {
      const int r = rep(p);
      auto it = index.find(r);
      if (it == index.end()) {
        it = index.emplace(r, units.size()).first;
        units.emplace_back();
        units.back().shape = merge::shape_text(g_.tensor(g_.node(p).inputs()->Get(1)));
        sums.emplace_back();
        counts.emplace_back();
        first_pin.emplace_back();
      }
      const size_t u = it->second;
      units[u].producers.push_back(p);
      const std::vector<double>& norms = norms_[static_cast<size_t>(p)];
      const std::vector<int>& out = atoms_of(g_.node(p).outputs()->Get(0));
      for (size_t c = 0; c < out.size(); ++c) {
        const int root = r_.root[static_cast<size_t>(out[c])];
        auto at = class_at.find(root);
        if (at == class_at.end()) {
          at = class_at.emplace(root, std::make_pair(u, units[u].classes.size())).first;
          units[u].classes.push_back(root);
          sums[u].push_back(0);
          counts[u].push_back(0);
        }
        sums[u][at->second.second] += norms[c];
        counts[u][at->second.second] += 1;
      }
    }
    for (size_t u = 0; u < units.size(); ++u) {
      ChannelUnit& unit = units[u];
      unit.channels = unit.classes.size();
      ChannelUnit removable = unit;
      removable.classes.clear();
      for (size_t k = 0; k < unit.classes.size(); ++k) {
        const std::string& why = r_.pinned[static_cast<size_t>(unit.classes[k])];
        if (!why.empty()) {
          if (first_pin[u].empty()) first_pin[u] = why;
          continue;
        }
        removable.classes.push_back(unit.classes[k]);
        removable.scores.push_back(sums[u][k] / std::max(1, counts[u][k]));
      }
      // Keeping a tensor's last channel is checked when classes are chosen; a unit of one channel
      // has nothing to give.
      if (removable.classes.empty() || unit.channels < 2) {
        r_.skipped.push_back({unit.producers, removable.classes.empty()
                                                  ? "its output channels " + first_pin[u]
                                                  : "it has one output channel"});
      } else {
        r_.units.push_back(std::move(removable));
      }
    }
  }

  const merge::SourceGraph& g_;
  ChannelTies r_;
  std::vector<int> parent_;
  std::vector<std::vector<double>> norms_;  // per producer node, per output channel
  std::vector<int> producers_;              // in execution order
};

}  // namespace

std::vector<int> ChannelTies::kept(int t, const std::vector<bool>& removed) const {
  std::vector<int> k;
  const std::vector<int>& atoms_here = tensor_atoms[static_cast<size_t>(t)];
  for (size_t i = 0; i < atoms_here.size(); ++i)
    if (!removed[static_cast<size_t>(root[static_cast<size_t>(atoms_here[i])])])
      k.push_back(static_cast<int>(i));
  return k;
}

Result<ChannelTies> tie_channels(const merge::SourceGraph& g) {
  return Tier(g).run();
}

}  // namespace polyhead::prune
