// Small ONNX models written in C++ with the protobuf API (libonnx-dev's onnx_proto), for the ONNX
// importer's tests: no Python, no generated files. Compile support/onnx_builder.cc into the test
// and link onnx_proto (it brings ONNX_NAMESPACE=onnx and ONNX_ML=1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace polyhead::testing {

// One dimension of a graph input: a number, or a symbolic name ("N") when `symbol` is set.
struct OnnxDim {
  OnnxDim(int64_t v) : value(v) {}       // NOLINT(google-explicit-constructor): {1, 3, 8, 8}
  OnnxDim(const char* s) : symbol(s) {}  // NOLINT(google-explicit-constructor): {"N", 3, 8, 8}
  int64_t value = 0;
  std::string symbol;
};

class OnnxModel {
 public:
  // A model importing `opset` of the default domain (ir_version 7).
  explicit OnnxModel(int opset = 13);

  onnx::ModelProto& proto() { return model_; }
  const onnx::ModelProto& proto() const { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  // A float32 graph input.
  void input(const std::string& name, const std::vector<OnnxDim>& dims);
  // A graph output (name only: the importer infers shapes).
  void output(const std::string& name);
  // Float32 and int64 initializers (typed fields).
  onnx::TensorProto* initializer(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<float>& values);
  onnx::TensorProto* initializer_i64(const std::string& name, const std::vector<int64_t>& dims,
                                     const std::vector<int64_t>& values);
  // A node of the default domain; its name is `name` (empty: unnamed).
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "");

  std::vector<uint8_t> bytes() const;

 private:
  onnx::ModelProto model_;
};

// Attributes.
void attr_int(onnx::NodeProto* n, const std::string& name, int64_t v);
void attr_float(onnx::NodeProto* n, const std::string& name, float v);
void attr_ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v);
void attr_string(onnx::NodeProto* n, const std::string& name, const std::string& v);
// A tensor-valued attribute (Constant's `value`), float32.
void attr_tensor(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& dims,
                 const std::vector<float>& values);

}  // namespace polyhead::testing
