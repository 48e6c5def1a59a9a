// The int8 depthwise convolution of every variant (kernel_variant.h, Qc8Depthwise) and the weight
// layout they share, so one packing serves all of them:
//
// per block of kDepthwiseBlock = 16 channels (the last block padded with zeros):
//   16 int32 biases, with the input zero point folded in: bias[j] - a_zero_point * sum_t w[j][t]
//   16 float scales
//   taps x 16 int32 weights, lane j of tap t holding w[j][t] as (int16 w, int16 0): the pair
//   form of VPMADDWD / VPDPWSSD, so an input sign-extended to 32 bits times the pair is x * w.
//
// Folding the zero point into the bias is exact modulo 2^32, as the int32 sums wrap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "polyhead/kernels/kernel_variant.h"

namespace polyhead::kernels::variants {

constexpr size_t kDepthwiseBlock = 16;

// Bytes of one block of the packing: biases, scales and taps rows of weights.
inline size_t depthwise_block_bytes(size_t taps) {
  return (2 + taps) * kDepthwiseBlock * 4;
}
size_t qc8_depthwise_packed_bytes(size_t channels, size_t taps);
void qc8_depthwise_pack(const int8_t* w, size_t channels, size_t taps, const int32_t* bias,
                        int32_t a_zero_point, const float* scale, void* packed);

// The weight of lane j in tap row `row` (the low 16 bits of the pair), for portable code.
inline int32_t depthwise_weight(const int32_t* row, size_t j) {
  return static_cast<int16_t>(static_cast<uint32_t>(row[j]) & 0xffffu);
}

extern const Qc8Depthwise kReferenceQc8Depthwise;
extern const Qc8Depthwise kGenericQc8Depthwise;
extern const Qc8Depthwise kAvx2Qc8Depthwise;  // only with POLYHEAD_HAVE_AVX2
extern const Qc8Depthwise kVnniQc8Depthwise;  // only with POLYHEAD_HAVE_AVX512 (BW/VL/VNNI)
extern const Qc8Depthwise kNeonQc8Depthwise;  // only with POLYHEAD_HAVE_NEON

// The avx512vnni table's row form (qc8_depthwise_rows_avx512vnni.cc), only with
// POLYHEAD_HAVE_AVX512: Qc8Depthwise's row_supported, rows_packed_bytes, rows_pack and run_row.
bool vnni_depthwise_row_supported(size_t channels, size_t kh, size_t kw, size_t stride_w);
size_t vnni_depthwise_rows_packed_bytes(size_t channels, size_t kh, size_t kw);
void vnni_depthwise_rows_pack(const int8_t* w, size_t channels, size_t kh, size_t kw,
                              const int32_t* bias, int32_t a_zero_point, const float* scale,
                              void* packed);
void vnni_depthwise_run_row(const Qc8DepthwiseRow& row);

}  // namespace polyhead::kernels::variants
