#include "offline/prune/magnitude.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace polyhead::prune {

std::vector<double> block_norms(const float* w, size_t rows, size_t cols, size_t block_rows) {
  const size_t block_count = block_rows ? rows / block_rows : 0;
  std::vector<double> norms(block_count * cols, 0.0);
  for (size_t r = 0; r < block_count * block_rows; ++r) {
    double* out = norms.data() + (r / block_rows) * cols;
    const float* row = w + r * cols;
    for (size_t c = 0; c < cols; ++c) out[c] += static_cast<double>(row[c]) * row[c];
  }
  for (double& n : norms) n = std::sqrt(n);
  return norms;
}

std::vector<double> row_norms(const float* w, size_t rows, size_t cols) {
  std::vector<double> norms(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (size_t c = 0; c < cols; ++c) sum += static_cast<double>(w[r * cols + c]) * w[r * cols + c];
    norms[r] = std::sqrt(sum);
  }
  return norms;
}

std::vector<size_t> smallest(const std::vector<double>& values, size_t count) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  count = std::min(count, order.size());
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  order.resize(count);
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace polyhead::prune
