// Weight magnitudes the pruner ranks by: the L2 norm of each block of a weight matrix (unstructured
// pruning) and of each output channel's filter (structured pruning), and the selection of the
// smallest ones. A weight of shape [O, ...] is read as the matrix O x (product of the rest), the
// way the sparse layout (schema/phm.fbs, SparseLayout) reads it.
#pragma once

#include <cstddef>
#include <vector>

namespace polyhead::prune {

// The L2 norm of every block of `block_rows` x 1 of the row-major `rows` x `cols` matrix `w`,
// block row by block row, each by column: entry (r / block_rows) * cols + c.
std::vector<double> block_norms(const float* w, size_t rows, size_t cols, size_t block_rows);

// The L2 norm of each row (one output channel's filter) of the `rows` x `cols` matrix `w`.
std::vector<double> row_norms(const float* w, size_t rows, size_t cols);

// The indices of the `count` smallest values, in increasing index order. Equal values go by
// index (the lower first), so the choice never depends on the sort's whims.
std::vector<size_t> smallest(const std::vector<double>& values, size_t count);

}  // namespace polyhead::prune
