// Row-major index arithmetic shared by the test references.
#pragma once

#include <cstdint>

#include "polyhead/tensor.h"

namespace polyhead::testing {

// Index of element `coords` in a dense row-major tensor of shape `s`.
inline int64_t flat_index(const Shape& s, const int64_t* coords) {
  int64_t i = 0;
  for (size_t d = 0; d < s.rank(); ++d) i = i * s[d] + coords[d];
  return i;
}

// Coordinates of flat index `i` in shape `s`.
inline void unravel(int64_t i, const Shape& s, int64_t* coords) {
  for (size_t d = s.rank(); d-- > 0;) {
    coords[d] = i % s[d];
    i /= s[d];
  }
}

}  // namespace polyhead::testing
