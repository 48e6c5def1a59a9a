// Unstructured pruning: the layers it prunes and the pruning itself. Blocks of the weight matrix
// (output channels x flattened rest) are zeroed by magnitude and the weight is stored block-sparse
// (EditTensor::sparse_block_rows/cols), in the blocks the sparse kernel runs: block_rows output
// channels (8, 4, 2 or 1: the largest dividing the output channels) by 1 input column.
//
// Pruned: float 1x1 convolutions with one group and float fully connected layers whose weight is
// a constant read by that node only. Those are what the sparse kernel runs (kernels/
// sparse_choice.h) and, in MobileNet-style models, nearly all the weights. Other convolutions
// (3x3, depthwise, grouped, transposed) are left dense: the runtime would expand sparse weights
// back to dense for them, so they would gain only file size, and their few weights per output
// (9 for a depthwise filter) are the ones pruning hurts most.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/prune/channel_means.h"
#include "offline/quantize/model_writer.h"

namespace polyhead::prune {

// The rows of the sparse kernel's blocks for a weight of `rows` output channels: 8, 4, 2 or 1,
// the largest that divides `rows`.
int sparse_block_rows(int rows);

struct BlockLayer {
  int node = -1;
  std::string name, op;
  int weights = -1;   // the weight tensor
  std::string shape;  // of the weight, "[32,1,1,96]"
  size_t rows = 0, cols = 0;
  int block_rows = 1;

  size_t blocks() const { return rows / static_cast<size_t>(block_rows) * cols; }
  size_t weight_count() const { return rows * cols; }
};

// A convolution or fully connected layer the pruner leaves alone, and why.
struct LayerSkip {
  std::string node, op, reason;
};

struct BlockLayers {
  std::vector<BlockLayer> layers;  // in execution order
  std::vector<LayerSkip> skipped;  // the other CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV_2D
                                   // and FULLY_CONNECTED nodes
};

BlockLayers find_block_layers(const merge::SourceGraph& g);

// A copy of `g`'s model in which layer i has its removed_blocks[i] smallest blocks (by L2 norm)
// zeroed and its weight stored block-sparse where that takes fewer bytes than dense (the block
// index costs 4 bytes a block: not at low sparsity with short blocks); layers with 0 are left as
// they are. With `means`
// (per tensor, per channel), what the zeroed weights took away on average goes into the layer's
// bias (bias_correction.h).
quantize::EditModel prune_blocks(const merge::SourceGraph& g, const std::vector<BlockLayer>& layers,
                                 const std::vector<size_t>& removed_blocks,
                                 const ChannelMeans* means = nullptr);

}  // namespace polyhead::prune
