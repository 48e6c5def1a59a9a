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

// The node's outputs; `inputs` has null entries for absent optional inputs. `outputs` is the
// node's output count (Split makes that many parts).
Result<std::vector<ConstTensor>> fold(const std::string& op_type, const NodeAttributes& attrs,
                                      const std::vector<const ConstTensor*>& inputs, int opset,
                                      int outputs = 1);

// NumPy broadcasting of two shapes; an error names `where`.
Result<std::vector<int64_t>> broadcast_dims(const std::vector<int64_t>& a,
                                            const std::vector<int64_t>& b,
                                            const std::string& where);

// Reshape target with ONNX's 0 (copy) and -1 (infer) resolved against `input` dims.
Result<std::vector<int64_t>> resolve_reshape(const std::vector<int64_t>& input,
                                             const std::vector<int64_t>& target, bool allow_zero,
                                             const std::string& where);

// The values of an index tensor (starts, ends, axes, indices) as integers; float values are
// truncated and saturated to int64, never converted out of range.
std::vector<int64_t> int_values(const ConstTensor& t);

// An ONNX Slice resolved against a tensor of `dims`, per dimension: the first index read, the
// number of elements (0 when the window is empty) and the step. Out-of-range starts and ends are
// clamped as the ONNX specification says; dimensions `axes` does not name are taken whole.
struct SliceWindow {
  std::vector<int64_t> begin, count, step;
};
// `axes` and `steps` may be null. Errors (starts/ends/axes/steps lengths that differ, an axis
// out of range or repeated, a step of 0) name `where`.
Result<SliceWindow> resolve_slice(const std::vector<int64_t>& dims, const ConstTensor& starts,
                                  const ConstTensor& ends, const ConstTensor* axes,
                                  const ConstTensor* steps, const std::string& where);

// The sizes of an ONNX Split of a dimension of `extent` into `outputs` parts: `split` when given
// (their sum must be `extent`), else equal parts (`extent` divisible by `outputs`).
Result<std::vector<int64_t>> split_sizes(int64_t extent, size_t outputs,
                                         const std::vector<int64_t>* split,
                                         const std::string& where);

// A copy of `t` with its dimensions permuted (out dim d = in dim perm[d]).
ConstTensor transpose_tensor(const ConstTensor& t, const std::vector<int>& perm);

}  // namespace polyhead::onnx_import
