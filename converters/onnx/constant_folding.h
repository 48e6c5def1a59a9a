// Evaluates an ONNX node whose inputs are all constants, at conversion time. Exported PyTorch
// graphs compute reshape targets with Shape/Gather/Unsqueeze/Concat chains; on static shapes those
// are constants, so they never reach the runtime. Also folds constant weight preparation
// (Transpose, Cast, arithmetic on initializers).
#pragma once

#include <string>
#include <vector>

#include "converters/onnx/node_attributes.h"
#include "converters/onnx/onnx_tensor.h"
#include "polyhead/result.h"

namespace polyhead::onnx_import {

// True when fold() knows `op_type`.
bool is_foldable(const std::string& op_type);

// The node's outputs; `inputs` has null entries for absent optional inputs.
Result<std::vector<ConstTensor>> fold(const std::string& op_type, const NodeAttributes& attrs,
                                      const std::vector<const ConstTensor*>& inputs, int opset);

// NumPy broadcasting of two shapes; an error names `where`.
Result<std::vector<int64_t>> broadcast_dims(const std::vector<int64_t>& a,
                                            const std::vector<int64_t>& b,
                                            const std::string& where);

// Reshape target with ONNX's 0 (copy) and -1 (infer) resolved against `input` dims.
Result<std::vector<int64_t>> resolve_reshape(const std::vector<int64_t>& input,
                                             const std::vector<int64_t>& target, bool allow_zero,
                                             const std::string& where);

// A copy of `t` with its dimensions permuted (out dim d = in dim perm[d]).
ConstTensor transpose_tensor(const ConstTensor& t, const std::vector<int>& perm);

}  // namespace polyhead::onnx_import
