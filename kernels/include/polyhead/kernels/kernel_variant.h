// One instruction-set variant of every kernel Polyhead implements itself: a table of functions
// with the signatures of reference.h. Kernels take the table of selected_isa() at creation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/reference.h"
#include "polyhead/kernels/sparse_matrix.h"
#include "polyhead/tensor.h"

namespace polyhead::kernels {

// An int8 GEMM with its own weight layout (1x1 convolutions and fully connected layers); the same
// results as reference::qc8_gemm, bit for bit.
struct Qc8Gemm {
  // Bytes of the packed form of n x k weights.
  size_t (*packed_bytes)(size_t n, size_t k);
  // Packs w [n][k] with the bias (may be null), the input zero point and the per-channel output
  // scales into `packed` (packed_bytes(n, k) bytes, any alignment).
  void (*pack)(const int8_t* w, size_t n, size_t k, const int32_t* bias, int32_t a_zero_point,
               const float* scale, void* packed);
  // Rows [0, m) of c from rows of a.
  void (*run)(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
              int32_t c_zero_point, int32_t c_min, int32_t c_max, int8_t* c, size_t c_stride);
  // Output channels per packed block: the block of channels [j, j + nr) (j a multiple of nr)
  // starts at byte packed_bytes(j, k), so a caller may run any range of whole blocks.
  size_t nr = 16;
  // Optional: run() for weights where reference::qc8_sums_in_range holds (the same bytes; the
  // clamp happens on the rounded integers, one float operation fewer per 16 outputs).
  void (*run_in_range)(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                       const void* packed, int32_t c_zero_point, int32_t c_min, int32_t c_max,
                       int8_t* c, size_t c_stride) = nullptr;
};

// A float convolution as an indirect GEMM (dense convolutions with one group). Output row i (one
// output pixel) reads, for each of `taps` kernel positions t, `c` contiguous input channels at
// indirection[i * taps + t] (a row of zeros where the tap falls in the padding). The weights are
// w [n][taps * c] (OHWI); they are packed in panels of `nr` output channels, panel p at byte
// p * packed_bytes(nr, k) of the packing, so a caller may run any range of whole panels. The same
// results as reference::f32_igemm bit for bit on finite values: each output starts from its bias
// and adds one fused multiply-add per term, taps then channels in order.
struct F32Igemm {
  size_t nr;  // output channels per packed panel
  // Bytes of the packed form of n x k weights (k = taps * c).
  size_t (*packed_bytes)(size_t n, size_t k);
  // Packs w [n][k] and the bias (may be null) into `packed` (packed_bytes(n, k) bytes, aligned
  // for floats).
  void (*pack)(const float* w, const float* bias, size_t n, size_t k, void* packed);
  // Rows [0, m) and output channels [0, n) of the panels that start at `packed`, clamped to
  // [min, max]; row i written at out + i * out_stride. `prefetch` (may be null) is the panel the
  // caller runs next: its weights are fetched towards L2 while this call computes, spread over
  // the call, so a layer whose weights come from memory does not wait for them panel by panel.
  void (*run)(size_t m, size_t n, size_t taps, size_t c, const float* const* indirection,
              const void* packed, float min, float max, float* out, size_t out_stride,
              const void* prefetch);
};

// A float GEMM with block-sparse weights (1x1 convolutions and fully connected layers over
// weights stored block-CSR, sparse_matrix.h), reading the weights in place. The same results as
// reference::sparse_gemm_f32 bit for bit on finite values: each output starts from its bias and
// adds one fused multiply-add per stored weight, in increasing column order, then the clamp.
struct SparseGemmF32 {
  // Bytes of the working memory `run` can use for `w` (blocks shorter than a SIMD register: the
  // inputs of a tile of rows regrouped so one load feeds a register); 0 when it uses none.
  size_t (*scratch_bytes)(const SparseMatrix& w);
  // Rows [0, m) of a (row p at a + p * a_stride) times the transposed weights w [n][k], plus the
  // bias (n values, may be null), clamped to [min, max]: row p of the result at
  // out + p * out_stride, n values. `scratch`: scratch_bytes(w) bytes aligned for floats, used by
  // this call only; null is allowed (slower where scratch_bytes is not 0). Fast for block_cols 1
  // and power-of-two block_rows; any block shape is correct. No allocation.
  void (*run)(size_t m, const float* a, size_t a_stride, const SparseMatrix& w, const float* bias,
              float min, float max, float* out, size_t out_stride, void* scratch);
};

// --- int8 depthwise convolution (own_int8_depthwise.cc) ---
// An int8 depthwise convolution (one input and one output channel per group) with per-channel
// weights, its own weight layout and fused requantization. For output pixels p < pixels and
// channels j < channels, with x_t = indirection[t] + p * input_step (tap t's input pixel; a
// padded tap points at bytes holding the input zero point):
//   acc = bias[j] + sum_t (x_t[j] - a_zero_point) * w[j][t]         (int32, wrapping)
//   out[p * channels + j] = nearbyint(clamp(float(acc) * scale[j], c_min - c_zero,
//                                           c_max - c_zero)) + c_zero
// the rounding of reference::qc8_gemm; every variant gives the reference's bytes.
//
// Optionally a variant also computes whole output rows (run_row, with its own packing): the same
// bytes, with the padding read from `zeros` instead of a frame.
struct Qc8DepthwiseRow {
  // Input row k of the window (k < 4 * ceil(kh / 4)): column x's channels at
  // rows[k] + x * row_steps[k]. A row above or below the image, or past kh, is `zeros` with step
  // 0: max(channels, 64) bytes of the input zero point, read whole; columns outside [0, width)
  // read as the input zero point.
  const int8_t* const* rows = nullptr;
  const size_t* row_steps = nullptr;
  size_t width = 0;  // input columns
  size_t channels = 0, kh = 0, kw = 0, stride_w = 1, pad_left = 0;
  size_t out_width = 0;
  const void* packed = nullptr;  // rows_pack's layout, aligned to 64 bytes
  int32_t a_zero_point = 0;      // the input's, for columns outside the image
  int32_t c_zero_point = 0, c_min = -128, c_max = 127;
  int8_t* out = nullptr;  // out_width x channels
  // reference::qc8_sums_in_range holds for the weights, biases and scales (w [channels][kh * kw]):
  // the kernel may clamp the rounded integers instead of the scaled floats (the same bytes).
  bool sums_in_range = false;
};
struct Qc8Depthwise {
  // Bytes of the packed form of `channels` x `taps` weights.
  size_t (*packed_bytes)(size_t channels, size_t taps);
  // Packs w [channels][taps] with the bias (may be null), the input zero point and the
  // per-channel output scales into `packed` (packed_bytes bytes, aligned to 64 bytes).
  void (*pack)(const int8_t* w, size_t channels, size_t taps, const int32_t* bias,
               int32_t a_zero_point, const float* scale, void* packed);
  void (*run)(size_t pixels, size_t channels, size_t taps, const int8_t* const* indirection,
              size_t input_step, const void* packed, int32_t c_zero_point, int32_t c_min,
              int32_t c_max, int8_t* out);
  // Null where the variant has no row form; row_supported says which windows it takes.
  bool (*row_supported)(size_t channels, size_t kh, size_t kw, size_t stride_w) = nullptr;
  size_t (*rows_packed_bytes)(size_t channels, size_t kh, size_t kw) = nullptr;
  // w [channels][kh][kw]; otherwise as pack.
  void (*rows_pack)(const int8_t* w, size_t channels, size_t kh, size_t kw, const int32_t* bias,
                    int32_t a_zero_point, const float* scale, void* packed) = nullptr;
  void (*run_row)(const Qc8DepthwiseRow& row) = nullptr;
};
// --- end int8 depthwise convolution ---
// ---- int8 ADD / SUB / MUL and bilinear RESIZE (own_int8_elementwise.cc, own_int8_resize.cc) ----
// Integer definitions in docs/int8.md ("Elementwise arithmetic", "Bilinear resize"); every variant
// gives the same bytes.

// ADD and SUB in fixed point (SUB negates b_multiplier):
//   acc = (a - a_zero) * a_multiplier + (b - b_zero) * b_multiplier   (exact in int32)
//   out = clamp(round_half_away_from_zero(acc / 2^shift) + out_zero, min, max)
// with |multipliers| < 2^21 and 1 <= shift <= 31, so neither acc nor the rounding overflows.
struct Int8AddParams {
  int32_t a_zero = 0, b_zero = 0, out_zero = 0;
  int32_t a_multiplier = 0, b_multiplier = 0;
  int32_t shift = 1;
  int32_t min = -128, max = 127;
};
// MUL: the exact product (a - a_zero) * (b - b_zero) converted to float32 and multiplied by `scale`
// (one float32 rounding), clamped to [min - out_zero, max - out_zero], rounded half away from
// zero, plus out_zero. Both round ties as TFLite's reference kernels do, so full-integer TFLite
// models agree with LiteRT (docs/int8.md).
struct Int8MulParams {
  int32_t a_zero = 0, b_zero = 0, out_zero = 0;
  float scale = 1.f;
  int32_t min = -128, max = 127;
};
struct Int8Elementwise {
  // rows x inner outputs: out[r * inner + i] = f(a[r * inner + i], b[r * b_stride + i]), where
  // b_stride is inner (same shapes) or 0 (b is one row of `inner` values repeated: [N, C] by [C]).
  void (*add)(size_t rows, size_t inner, const int8_t* a, const int8_t* b, size_t b_stride,
              const Int8AddParams& p, int8_t* out);
  void (*mul)(size_t rows, size_t inner, const int8_t* a, const int8_t* b, size_t b_stride,
              const Int8MulParams& p, int8_t* out);
  // One output row of a bilinear resize of `channels`-channel NHWC pixels: output pixel x blends
  // pixels at byte offsets x0[x] and x1[x] of the rows `top` and `bottom` with 11-bit weights
  // (wx[x] on x1, 2048 - wx[x] on x0; wy on bottom, 2048 - wy on top):
  //   out = round_half_even((((top[x0] * (2048 - wx) + top[x1] * wx) * (2048 - wy) +
  //                          (bottom[x0] * (2048 - wx) + bottom[x1] * wx) * wy) / 2^22)
  void (*resize_bilinear_row)(const int8_t* top, const int8_t* bottom, size_t out_w,
                              size_t channels, const int32_t* x0, const int32_t* x1,
                              const int16_t* wx, int32_t wy, int8_t* out);
  // One output row of a 2x upsample whose weights are multiples of 1/4 (half-pixel centres: 3/4
  // and 1/4; asymmetric: 1, or 1/2 and 1/2), 2 * in_w pixels from rows `near` and `far` of in_w
  // pixels: v = w[0] * near + w[1] * far per value, then output pixel 2j is
  // w[2] * v[j] + w[3] * v[j - 1] and pixel 2j + 1 is w[4] * v[j] + w[5] * v[j + 1] (neighbours
  // clamped at the edges), divided by 16 and rounded half to even. Each pair of weights sums
  // to 4, so these are the values resize_bilinear_row gives with the same weights in 1/2048.
  void (*resize_2x_row)(const int8_t* near, const int8_t* far, size_t in_w, size_t channels,
                        const int16_t* weights, int8_t* out);
};
// ---- end of int8 ADD / SUB / MUL and bilinear RESIZE ----

struct KernelVariant {
  Isa isa;
  void (*tanh)(const float* input, size_t count, float* output);
  void (*silu)(const float* input, size_t count, float* output);
  void (*softmax)(const float* input, size_t rows, size_t channels, float beta, float* output);
  void (*transpose)(const float* input, const Shape& input_shape, const int32_t* perm,
                    float* output);
  void (*resize_nearest)(const float* input, const Shape& input_shape, int64_t out_h, int64_t out_w,
                         reference::Coordinates mode, float* output);
  void (*concatenation)(size_t count, const float* const* inputs, const Shape* shapes, size_t axis,
                        float* output);
  void (*subsample)(const float* input, const Shape& input_shape, const Shape& output_shape,
                    int64_t stride_h, int64_t stride_w, float min, float max, float* output);
  void (*copy)(const void* input, size_t bytes, void* output);
  void (*pad)(const float* input, const Shape& input_shape, const int64_t* before,
              const Shape& output_shape, float value, float* output);
  void (*slice)(const float* input, const Shape& input_shape, const int64_t* begin,
                const int64_t* step, const Shape& output_shape, float* output);
  // int8 (docs/int8.md): a 256-entry table indexed by the input byte, and requantization.
  void (*lookup_s8)(const int8_t* input, size_t count, const int8_t* table, int8_t* output);
  void (*requantize_s8)(const int8_t* input, size_t count, const reference::Requantization& r,
                        int8_t* output);
  // Null where the variant has none (XNNPACK's qc8 convolution runs those layers instead).
  const Qc8Gemm* qc8_gemm = nullptr;
  // Null where the variant has none (XNNPACK's convolution runs those layers instead).
  const F32Igemm* f32_igemm = nullptr;
  // For i < count: a = acc[i]; a = fma(x[t][i], w[t][i % period], a) for t = 0 .. taps - 1 in
  // turn; acc[i] = clamp(a, min, max). `period` is a multiple of 32. The row step of the narrow
  // convolutions (own_row_conv.cc): the same results as reference::multiply_add_taps bit for bit
  // on finite values. Null where the variant has none (XNNPACK runs those layers instead).
  void (*multiply_add_taps)(size_t taps, const float* const* x, const float* const* w,
                            size_t period, size_t count, float min, float max,
                            float* acc) = nullptr;
  // Null where the variant has none (armv7 NEON, without fused multiply-add: the sparse kernel
  // runs the generic table's there).
  const SparseGemmF32* sparse_gemm_f32 = nullptr;
  // --- int8 depthwise convolution: null where the variant has none (XNNPACK runs those). ---
  const Qc8Depthwise* qc8_depthwise = nullptr;
  // int8 ADD / SUB / MUL and bilinear RESIZE; null where the variant has none (XNNPACK and the
  // portable broadcasting kernel run those nodes instead).
  const Int8Elementwise* int8_elementwise = nullptr;
  // int8 small convolutions: reference::qs8_pixel_conv, bit for bit. Null where the variant has
  // none (the GEMM or XNNPACK run those layers instead); set by kernel_variant.cc, not by the
  // tables, since only the AVX-512 VNNI build of the avx512 table has one.
  void (*qs8_pixel_conv)(const reference::Qs8PixelConvRow& row) = nullptr;
  // Its input regrouping, reference::qs8_pixel_regroup bit for bit; set with qs8_pixel_conv.
  void (*qs8_pixel_regroup)(const int8_t* src, size_t count, size_t step, size_t bytes,
                            uint32_t pad, uint32_t* dwords) = nullptr;
};

// The table of `isa`, or null when this build does not contain it (the CPU is not consulted:
// see isa_available()).
const KernelVariant* kernel_variant(Isa isa);

}  // namespace polyhead::kernels
