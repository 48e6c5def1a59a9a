// Whether a node with block-sparse weights runs on the sparse kernel or on the dense one (over
// weights expanded at kernel creation): decided once per node when its kernel is created, from
// the operator, its shape and the weights' density (docs/sparse.md has the measurements behind
// the break-even densities).
#pragma once

#include <string>

#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/sparse_matrix.h"
#include "polyhead/sparse_weights.h"

namespace polyhead::kernels {

// True when a sparse kernel exists for `desc` (its weight input given as `weights`): float 1x1
// convolutions with one group, stride 1 and no padding, and float fully connected layers, in
// float32 precision, with blocks of one column.
bool sparse_kernel_supports(const NodeDesc& desc, const SparseMatrix& weights);

// Why the sparse kernel cannot run `desc` (naming the option or shape and the value found), or
// an empty string when sparse_kernel_supports() is true.
std::string sparse_kernel_refusal(const NodeDesc& desc, const SparseMatrix& weights);

// The choice for `desc` under `mode`: never the sparse kernel where it cannot run the node.
bool use_sparse_kernel(const NodeDesc& desc, const SparseMatrix& weights, SparseWeights mode);

}  // namespace polyhead::kernels
