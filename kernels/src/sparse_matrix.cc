#include "polyhead/kernels/sparse_matrix.h"

#include <cstring>

namespace polyhead::kernels {

void densify(const SparseMatrix& m, float* dense) {
  std::memset(dense, 0, m.rows * m.cols * sizeof(float));
  const size_t block = m.block_rows * m.block_cols;
  for (size_t r = 0; r < m.rows / m.block_rows; ++r) {
    for (uint32_t b = m.row_starts[r]; b < m.row_starts[r + 1]; ++b) {
      const float* v = m.values + static_cast<size_t>(b) * block;
      const size_t col0 = static_cast<size_t>(m.block_columns[b]) * m.block_cols;
      for (size_t i = 0; i < m.block_rows; ++i)
        for (size_t j = 0; j < m.block_cols; ++j)
          dense[(r * m.block_rows + i) * m.cols + col0 + j] = v[i * m.block_cols + j];
    }
  }
}

}  // namespace polyhead::kernels
