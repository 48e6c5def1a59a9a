// Raw differences between a teacher's and a student's output values, for tasks without a decoder
// (regression, embedding, other, or heads whose metadata does not say how to decode them).
#pragma once

#include <cstddef>

namespace polyhead::compare {

struct TensorDifference {
  double abs_error_sum = 0, abs_error_max = 0;
  double dot = 0, teacher_norm2 = 0, student_norm2 = 0;  // for the cosine similarity

  void add(const float* teacher, const float* student, size_t count);
  // 1 when both are all zeros, 0 when only one is.
  double cosine() const;
};

}  // namespace polyhead::compare
