// The int8 rewrite of a float model (docs/int8.md, docs/quantize.md): the chosen nodes run in
// int8 with their activations as asymmetric per-tensor I8, their weights per channel I8 and their
// bias I32; QUANTIZE and DEQUANTIZE nodes sit wherever a tensor passes between float and int8
// (one converted copy per tensor, shared by all its readers); model inputs and task outputs stay
// F32 under their names, and float weights nothing reads any more are dropped.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/quantize/activation_ranges.h"
#include "offline/quantize/model_writer.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

struct RewriteOptions {
  bool per_tensor_weights = false;  // one weight scale per tensor instead of per output channel
  // Per-channel weight scales rounded to half floats, stored in 2 bytes each
  // (weight_quantizer.h).
  bool half_weight_scales = false;
};

struct RewriteStats {
  size_t int8_nodes = 0, float_nodes = 0;  // of the source model's nodes
  size_t quantize_nodes = 0, dequantize_nodes = 0;
  size_t saturated_bias = 0;  // bias values clamped to int32
};

// `int8_node[n]` for node n (file index) of `g`: run it in int8; each must satisfy can_run_int8.
// `ranges[t]` is the calibrated range of tensor t (read for the activations and inputs that get an
// I8 version; an op in shares_input_quantization copies its input's parameters instead, and a
// fused activation or CLAMP narrows its output's range, and a tensor whose values only pass
// through a sigmoid or tanh, in the graph or as detection scores in post-processing, is clipped to
// [-8, 8], where both are already flat). The result keeps g's
// producer, description and metadata; the caller adds its own metadata before writing it.
Result<EditModel> rewrite_int8(const merge::SourceGraph& g, const std::vector<bool>& int8_node,
                               const std::vector<Range>& ranges, const RewriteOptions& options,
                               RewriteStats* stats = nullptr);

// The int8 parameters `rewrite_int8` gives tensor t: its range, narrowed by its producer's fused
// activation or CLAMP bounds (for tests and reports).
Range output_range(const merge::SourceGraph& g, int tensor, const Range& observed);

}  // namespace polyhead::quantize
