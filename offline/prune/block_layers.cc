#include "offline/prune/block_layers.h"

#include <cstring>
#include <map>

#include "offline/prune/bias_correction.h"
#include "offline/prune/magnitude.h"
#include "offline/prune/sparse_storage.h"
#include "offline/quantize/int8_support.h"

namespace polyhead::prune {

namespace {

using schema::OpKind;

// Per tensor, the nodes that read it.
std::vector<std::vector<int>> readers(const merge::SourceGraph& g) {
  std::vector<std::vector<int>> r(g.root->tensors()->size());
  for (int n : g.order)
    for (int t : *g.node(n).inputs())
      if (t >= 0) r[static_cast<size_t>(t)].push_back(n);
  return r;
}

size_t product(const flatbuffers::Vector<int>& shape, flatbuffers::uoffset_t from) {
  size_t p = 1;
  for (flatbuffers::uoffset_t i = from; i < shape.size(); ++i)
    p *= static_cast<size_t>(shape.Get(i));
  return p;
}

// Empty when node `n` is a layer to prune, otherwise why not.
std::string why_not(const merge::SourceGraph& g, int n, const std::vector<std::vector<int>>& read) {
  const schema::Node& node = g.node(n);
  if (node.op() == OpKind::TRANSPOSE_CONV_2D)
    return "transposed convolution (the sparse kernel runs 1x1 convolutions and fully connected "
           "layers)";
  if (node.inputs()->size() < 2 || node.inputs()->Get(1) < 0) return "no weight input";
  const int w = node.inputs()->Get(1);
  const schema::Tensor& weights = g.tensor(w);
  if (!g.is_constant(w)) return "its weights are not a constant";
  if (weights.type() != schema::ElementType::F32)
    return std::string(schema::EnumNameElementType(weights.type())) +
           " weights (sparse storage is float32 only)";
  for (int t : *node.inputs())
    if (t >= 0 && g.tensor(t).type() != schema::ElementType::F32)
      return "reads a " + std::string(schema::EnumNameElementType(g.tensor(t).type())) + " tensor";
  if (node.op() != OpKind::FULLY_CONNECTED) {
    const auto* o = node.options_as_Conv2DOptions();
    const int groups = o ? o->groups() : 1;
    const auto& shape = *weights.shape();
    if (node.op() == OpKind::DEPTHWISE_CONV_2D || groups > 1)
      return groups > 1 && shape.Get(3) == 1
                 ? "depthwise convolution (left dense: 1 input per output, sensitive, few weights)"
                 : "grouped convolution (the sparse kernel runs one group only)";
    if (shape.size() != 4 || shape.Get(1) != 1 || shape.Get(2) != 1)
      return std::to_string(shape.Get(1)) + "x" + std::to_string(shape.Get(2)) +
             " convolution (the sparse kernel runs 1x1 convolutions and fully connected layers)";
  }
  const std::vector<int>& users = read[static_cast<size_t>(w)];
  for (int other : users)
    if (other != n) return "its weights are shared with node '" + g.node_name(other) + "'";
  return {};
}

}  // namespace

int sparse_block_rows(int rows) {
  for (int b : {8, 4, 2})
    if (rows % b == 0) return b;
  return 1;
}

BlockLayers find_block_layers(const merge::SourceGraph& g) {
  BlockLayers out;
  const auto read = readers(g);
  for (int n : g.order) {
    const schema::Node& node = g.node(n);
    const OpKind op = node.op();
    if (op != OpKind::CONV_2D && op != OpKind::DEPTHWISE_CONV_2D && op != OpKind::FULLY_CONNECTED &&
        op != OpKind::TRANSPOSE_CONV_2D)
      continue;
    const std::string reason = why_not(g, n, read);
    if (!reason.empty()) {
      out.skipped.push_back({g.node_name(n), quantize::op_name(op), reason});
      continue;
    }
    BlockLayer l;
    l.node = n;
    l.name = g.node_name(n);
    l.op = quantize::op_name(op);
    l.weights = node.inputs()->Get(1);
    const schema::Tensor& w = g.tensor(l.weights);
    l.shape = merge::shape_text(w);
    l.rows = static_cast<size_t>(w.shape()->Get(0));
    l.cols = product(*w.shape(), 1);
    l.block_rows = sparse_block_rows(static_cast<int>(l.rows));
    out.layers.push_back(std::move(l));
  }
  return out;
}

quantize::EditModel prune_blocks(const merge::SourceGraph& g, const std::vector<BlockLayer>& layers,
                                 const std::vector<size_t>& removed_blocks,
                                 const ChannelMeans* means) {
  quantize::EditModel m = quantize::edit_copy(g);
  std::map<int, size_t> position;  // node -> its entry in m.nodes
  for (size_t i = 0; i < g.order.size(); ++i) position[g.order[i]] = i;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (removed_blocks[i] == 0) continue;
    const BlockLayer& l = layers[i];
    quantize::EditTensor& t = m.tensors[static_cast<size_t>(l.weights)];
    std::vector<float> w(l.rows * l.cols);
    std::memcpy(w.data(), t.data, w.size() * sizeof(float));
    std::vector<float> removed(w.size(), 0.f);
    const size_t br = static_cast<size_t>(l.block_rows);
    for (size_t b : smallest(block_norms(w.data(), l.rows, l.cols, br), removed_blocks[i])) {
      const size_t r0 = b / l.cols * br, c = b % l.cols;
      for (size_t r = r0; r < r0 + br; ++r) {
        removed[r * l.cols + c] = w[r * l.cols + c];
        w[r * l.cols + c] = 0.f;
      }
    }
    std::vector<uint8_t> bytes(w.size() * sizeof(float));
    std::memcpy(bytes.data(), w.data(), bytes.size());
    t.data = m.store(std::move(bytes));
    t.size = w.size() * sizeof(float);
    // The writer stores it dense again where the blocks and their indices would take more bytes
    // (low sparsity, blocks of one or two rows); the runtime would run such a layer densely anyway.
    store_block_sparse(t, l.block_rows, 1);
    const int x = g.node(l.node).inputs()->Get(0);
    if (means && !(*means)[static_cast<size_t>(x)].empty())
      add_to_bias(
          m, m.nodes[position[l.node]],
          removed_contribution(removed.data(), l.rows, l.cols, (*means)[static_cast<size_t>(x)]));
  }
  quantize::drop_unused_constants(m);  // the biases the correction replaced
  return m;
}

}  // namespace polyhead::prune
