#include "polyhead/internal/block_sparse.h"

namespace polyhead::internal {

namespace {

bool block_has_nonzero(const float* dense, size_t cols, size_t row0, size_t col0, size_t br,
                       size_t bc) {
  for (size_t i = 0; i < br; ++i)
    for (size_t j = 0; j < bc; ++j)
      if (dense[(row0 + i) * cols + col0 + j] != 0.f) return true;
  return false;
}

bool divides(size_t rows, size_t cols, size_t br, size_t bc) {
  return br > 0 && bc > 0 && rows % br == 0 && cols % bc == 0;
}

}  // namespace

Result<BlockSparse> encode_block_sparse(const float* dense, size_t rows, size_t cols,
                                        size_t block_rows, size_t block_cols,
                                        const std::string& what) {
  if (!divides(rows, cols, block_rows, block_cols))
    return Status(ErrorCode::kInvalidArgument, what + ": blocks of " + std::to_string(block_rows) +
                                                   "x" + std::to_string(block_cols) +
                                                   " do not divide its " + std::to_string(rows) +
                                                   "x" + std::to_string(cols) + " matrix");
  if (cols / block_cols > UINT32_MAX || rows * cols > UINT32_MAX)
    return Status(ErrorCode::kInvalidArgument, what + ": too large to store block-sparse (" +
                                                   std::to_string(rows) + "x" +
                                                   std::to_string(cols) + ")");
  BlockSparse s;
  s.block_rows = block_rows;
  s.block_cols = block_cols;
  s.row_starts.reserve(rows / block_rows + 1);
  s.row_starts.push_back(0);
  for (size_t r = 0; r < rows; r += block_rows) {
    for (size_t c = 0; c < cols; c += block_cols) {
      if (!block_has_nonzero(dense, cols, r, c, block_rows, block_cols)) continue;
      s.block_columns.push_back(static_cast<uint32_t>(c / block_cols));
      for (size_t i = 0; i < block_rows; ++i)
        for (size_t j = 0; j < block_cols; ++j) s.values.push_back(dense[(r + i) * cols + c + j]);
    }
    s.row_starts.push_back(static_cast<uint32_t>(s.block_columns.size()));
  }
  return s;
}

size_t block_sparse_stored_values(const float* dense, size_t rows, size_t cols, size_t block_rows,
                                  size_t block_cols) {
  if (!divides(rows, cols, block_rows, block_cols)) return 0;
  size_t blocks = 0;
  for (size_t r = 0; r < rows; r += block_rows)
    for (size_t c = 0; c < cols; c += block_cols)
      blocks += block_has_nonzero(dense, cols, r, c, block_rows, block_cols) ? 1 : 0;
  return blocks * block_rows * block_cols;
}

}  // namespace polyhead::internal
