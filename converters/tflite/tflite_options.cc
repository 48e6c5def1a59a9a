#include "converters/tflite/tflite_options.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "converters/tflite/status_helpers.h"

namespace polyhead::tflite {

Result<Activation> fused_activation(int code) {
  switch (code) {
    case kActNone:
    case kActTanh:  // added as a node after the operator
      return Activation::none();
    case kActRelu:
      return Activation::relu();
    case kActRelu6:
      return Activation::relu6();
    case kActReluN1To1:
      return Activation{-1.f, 1.f};
    default:
      return unsupported("fused activation " + std::to_string(code) + " is not supported");
  }
}

void same_pads(int64_t in, int64_t k, int64_t stride, int64_t dilation, int* before, int* after) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
  *before = static_cast<int>(total / 2);
  *after = static_cast<int>(total - total / 2);
}

std::vector<int64_t> ReshapeOptions::new_shape() const {
  std::vector<int64_t> dims;
  const uint8_t* data = nullptr;
  size_t n = 0;
  if (!t_.vector(0, 4, &data, &n)) return dims;
  for (size_t k = 0; k < n; ++k) {
    int32_t v;
    std::memcpy(&v, data + 4 * k, 4);
    dims.push_back(v);
  }
  return dims;
}

Result<TransposeConvBiasOptions> TransposeConvBiasOptions::parse(const uint8_t* data, size_t size) {
  if (size < 12) return invalid("custom options are shorter than 12 bytes");
  int32_t raw[3];
  std::memcpy(raw, data, 12);
  if (raw[0] != 1 && raw[0] != 2) return invalid("unknown padding " + std::to_string(raw[0]));
  TransposeConvBiasOptions o;
  o.padding_same = raw[0] == 1;
  o.stride_w = raw[1];
  o.stride_h = raw[2];
  return o;
}

}  // namespace polyhead::tflite
