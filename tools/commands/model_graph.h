// Per-node costs read from a loaded model's FlatBuffer (the public API does not expose the graph):
// the multiply-accumulates of each node and the constant tensors it reads, for `polyhead inspect`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::cli {

struct NodeCost {
  std::string name;
  std::string op;  // "CONV_2D"
  uint64_t macs = 0;
  std::vector<int> constants;  // tensor indices of the constant inputs
};

struct GraphCosts {
  std::vector<NodeCost> nodes;           // in file order
  std::vector<uint64_t> constant_bytes;  // per tensor; 0 for non-constant tensors
};

// Costs every node of a loaded (so already validated) model with the kernels' shape rules.
Result<GraphCosts> read_graph_costs(const Model& model);

}  // namespace polyhead::cli
