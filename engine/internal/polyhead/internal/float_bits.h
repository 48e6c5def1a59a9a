// A float's IEEE 754 bits and back (std::bit_cast before C++20): for code that must compare or
// build floats exactly, -0.0 and NaN payloads included.
#pragma once

#include <cstdint>
#include <cstring>

namespace polyhead::internal {

inline uint32_t float_bits(float v) {
  uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

inline float float_from_bits(uint32_t u) {
  float v = 0.f;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

}  // namespace polyhead::internal
