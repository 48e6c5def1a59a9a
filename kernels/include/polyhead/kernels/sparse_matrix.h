// SparseMatrix: a block-sparse (block-CSR) view of a constant weight matrix, as stored in a .phm
// file (schema/phm.fbs, SparseLayout) and read in place from it. Rows are output channels,
// columns the flattened rest of the weight (input channels for 1x1 convolutions and fully
// connected layers), so the dense form is the usual [rows][cols] weight.
#pragma once

#include <cstddef>
#include <cstdint>

namespace polyhead::kernels {

struct SparseMatrix {
  size_t rows = 0, cols = 0;              // of the dense matrix
  size_t block_rows = 1, block_cols = 1;  // divide rows and cols exactly
  // rows / block_rows + 1 entries: block row r's blocks are [row_starts[r], row_starts[r + 1]).
  const uint32_t* row_starts = nullptr;
  // row_starts[last] entries: the block column of each stored block, increasing within a row.
  const uint32_t* block_columns = nullptr;
  // row_starts[last] blocks of block_rows x block_cols floats, each row-major.
  const float* values = nullptr;

  size_t block_count() const { return row_starts ? row_starts[rows / block_rows] : 0; }
  // Stored values over dense values: 1 for a dense matrix stored this way.
  double density() const {
    return rows * cols == 0 ? 0.0
                            : static_cast<double>(block_count() * block_rows * block_cols) /
                                  static_cast<double>(rows * cols);
  }
};

// Writes the dense [rows][cols] form of `m` to `dense` (zeros where no block is stored).
void densify(const SparseMatrix& m, float* dense);

}  // namespace polyhead::kernels
