// The layers `polyhead lowrank` can factorize: float FULLY_CONNECTED nodes and 1x1 CONV_2D nodes
// with stride 1, one group and no padding, which both compute y = W x + b per output position
// with a constant weight matrix W [O][I]. Such a layer can become two thinner ones of the same
// kind (factorized_writer.h); any other convolution mixes neighbouring positions and cannot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "offline/graph/source_graph.h"

namespace polyhead::lowrank {

struct FactorizableLayer {
  int node = -1;    // in the source graph
  int weight = -1;  // its weight tensor
  std::string name;
  schema::OpKind op = schema::OpKind::FULLY_CONNECTED;
  int out_channels = 0, in_channels = 0;  // O and I
  uint64_t positions = 0;                 // output positions: the output's elements / O

  int full_rank() const { return out_channels < in_channels ? out_channels : in_channels; }
  uint64_t macs() const {
    return positions * static_cast<uint64_t>(out_channels) * static_cast<uint64_t>(in_channels);
  }
  // The MACs of the two layers of rank `rank` that replace it.
  uint64_t macs_at_rank(int rank) const {
    return positions * static_cast<uint64_t>(rank) *
           static_cast<uint64_t>(out_channels + in_channels);
  }
};

// The factorizable layers of `g`, in execution order. A layer qualifies when its input, output
// and constant weights are F32 without quantization and min(O, I) >= 2.
std::vector<FactorizableLayer> find_factorizable_layers(const merge::SourceGraph& g);

// The layer's weights as a row-major O x I matrix in double.
std::vector<double> weight_matrix(const merge::SourceGraph& g, const FactorizableLayer& layer);

// "FULLY_CONNECTED" / "CONV_2D 1x1" for tables and messages.
std::string layer_kind(const FactorizableLayer& layer);

}  // namespace polyhead::lowrank
