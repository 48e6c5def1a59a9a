// How weights that a TFLite file stores sparse are kept sparse in the .phm (schema/phm.fbs,
// SparseLayout): the block shape, and whether storing them sparse is worth it at all.
#pragma once

#include <cstddef>
#include <optional>

namespace polyhead::tflite {

// Sparse storage must take at most this fraction of the dense weights' bytes.
constexpr double kMaxSparseBytesRatio = 0.75;

struct SparseStorage {
  int block_rows = 1, block_cols = 1;
  size_t stored_blocks = 0;  // blocks holding a nonzero
  size_t bytes = 0;          // values, block columns and row starts, 4 bytes each
  double density = 1;        // stored values over dense values
};

// For the dense [rows][cols] weights `w`: the block shape (block_cols 1, block_rows 8, 4, 2 or 1
// dividing rows) whose block-CSR form takes the fewest bytes (the zeros stored inside blocks
// against an index per block: the shape that keeps the most zeros out of storage for what its
// index costs; on a tie the larger block, which the sparse kernel runs faster), when that form
// takes at most kMaxSparseBytesRatio of the dense bytes; nothing otherwise.
std::optional<SparseStorage> choose_sparse_storage(const float* w, size_t rows, size_t cols);

}  // namespace polyhead::tflite
