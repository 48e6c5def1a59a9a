// Constants by content: two constant tensors, in the same model or in different ones, get the same
// class when their element type, shape, quantization and bytes are equal (names do not matter).
// Bytes are hashed first and compared in full only on a hash match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "offline/graph/source_graph.h"

namespace polyhead::merge {

class ConstantPool {
 public:
  // The class of constant tensor `t` of `graphs[model]`.
  int intern(const std::vector<SourceGraph>& graphs, size_t model, int t);

  size_t size() const { return classes_.size(); }
  const uint8_t* data(int cls) const { return classes_[static_cast<size_t>(cls)].data; }
  uint64_t bytes(int cls) const { return classes_[static_cast<size_t>(cls)].size; }
  // The first tensor that was found with this content.
  std::pair<size_t, int> first(int cls) const {
    const Class& c = classes_[static_cast<size_t>(cls)];
    return {c.model, c.tensor};
  }

 private:
  struct Class {
    std::string signature;  // element type, shape and quantization
    const uint8_t* data;
    uint64_t size;
    size_t model;
    int tensor;
  };
  std::vector<Class> classes_;
  std::unordered_multimap<uint64_t, int> by_hash_;
  std::unordered_map<uint64_t, int> memo_;  // (model << 32 | tensor) -> class
};

// Type, shape and quantization of a tensor as bytes (equal bytes: equal declarations).
std::string tensor_signature(const schema::Tensor& t);

}  // namespace polyhead::merge
