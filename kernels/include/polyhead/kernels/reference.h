// Portable reference implementations of the kernels Polyhead writes itself (the XNNPACK snapshot
// lacks them). Optimised variants are checked against these. All tensors are dense, row-major.
#pragma once

#include <cstddef>
#include <cstdint>

#include "polyhead/kernels/sparse_matrix.h"
#include "polyhead/tensor.h"

namespace polyhead::kernels::reference {

// Concatenates `count` inputs along `axis`; `shapes[i]` differ only in that axis.
void concatenation(size_t count, const float* const* inputs, const Shape* shapes, size_t axis,
                   float* output);

// output[perm-permuted index] = input[index]: output dim d is input dim perm[d].
void transpose(const float* input, const Shape& input_shape, const int32_t* perm, float* output);

// Elementwise tanh over `count` values, in place allowed.
void tanh(const float* input, size_t count, float* output);

// SILU: x * sigmoid(x), computed as x / (1 + e^-x); -0 below x = -88, where the magnitude is under
// 4e-36 (so silu(-inf) = -0, its limit).
void silu(const float* input, size_t count, float* output);

// Softmax over the last dimension of `rows` x `channels`, with logits scaled by `beta`.
void softmax(const float* input, size_t rows, size_t channels, float beta, float* output);

enum class Coordinates { kHalfPixel, kAlignCorners, kAsymmetric };

// Source coordinate of destination index `dst` along an axis resized from `in` to `out`.
float resize_source_coordinate(int64_t dst, int64_t in, int64_t out, Coordinates mode);

// Nearest-neighbour resize of an NHWC tensor: source index = floor(coordinate + 0.5), clamped.
void resize_nearest(const float* input, const Shape& input_shape, int64_t out_h, int64_t out_w,
                    Coordinates mode, float* output);

// Strided subsampling of an NHWC tensor (a 1x1 pooling window, no padding), each value clamped
// to [min, max].
void subsample(const float* input, const Shape& input_shape, const Shape& output_shape,
               int64_t stride_h, int64_t stride_w, float min, float max, float* output);

// Copies `bytes` bytes (reshape); input and output may be the same or overlap.
void copy(const void* input, size_t bytes, void* output);

// Constant padding of a tensor of any rank: output_shape[d] = input_shape[d] + before[d] +
// after[d]; output elements outside the input are `value`.
void pad(const float* input, const Shape& input_shape, const int64_t* before,
         const Shape& output_shape, float value, float* output);

// A strided window (SLICE): output index i of dimension d reads input index
// begin[d] + i * step[d] (steps may be negative); every index read lies inside the input.
void slice(const float* input, const Shape& input_shape, const int64_t* begin, const int64_t* step,
           const Shape& output_shape, float* output);

// int8 -> int8 with new quantization parameters:
//   out = clamp(nearbyint(float(in - input_zero_point) * multiplier) + output_zero_point, min, max)
// in float32 with one rounding of the product (round half to even), so SIMD variants that multiply
// in float32 and convert with the default rounding mode match it bit for bit.
struct Requantization {
  float multiplier = 1.f;  // input scale / output scale
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int32_t min = -128;
  int32_t max = 127;
};
void requantize_s8(const int8_t* input, size_t count, const Requantization& r, int8_t* output);

// int8 GEMM of a 1x1 convolution or a fully connected layer with per-channel weights
// (docs/int8.md). For rows i < m and output channels j < n:
//   acc = bias[j] + sum_k (a[i][k] - a_zero_point) * w[j][k]          (int32; bias may be null)
//   c[i][j] = nearbyint(clamp(float(acc) * scale[j], c_min - c_zero, c_max - c_zero)) + c_zero
// The clamp comes before the rounding so no float ever overflows int32; the result equals
// clamping after rounding.
struct Qc8Output {
  const float* scale = nullptr;  // n values: input scale * weight scale[j] / output scale
  int32_t zero_point = 0;
  int32_t min = -128;
  int32_t max = 127;
};
void qc8_gemm(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, int32_t a_zero_point,
              const int8_t* w, const int32_t* bias, const Qc8Output& out, int8_t* c,
              size_t c_stride);

// Whether no sum of qc8_gemm with these weights, biases and scales can exceed 2^30 in magnitude,
// before or after scaling, whatever the input bytes and zero point: |bias[j]| + 255 sum_t
// |w[j][t]| <= 2^30 and that bound times scale[j] <= 2^30 for every j. Where it holds, the float
// clamp before rounding only matters inside int16 range, so a kernel may clamp the rounded
// integers instead (Qc8Gemm::run_in_range).
bool qc8_sums_in_range(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                       const float* scale);

// Float indirect GEMM of a dense convolution (kernel_variant.h, F32Igemm): for rows i < m and
// output channels j < n,
//   acc = bias[j] (0 when bias is null); for t < taps, q < c: acc = fma(indirection[i*taps+t][q],
//   w[j][t*c+q], acc); out[i*out_stride+j] = clamp(acc, min, max).
void f32_igemm(size_t m, size_t n, size_t taps, size_t c, const float* const* indirection,
               const float* w, const float* bias, float min, float max, float* out,
               size_t out_stride);

// For i < count: a = acc[i]; a = fma(x[t][i], w[t][i % period], a) for t = 0 .. taps - 1 in
// turn; acc[i] = clamp(a, min, max).
void multiply_add_taps(size_t taps, const float* const* x, const float* const* w, size_t period,
                       size_t count, float min, float max, float* acc);

// Float GEMM of a 1x1 convolution or a fully connected layer with block-sparse weights w
// [n = w.rows][k = w.cols] (kernel_variant.h, SparseGemmF32): for rows p < m of a (row p at
// a + p * a_stride, k values) and output channels o < n,
//   acc = bias[o] (0 when bias is null); for each weight w[o][q] stored in a block, in increasing
//   q: acc = fma(a[p][q], w[o][q], acc); out[p * out_stride + o] = clamp(acc, min, max).
// Stored zeros count as weights (the variants compute them too); columns without a stored block
// add nothing. Any block shape.
void sparse_gemm_f32(size_t m, const float* a, size_t a_stride, const SparseMatrix& w,
                     const float* bias, float min, float max, float* out, size_t out_stride);

// output[i] = table[uint8(input[i])]: any unary int8 function, tabulated once per node.
void lookup_s8(const int8_t* input, size_t count, const int8_t* table, int8_t* output);

// Bilinear resize of an NHWC tensor; coordinates are clamped to the input's extent.
void resize_bilinear(const float* input, const Shape& input_shape, int64_t out_h, int64_t out_w,
                     Coordinates mode, float* output);

// --- int8 convolution vectorized over output pixels (own_int8_pixel_conv.cc) ---
// One output row of an int8 convolution with a small receptive field, whose input the caller
// regrouped into dwords of four bytes, each byte flipped to u8 (x ^ 0x80). For pixels i < count
// and output channels o < n:
//   acc = bias[o] + sum_{t < taps} sum_{b < 4} u8 byte b of x[t][i] * s8 byte b of w[o * taps + t]
//   out[i * n + o] = nearbyint(clamp(float(acc) * scale[o], min - zero, max - zero)) + zero
// (wrapping int32 sums; the same requantization as qc8_gemm). The caller folds
// -(128 + input zero point) * sum of the weights into the bias.
struct Qs8PixelConvRow {
  size_t count = 0;                    // output pixels
  size_t n = 0;                        // output channels
  size_t taps = 0;                     // dwords per pixel
  const uint32_t* const* x = nullptr;  // taps pointers: pixel i reads x[t][i]
  const uint32_t* w = nullptr;         // [n][taps] dwords of four int8 weights
  const int32_t* bias = nullptr;       // [n]
  const float* scale = nullptr;        // [n]
  int32_t zero = 0, min = -128, max = 127;
  int8_t* out = nullptr;  // pixel i, channel o at out[i * n + o]
  // qc8_sums_in_range holds for w (as n x 4 * taps bytes), bias and scale: a kernel may clamp the
  // rounded integers instead of the scaled floats (the same bytes; the definition ignores it).
  bool sums_in_range = false;
};
void qs8_pixel_conv(const Qs8PixelConvRow& row);

// One plane row of that regrouped input: for j < count, dwords[j] holds the first `bytes` (1-4)
// bytes at src + j * step, each flipped to u8 (x ^ 0x80), and the bytes of `pad` above them
// (the flipped input zero point, where the channels run out).
void qs8_pixel_regroup(const int8_t* src, size_t count, size_t step, size_t bytes, uint32_t pad,
                       uint32_t* dwords);

}  // namespace polyhead::kernels::reference
