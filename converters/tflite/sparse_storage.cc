#include "converters/tflite/sparse_storage.h"

namespace polyhead::tflite {

std::optional<SparseStorage> choose_sparse_storage(const float* w, size_t rows, size_t cols) {
  if (rows == 0 || cols == 0) return std::nullopt;
  std::optional<SparseStorage> best;
  for (int block_rows : {8, 4, 2, 1}) {
    const size_t br = static_cast<size_t>(block_rows);
    if (rows % br != 0) continue;
    SparseStorage s;
    s.block_rows = block_rows;
    for (size_t r0 = 0; r0 < rows; r0 += br)
      for (size_t c = 0; c < cols; ++c) {
        bool nonzero = false;
        for (size_t r = r0; r < r0 + br && !nonzero; ++r) nonzero = w[r * cols + c] != 0.f;
        s.stored_blocks += nonzero ? 1 : 0;
      }
    s.bytes = 4 * (s.stored_blocks * br + s.stored_blocks + rows / br + 1);
    s.density = static_cast<double>(s.stored_blocks * br) / static_cast<double>(rows * cols);
    // Largest blocks first: a later shape must be strictly smaller to win.
    if (!best || s.bytes < best->bytes) best = s;
  }
  if (!best || static_cast<double>(best->bytes) > kMaxSparseBytesRatio * 4.0 * rows * cols)
    return std::nullopt;
  return best;
}

}  // namespace polyhead::tflite
