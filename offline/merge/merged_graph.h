// The graph of a merged model before it is written: every tensor and node points back to the source
// model it is copied from, and every node lists the source models that contain it (one model: part
// of that model's head; two or more: shared, computed once).
#pragma once

#include <cstddef>
#include <vector>

namespace polyhead::merge {

struct MergedTensor {
  size_t model = 0;   // the source model its name, shape, type and quantization come from
  int source = -1;    // tensor index in that model
  int constant = -1;  // ConstantPool class of its bytes; -1 when not constant
  int producer = -1;  // the merged node writing it; -1 for model inputs and constants
};

struct MergedNode {
  size_t model = 0;         // the source model it is copied from (the first that contains it)
  int source = -1;          // node index in that model
  std::vector<int> inputs;  // merged tensors; -1 for an absent optional input
  std::vector<int> outputs;
  std::vector<size_t> users;  // the source models that contain it, ascending
  bool shareable = true;      // may other models' nodes match it (false past --split-at)
};

struct MergedGraph {
  std::vector<MergedTensor> tensors;
  std::vector<MergedNode> nodes;  // producers before readers
  std::vector<int> inputs;        // merged tensor of each model input (the first model's)
  // Per source model: the merged tensor of each of its tensors (-1: a constant no node reads) and
  // the merged node of each of its nodes.
  std::vector<std::vector<int>> tensor_map;
  std::vector<std::vector<int>> node_map;
};

}  // namespace polyhead::merge
