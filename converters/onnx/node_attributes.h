// Typed access to an ONNX node's attributes. Every operator converter declares the attributes it
// understands: an attribute it does not know is an error, so a model never converts with a
// setting silently ignored.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "converters/onnx/onnx_tensor.h"
#include "polyhead/result.h"

namespace onnx {
class NodeProto;
class AttributeProto;
}  // namespace onnx

namespace polyhead::onnx_import {

class NodeAttributes {
 public:
  explicit NodeAttributes(const onnx::NodeProto& node) : node_(node) {}

  // "node 'conv1' (Conv)", for messages.
  std::string where() const;
  // An error when the node has an attribute outside `known`.
  Status only(std::initializer_list<const char*> known) const;

  bool has(const char* name) const { return find(name) != nullptr; }
  Result<int64_t> get_int(const char* name, int64_t fallback) const;
  Result<float> get_float(const char* name, float fallback) const;
  Result<std::string> get_string(const char* name, const std::string& fallback) const;
  Result<std::vector<int64_t>> get_ints(const char* name,
                                        const std::vector<int64_t>& fallback) const;
  Result<ConstTensor> get_tensor(const char* name) const;

  // An error saying attribute `name` has an unsupported value.
  Status unsupported(const char* name, const std::string& value, const std::string& why) const;

 private:
  const onnx::AttributeProto* find(const char* name) const;
  Status wrong_type(const char* name, const char* expected) const;
  const onnx::NodeProto& node_;
};

}  // namespace polyhead::onnx_import
