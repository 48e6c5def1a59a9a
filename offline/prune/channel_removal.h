// Structured pruning applied: the chosen classes of channels (channel_ties.h) leave the model.
// Tensors shrink in their last dimension, constants are cut along the dimension their slice
// names, depthwise groups and channel padding follow, and constants no node reads any more are
// dropped. Model inputs and task outputs never hold a removable channel, so they keep theirs.
#pragma once

#include <cstddef>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/prune/channel_means.h"
#include "offline/prune/channel_ties.h"
#include "offline/quantize/model_writer.h"
#include "polyhead/result.h"

namespace polyhead::prune {

// Per class root (an atom index), whether it goes: unit u loses its removed[u] lowest-scoring
// removable classes (ties by channel order). A tensor never loses its last channel: where a
// choice would empty one, the best-scoring class it holds is given back.
std::vector<bool> choose_removed_classes(const ChannelTies& ties,
                                         const std::vector<size_t>& removed_per_unit);

// A copy of `g`'s model without the channels of the classes with removed[root]. With `means` (per
// tensor, per channel), each convolution (one group) or fully connected layer that loses input
// channels gets what they added on average in its bias (bias_correction.h).
Result<quantize::EditModel> remove_channels(const merge::SourceGraph& g, const ChannelTies& ties,
                                            const std::vector<bool>& removed,
                                            const ChannelMeans* means = nullptr);

}  // namespace polyhead::prune
