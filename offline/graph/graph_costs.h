// Per-node costs read from a loaded model's FlatBuffer (the public API does not expose the graph):
// the multiply-accumulates of each node, its shapes and the constant tensors it reads, for
// `polyhead inspect`, `polyhead bench` and the compression reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"

namespace polyhead::graph {

struct NodeCost {
  std::string name;
  std::string op;                    // "CONV_2D"
  uint64_t macs = 0;                 // of the stored weights only, where they are block-sparse
  std::vector<int> constants;        // tensor indices of the constant inputs
  std::vector<Shape> input_shapes;   // per input, empty for an absent optional one
  std::vector<Shape> output_shapes;  // per output
};

struct GraphCosts {
  std::vector<NodeCost> nodes;           // in file order
  std::vector<uint64_t> constant_bytes;  // per tensor; 0 for non-constant tensors
};

// Costs every node of a loaded (so already validated) model with the kernels' shape rules.
Result<GraphCosts> read_graph_costs(const Model& model);

// Maps node names as Plan::node_names lists them to indices into GraphCosts::nodes; a repeated
// name maps to its k-th occurrence, in the same order the plan lists them.
Result<std::vector<size_t>> resolve_nodes(const std::vector<std::string>& names,
                                          const GraphCosts& costs);

}  // namespace polyhead::graph
