// Affine quantization parameters of a tensor: real = scale * (q - zero_point).
#pragma once

#include <cstdint>
#include <vector>

namespace polyhead {

struct Quantization {
  std::vector<float> scale;         // one entry (per tensor) or one per channel along `axis`
  std::vector<int32_t> zero_point;  // same count as `scale`
  int axis = -1;                    // -1: per tensor

  bool empty() const { return scale.empty(); }
  bool per_channel() const { return axis >= 0; }
  static Quantization per_tensor(float scale, int32_t zero_point) {
    return {{scale}, {zero_point}, -1};
  }
};

}  // namespace polyhead
