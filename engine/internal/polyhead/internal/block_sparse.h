// Block-sparse encoding of a dense float matrix (docs/format.md, "Sparse constants"): the form in
// which a .phm file stores a constant with a SparseLayout. The writer encodes with it; tools use
// it to see how much a block shape would store before choosing one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/result.h"

namespace polyhead::internal {

struct BlockSparse {
  size_t block_rows = 1, block_cols = 1;
  std::vector<uint32_t> row_starts;     // rows / block_rows + 1 entries
  std::vector<uint32_t> block_columns;  // one per stored block
  std::vector<float> values;            // the stored blocks, each row-major
};

// Keeps the blocks of `dense` [rows][cols] that hold a nonzero (-0.0 counts as zero: it adds
// nothing). Fails (kInvalidArgument, naming `what`) when the block does not divide the matrix.
Result<BlockSparse> encode_block_sparse(const float* dense, size_t rows, size_t cols,
                                        size_t block_rows, size_t block_cols,
                                        const std::string& what);

// The values a block shape would store (0 when it does not divide the matrix).
size_t block_sparse_stored_values(const float* dense, size_t rows, size_t cols, size_t block_rows,
                                  size_t block_cols);

}  // namespace polyhead::internal
