// The reference of the block-sparse GEMM (reference.h): the arithmetic order every variant of
// SparseGemmF32 reproduces bit for bit.
#include <algorithm>
#include <cmath>

#include "polyhead/kernels/reference.h"

namespace polyhead::kernels::reference {

void sparse_gemm_f32(size_t m, const float* a, size_t a_stride, const SparseMatrix& w,
                     const float* bias, float min, float max, float* out, size_t out_stride) {
  const size_t br = w.block_rows, bc = w.block_cols;
  for (size_t p = 0; p < m; ++p) {
    const float* x = a + p * a_stride;
    float* y = out + p * out_stride;
    for (size_t r = 0; r < w.rows / br; ++r)
      for (size_t i = 0; i < br; ++i) {
        const size_t o = r * br + i;
        float acc = bias ? bias[o] : 0.f;
        // Blocks are in increasing block column and a block's columns are consecutive, so this
        // walks the row's stored weights in increasing column.
        for (uint32_t b = w.row_starts[r]; b < w.row_starts[r + 1]; ++b) {
          const float* v = w.values + static_cast<size_t>(b) * br * bc + i * bc;
          const float* xq = x + static_cast<size_t>(w.block_columns[b]) * bc;
          for (size_t j = 0; j < bc; ++j) acc = std::fma(xq[j], v[j], acc);
        }
        y[o] = std::min(std::max(acc, min), max);
      }
  }
}

}  // namespace polyhead::kernels::reference
