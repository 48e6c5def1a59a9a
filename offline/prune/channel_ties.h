// Structured pruning's view of a model: which output channels can be removed together. Every
// channel of every non-constant tensor is an *atom*; the operators that keep channels apart
// (activations, pooling, resizing, MEAN, PRELU, a depthwise convolution) give their output the
// input's atoms, those that line channels up (ADD, SUB, MUL, DIV with equal channel counts,
// CONCATENATION along another axis) tie them, one by one, into *classes*, a CONCATENATION along
// the channels puts its inputs' atoms one after another (the offset bookkeeping), a channel PAD
// adds atoms of its own, and each convolution or fully connected layer with one group (a
// *producer*) makes new atoms for its output channels. Removing a class removes that channel from
// every tensor holding one of its atoms: the producers' filters and biases, the depthwise
// filters, PRELU slopes and per-channel constants on the way, the padding, and the matching input
// columns of every consumer (the next convolution or fully connected layer).
//
// A class stays whole (is *pinned*) when one of its atoms is a model input's channel, reaches a
// task output, or is read by an operator that mixes or moves channels (SOFTMAX, RESHAPE,
// TRANSPOSE, SLICE, DEPTH_TO_SPACE, CHANNEL_SHUFFLE, grouped convolutions, int8 tensors, ...): the
// reason is kept for the report. The producers tied through classes form a *unit*, pruned as one
// layer: MobileNetV2's projections of one stage with their residual ADDs, a BlazeFace backbone
// whose shortcuts pad channels, a squeeze-and-excitation gate with the features it scales.
#pragma once

#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "polyhead/result.h"

namespace polyhead::prune {

struct ChannelAtom {
  int producer = -1;  // the node that made the channel (-1: a model input, PAD or other channel)
  int channel = -1;   // its output channel
};

// Node `node`'s input `slot`, a constant, loses the channels tensor `by` loses: along its first
// dimension (a producer's filters and bias, a depthwise filter) or its last (a consumer's input
// columns, a PRELU slope, a per-channel operand of ADD/MUL/...).
struct ConstantSlice {
  enum class Axis { kFirst, kLast };
  int node = -1;
  int slot = -1;
  Axis axis = Axis::kFirst;
  int by = -1;
};

// Node options that follow the channels of tensor `by` (the node's output): a depthwise
// convolution's groups, a PAD's padding of the channel dimension.
struct OptionEdit {
  enum class Kind { kGroups, kChannelPad };
  int node = -1;
  Kind kind = Kind::kGroups;
  int by = -1;
};

struct ChannelUnit {
  std::vector<int> producers;  // nodes, in execution order
  std::vector<int> classes;    // the removable classes (roots), in channel order
  std::vector<double> scores;  // per removable class: its filters' L2 norm, each producer's
                               // norms divided by their mean, averaged over its producers
  size_t channels = 0;         // classes in the unit, pinned ones included
  std::string shape;           // of the first producer's weight
};

struct ChannelSkip {
  std::vector<int> producers;
  std::string reason;
};

struct ChannelTies {
  std::vector<std::vector<int>> tensor_atoms;  // per tensor, per channel (constants: none)
  std::vector<ChannelAtom> atoms;
  std::vector<int> root;            // per atom, its class (an atom index)
  std::vector<std::string> pinned;  // per class root: why it stays (empty: it may go)
  std::vector<ConstantSlice> slices;
  std::vector<OptionEdit> option_edits;
  std::vector<ChannelUnit> units;    // units with a removable class, in execution order
  std::vector<ChannelSkip> skipped;  // units whose every class is pinned

  // The positions of tensor `t`'s channels that stay when the classes with removed[root] go.
  std::vector<int> kept(int t, const std::vector<bool>& removed) const;
};

// Fails only on a model that contradicts its own shapes (internal error).
Result<ChannelTies> tie_channels(const merge::SourceGraph& g);

}  // namespace polyhead::prune
