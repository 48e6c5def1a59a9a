// One model to merge, read from its (already verified and validated) FlatBuffer: who writes each
// tensor, which tensors are model inputs or constants, and its nodes in topological order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::merge {

struct SourceGraph {
  const schema::Model* root = nullptr;
  const uint8_t* file = nullptr;
  std::string source;               // how messages name the model: its file path or "model 2"
  std::vector<int> producer;        // per tensor: the node writing it, -1 for none
  std::vector<int> input_position;  // per tensor: its index in Model.inputs, -1 for none
  std::vector<int> order;           // node indices, producers before readers

  const schema::Tensor& tensor(int t) const { return *root->tensors()->Get(index(t)); }
  const schema::Node& node(int n) const { return *root->nodes()->Get(index(n)); }
  std::string tensor_name(int t) const { return tensor(t).name()->str(); }
  std::string node_name(int n) const { return node(n).name()->str(); }
  bool is_constant(int t) const { return tensor(t).buffer() != 0; }
  // The dense bytes of a constant tensor: read in place from the file, or for a constant the file
  // stores block-sparse or as int16, its expanded or widened copy (made when the graph was read).
  const uint8_t* constant_data(int t) const;
  size_t constant_size(int t) const;

 private:
  friend Result<SourceGraph> read_source_graph(const Model& model, const std::string& source);
  // Per tensor: the dense bytes of a constant the file stores block-sparse (floats) or as int16
  // (widened to int32), else null. Shared, so copies of the graph stay cheap and their pointers
  // stay valid.
  std::vector<std::shared_ptr<const std::vector<uint8_t>>> decoded_;

  static flatbuffers::uoffset_t index(int i) { return static_cast<flatbuffers::uoffset_t>(i); }
};

// "[1,224,224,3]"
std::string shape_text(const schema::Tensor& t);

// Reads `model`, which must outlive the returned graph (it points into the model's bytes).
Result<SourceGraph> read_source_graph(const Model& model, const std::string& source);

}  // namespace polyhead::merge
