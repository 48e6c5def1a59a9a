// The int8 depthwise convolution's shared packing (qc8_depthwise.h), its reference (the plain
// loop that defines the result) and its generic variant (fixed 16-channel blocks the compiler
// vectorizes for the baseline instruction set).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "qc8_depthwise.h"

namespace polyhead::kernels::variants {

size_t qc8_depthwise_packed_bytes(size_t channels, size_t taps) {
  return (channels + kDepthwiseBlock - 1) / kDepthwiseBlock * depthwise_block_bytes(taps);
}

void qc8_depthwise_pack(const int8_t* w, size_t channels, size_t taps, const int32_t* bias,
                        int32_t a_zero_point, const float* scale, void* packed) {
  auto* out = static_cast<uint8_t*>(packed);
  std::memset(out, 0, qc8_depthwise_packed_bytes(channels, taps));
  for (size_t b = 0; b < channels; b += kDepthwiseBlock, out += depthwise_block_bytes(taps)) {
    auto* biases = reinterpret_cast<uint32_t*>(out);
    auto* scales = reinterpret_cast<float*>(out + kDepthwiseBlock * 4);
    auto* weights = reinterpret_cast<uint32_t*>(out + 2 * kDepthwiseBlock * 4);
    for (size_t j = 0; j < kDepthwiseBlock && b + j < channels; ++j) {
      const int8_t* wc = w + (b + j) * taps;
      int64_t sum = 0;
      for (size_t t = 0; t < taps; ++t) {
        sum += wc[t];
        weights[t * kDepthwiseBlock + j] = static_cast<uint16_t>(static_cast<int16_t>(wc[t]));
      }
      // Modulo 2^32, as the accumulators wrap.
      biases[j] = static_cast<uint32_t>(bias ? bias[b + j] : 0) -
                  static_cast<uint32_t>(static_cast<int64_t>(a_zero_point) * sum);
      scales[j] = scale[b + j];
    }
  }
}

namespace {

int8_t requantize(uint32_t acc, float scale, float lo, float hi, int32_t zero) {
  const float v = std::min(std::max(static_cast<float>(static_cast<int32_t>(acc)) * scale, lo), hi);
  return static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(v)) + zero);
}

void run_reference(size_t pixels, size_t channels, size_t taps, const int8_t* const* indirection,
                   size_t input_step, const void* packed, int32_t c_zero_point, int32_t c_min,
                   int32_t c_max, int8_t* out) {
  const auto lo = static_cast<float>(c_min - c_zero_point);
  const auto hi = static_cast<float>(c_max - c_zero_point);
  for (size_t p = 0; p < pixels; ++p)
    for (size_t c = 0; c < channels; ++c) {
      const auto* block =
          static_cast<const uint8_t*>(packed) + c / kDepthwiseBlock * depthwise_block_bytes(taps);
      const size_t j = c % kDepthwiseBlock;
      const auto* biases = reinterpret_cast<const uint32_t*>(block);
      const auto* scales = reinterpret_cast<const float*>(block + kDepthwiseBlock * 4);
      const auto* weights = reinterpret_cast<const int32_t*>(block + 2 * kDepthwiseBlock * 4);
      uint32_t acc = biases[j];
      for (size_t t = 0; t < taps; ++t)
        acc += static_cast<uint32_t>(indirection[t][p * input_step + c] *
                                     depthwise_weight(weights + t * kDepthwiseBlock, j));
      out[p * channels + c] = requantize(acc, scales[j], lo, hi, c_zero_point);
    }
}

void run_generic(size_t pixels, size_t channels, size_t taps, const int8_t* const* indirection,
                 size_t input_step, const void* packed, int32_t c_zero_point, int32_t c_min,
                 int32_t c_max, int8_t* out) {
  const auto lo = static_cast<float>(c_min - c_zero_point);
  const auto hi = static_cast<float>(c_max - c_zero_point);
  for (size_t p = 0; p < pixels; ++p, out += channels) {
    const auto* block = static_cast<const uint8_t*>(packed);
    for (size_t b = 0; b < channels; b += kDepthwiseBlock, block += depthwise_block_bytes(taps)) {
      const size_t n = std::min(kDepthwiseBlock, channels - b);
      const auto* scales = reinterpret_cast<const float*>(block + kDepthwiseBlock * 4);
      const auto* weights = reinterpret_cast<const int32_t*>(block + 2 * kDepthwiseBlock * 4);
      uint32_t acc[kDepthwiseBlock];
      std::memcpy(acc, block, sizeof(acc));
      for (size_t t = 0; t < taps; ++t) {
        const int8_t* x = indirection[t] + p * input_step + b;
        const int32_t* w = weights + t * kDepthwiseBlock;
        if (n == kDepthwiseBlock) {
          for (size_t j = 0; j < kDepthwiseBlock; ++j)
            acc[j] += static_cast<uint32_t>(x[j] * depthwise_weight(w, j));
        } else {
          for (size_t j = 0; j < n; ++j)
            acc[j] += static_cast<uint32_t>(x[j] * depthwise_weight(w, j));
        }
      }
      for (size_t j = 0; j < n; ++j)
        out[b + j] = requantize(acc[j], scales[j], lo, hi, c_zero_point);
    }
  }
}

}  // namespace

const Qc8Depthwise kReferenceQc8Depthwise = {qc8_depthwise_packed_bytes, qc8_depthwise_pack,
                                             run_reference};
const Qc8Depthwise kGenericQc8Depthwise = {qc8_depthwise_packed_bytes, qc8_depthwise_pack,
                                           run_generic};

}  // namespace polyhead::kernels::variants
