// Constant tensors read from an ONNX file (initializers, Constant nodes) or computed at conversion
// (folded shape sub-graphs). Floats for weights, 64-bit integers for shapes and indices; booleans
// are stored as integers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/result.h"

namespace onnx {
class TensorProto;
}

namespace polyhead::onnx_import {

struct ConstTensor {
  std::vector<int64_t> dims;
  bool is_float = true;
  std::vector<float> f;    // when is_float
  std::vector<int64_t> i;  // otherwise
  size_t size() const { return is_float ? f.size() : i.size(); }
  double at(size_t k) const { return is_float ? f[k] : static_cast<double>(i[k]); }
};

// Element count of `dims`, or an error when a dimension is negative or the count is too large.
Result<size_t> element_count(const std::vector<int64_t>& dims, const std::string& what);

// Decodes float32/float16/float64 and int8..int64/uint8/bool tensors (typed fields or raw_data);
// external data and other types are errors naming `what`.
Result<ConstTensor> decode_tensor(const onnx::TensorProto& t, const std::string& what);

ConstTensor float_tensor(std::vector<int64_t> dims, std::vector<float> values);
ConstTensor int_tensor(std::vector<int64_t> dims, std::vector<int64_t> values);

// "[1,3,224,224]"
std::string dims_text(const std::vector<int64_t>& dims);

}  // namespace polyhead::onnx_import
