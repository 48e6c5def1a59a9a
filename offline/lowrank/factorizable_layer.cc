#include "offline/lowrank/factorizable_layer.h"

#include <cstring>

#include "polyhead/internal/half_scales.h"

namespace polyhead::lowrank {
namespace {

bool plain_float(const schema::Tensor& t) {
  return t.type() == schema::ElementType::F32 &&
         (!t.quantization() || internal::quantization_scale_count(*t.quantization()) == 0);
}

// A 1x1 convolution that is a matrix product per pixel: stride 1, one group, no padding (any
// dilation is moot for a 1x1 kernel).
bool pointwise(const schema::Node& node, const flatbuffers::Vector<int32_t>& w) {
  const schema::Conv2DOptions* o = node.options_as_Conv2DOptions();
  return o && w.size() == 4 && w.Get(1) == 1 && w.Get(2) == 1 && o->stride_h() == 1 &&
         o->stride_w() == 1 && o->groups() == 1 && o->pad_top() == 0 && o->pad_left() == 0 &&
         o->pad_bottom() == 0 && o->pad_right() == 0;
}

}  // namespace

std::vector<FactorizableLayer> find_factorizable_layers(const merge::SourceGraph& g) {
  std::vector<FactorizableLayer> layers;
  for (int n : g.order) {
    const schema::Node& node = g.node(n);
    const bool fc = node.op() == schema::OpKind::FULLY_CONNECTED;
    if (!fc && node.op() != schema::OpKind::CONV_2D) continue;
    if (node.inputs()->size() < 2 || node.outputs()->size() != 1) continue;
    const int x = node.inputs()->Get(0), w = node.inputs()->Get(1), y = node.outputs()->Get(0);
    if (x < 0 || w < 0 || !g.is_constant(w) || g.is_constant(x)) continue;
    if (!plain_float(g.tensor(x)) || !plain_float(g.tensor(w)) || !plain_float(g.tensor(y)))
      continue;
    const auto& ws = *g.tensor(w).shape();
    if (fc ? ws.size() != 2 : !pointwise(node, ws)) continue;
    FactorizableLayer l;
    l.node = n;
    l.weight = w;
    l.name = g.node_name(n);
    l.op = node.op();
    l.out_channels = ws.Get(0);
    l.in_channels = ws.Get(ws.size() - 1);
    if (l.full_rank() < 2) continue;
    const size_t values = static_cast<size_t>(l.out_channels) * static_cast<size_t>(l.in_channels);
    if (g.constant_size(w) != values * sizeof(float)) continue;
    uint64_t elements = 1;
    for (int32_t d : *g.tensor(y).shape()) elements *= static_cast<uint64_t>(d);
    l.positions = elements / static_cast<uint64_t>(l.out_channels);
    layers.push_back(std::move(l));
  }
  return layers;
}

std::vector<double> weight_matrix(const merge::SourceGraph& g, const FactorizableLayer& layer) {
  const size_t count =
      static_cast<size_t>(layer.out_channels) * static_cast<size_t>(layer.in_channels);
  std::vector<float> w(count);
  // [O][I] and [O][1][1][I] are the same bytes; copied since a constant need not be aligned
  // for float in every file this may read.
  std::memcpy(w.data(), g.constant_data(layer.weight), count * sizeof(float));
  return std::vector<double>(w.begin(), w.end());
}

std::string layer_kind(const FactorizableLayer& layer) {
  return layer.op == schema::OpKind::FULLY_CONNECTED ? "FULLY_CONNECTED" : "CONV_2D 1x1";
}

}  // namespace polyhead::lowrank
