#include "offline/lowrank/factorized_writer.h"

#include <cstring>
#include <map>
#include <set>
#include <string>

namespace polyhead::lowrank {
namespace {

using quantize::EditModel;
using quantize::EditNode;
using quantize::EditTensor;

// Names not used yet: `base`, else base_2, base_3...
class UniqueNames {
 public:
  explicit UniqueNames(std::set<std::string> taken) : taken_(std::move(taken)) {}
  std::string take(const std::string& base) {
    std::string name = base;
    for (int i = 2; taken_.count(name); ++i) name = base + "_" + std::to_string(i);
    taken_.insert(name);
    return name;
  }

 private:
  std::set<std::string> taken_;
};

// A node whose options table is the op's defaults (stride 1, one group, no padding, no fused
// activation), for the writer to copy into the first layer: the writer copies options from a
// schema::Node, so one is built in memory and kept with the model.
const schema::Node* default_options_node(EditModel& m, schema::OpKind op) {
  flatbuffers::FlatBufferBuilder b;
  const auto name = b.CreateString("options");
  flatbuffers::Offset<void> options;
  schema::OpOptions type;
  if (op == schema::OpKind::CONV_2D) {
    options = schema::CreateConv2DOptions(b).Union();
    type = schema::OpOptions::Conv2DOptions;
  } else {
    options = schema::CreateFullyConnectedOptions(b).Union();
    type = schema::OpOptions::FullyConnectedOptions;
  }
  const auto none = b.CreateVector(std::vector<int32_t>{});
  b.Finish(schema::CreateNode(b, name, op, type, options, none, none));
  const uint8_t* bytes =
      m.store(std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()));
  return flatbuffers::GetRoot<schema::Node>(bytes);
}

// The float bytes of `values`, kept with the model.
const uint8_t* store_floats(EditModel& m, const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return m.store(std::move(bytes));
}

std::vector<int> weight_shape(const FactorizableLayer& l, int rows, int cols) {
  if (l.op == schema::OpKind::FULLY_CONNECTED) return {rows, cols};
  return {rows, 1, 1, cols};
}

}  // namespace

Result<EditModel> factorize_layers(const merge::SourceGraph& g,
                                   const std::vector<Factorization>& f) {
  std::map<int, const Factorization*> by_node;
  for (const Factorization& x : f) {
    const FactorizableLayer& l = *x.layer;
    if (x.rank < 1 || x.rank > l.full_rank())
      return Status(ErrorCode::kInvalidArgument, "layer '" + l.name + "': rank " +
                                                     std::to_string(x.rank) + " is outside [1, " +
                                                     std::to_string(l.full_rank()) + "]");
    if (!x.svd || x.svd->rows != l.out_channels || x.svd->cols != l.in_channels)
      return Status(ErrorCode::kInvalidArgument, "layer '" + l.name + "': no SVD of its " +
                                                     std::to_string(l.out_channels) + "x" +
                                                     std::to_string(l.in_channels) + " weights");
    if (!by_node.emplace(l.node, &x).second)
      return Status(ErrorCode::kInvalidArgument, "layer '" + l.name + "' is listed twice");
  }

  EditModel m = quantize::edit_copy(g);
  std::set<std::string> taken;
  for (const EditTensor& t : m.tensors) taken.insert(t.name);
  for (const EditNode& n : m.nodes) taken.insert(n.name);
  UniqueNames names(std::move(taken));

  std::vector<EditNode> nodes;
  const schema::Node* plain_fc = nullptr;
  const schema::Node* plain_conv = nullptr;
  // edit_copy lists the nodes in g.order.
  for (size_t p = 0; p < m.nodes.size(); ++p) {
    auto it = by_node.find(g.order[p]);
    if (it == by_node.end()) {
      nodes.push_back(std::move(m.nodes[p]));
      continue;
    }
    const Factorization& x = *it->second;
    const FactorizableLayer& l = *x.layer;
    const Svd& s = *x.svd;
    const int r = x.rank, out = l.out_channels, in = l.in_channels;
    EditNode second = std::move(m.nodes[p]);
    const std::string weight_name = m.tensors[static_cast<size_t>(l.weight)].name;
    const int y = second.outputs[0];

    // V_r^T [r][I] and U_r S_r [O][r], rounded to float once.
    std::vector<float> first_w(static_cast<size_t>(r) * in), second_w(static_cast<size_t>(out) * r);
    for (int j = 0; j < r; ++j)
      for (int i = 0; i < in; ++i)
        first_w[static_cast<size_t>(j) * in + i] = static_cast<float>(s.v_at(i, j));
    for (int o = 0; o < out; ++o)
      for (int j = 0; j < r; ++j)
        second_w[static_cast<size_t>(o) * r + j] = static_cast<float>(s.u_at(o, j) * s.s[j]);

    EditTensor w1;
    w1.name = names.take(weight_name + "/lowrank_in");
    w1.shape = weight_shape(l, r, in);
    w1.data = store_floats(m, first_w);
    w1.size = first_w.size() * sizeof(float);
    const int w1_index = m.add_tensor(std::move(w1));
    EditTensor w2;
    w2.name = names.take(weight_name + "/lowrank_out");
    w2.shape = weight_shape(l, out, r);
    w2.data = store_floats(m, second_w);
    w2.size = second_w.size() * sizeof(float);
    const int w2_index = m.add_tensor(std::move(w2));
    EditTensor mid;
    mid.name = names.take(m.tensors[static_cast<size_t>(y)].name + "/lowrank");
    mid.shape = m.tensors[static_cast<size_t>(y)].shape;
    mid.shape.back() = r;
    const int mid_index = m.add_tensor(std::move(mid));

    EditNode first;
    first.name = names.take(l.name + "/lowrank_in");
    first.op = l.op;
    const schema::Node*& plain = l.op == schema::OpKind::CONV_2D ? plain_conv : plain_fc;
    if (!plain) plain = default_options_node(m, l.op);
    first.options_from = plain;
    first.inputs = {second.inputs[0], w1_index};
    first.outputs = {mid_index};
    second.inputs[0] = mid_index;
    second.inputs[1] = w2_index;
    nodes.push_back(std::move(first));
    nodes.push_back(std::move(second));
  }
  m.nodes = std::move(nodes);
  quantize::drop_unused_constants(m);
  return m;
}

}  // namespace polyhead::lowrank
