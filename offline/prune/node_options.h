// Options tables with one field changed, for the nodes structured pruning resizes: a depthwise
// convolution's groups (its channel count) and a PAD's padding of the channel dimension. The
// writer copies a node's options from a schema::Node (quantize::EditNode::options_from), so each
// changed table is a small Node FlatBuffer of its own, kept alive in the EditModel's storage.
#pragma once

#include "offline/quantize/model_writer.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::prune {

// `from` (Conv2DOptions) with groups = `groups`.
const schema::Node* with_groups(quantize::EditModel& m, const schema::Node& from, int groups);

// `from` (PadOptions) with the last dimension padded by `before` and `after`.
const schema::Node* with_channel_pad(quantize::EditModel& m, const schema::Node& from, int before,
                                     int after);

}  // namespace polyhead::prune
