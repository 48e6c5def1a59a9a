#include "eval/tensor_metrics.h"

#include <algorithm>
#include <cmath>

namespace polyhead::compare {

void TensorDifference::add(const float* teacher, const float* student, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const double a = teacher[i], b = student[i];
    const double d = std::abs(a - b);
    abs_error_sum += d;
    // NaN must not hide behind max(): a non-finite difference makes the maximum NaN.
    abs_error_max = std::isnan(d) || std::isnan(abs_error_max) ? NAN : std::max(abs_error_max, d);
    dot += a * b;
    teacher_norm2 += a * a;
    student_norm2 += b * b;
  }
}

double TensorDifference::cosine() const {
  if (teacher_norm2 == 0 && student_norm2 == 0) return 1;
  if (teacher_norm2 == 0 || student_norm2 == 0) return 0;
  return dot / std::sqrt(teacher_norm2 * student_norm2);
}

}  // namespace polyhead::compare
