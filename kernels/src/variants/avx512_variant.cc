// x86 AVX-512F variant; this file alone is compiled with -mavx512f -mfma. Only AVX-512F
// instructions are used (no DQ/BW/VL), so every AVX-512 CPU runs it.
#include <immintrin.h>

#include "f32_igemm.h"
#include "qc8_depthwise.h"
#include "int8_elementwise.h"
#include "sparse_gemm.h"
#include "variants.h"
#include "vector_math.h"
#include "x86_sparse_registers.h"

namespace polyhead::kernels::variants {
namespace {

struct Avx512 {
  using Reg = __m512;
  using Mask = __mmask16;
  static constexpr size_t kLanes = 16;
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static Reg set1(float v) { return _mm512_set1_ps(v); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  static Reg min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg round(Reg a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static Reg pow2(Reg n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static Reg abs(Reg a) { return _mm512_abs_ps(a); }
  static Reg or_sign(Reg magnitude, Reg sign) {
    const __m512i s = _mm512_and_epi32(_mm512_castps_si512(sign), _mm512_set1_epi32(INT32_MIN));
    return _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(magnitude), s));
  }
  static Mask less(Reg a, Reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static Mask greater(Reg a, Reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static Reg select(Mask m, Reg a, Reg b) { return _mm512_mask_blend_ps(m, b, a); }
  static float reduce_add(Reg v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(Reg v) { return _mm512_reduce_max_ps(v); }
};

// Sixteen values per step, as the AVX2 form (AVX-512F only: VPMOVSXBD and VPMOVDB).
void requantize_s8(const int8_t* in, size_t count, const reference::Requantization& r,
                   int8_t* out) {
  const __m512 m = _mm512_set1_ps(r.multiplier);
  const __m512i zin = _mm512_set1_epi32(r.input_zero_point);
  const __m512i zout = _mm512_set1_epi32(r.output_zero_point);
  const __m512i lo = _mm512_set1_epi32(r.min), hi = _mm512_set1_epi32(r.max);
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m512i x =
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(x, zin)), m);
    __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), zout);
    q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(q));
  }
  reference::requantize_s8(in + i, count - i, r, out + i);
}

const F32Igemm kIgemm = {igemm_nr<Avx512>(), igemm_packed_bytes<Avx512>, igemm_pack<Avx512>,
                         igemm_run<Avx512, 8>};

// The sparse GEMM's 16 lanes (sparse_gemm.h): Avx512's operations (VMAXPS / VMINPS return their
// second operand on ties and NaN, the clamp sparse_gemm.h asks for), and the grouped path's.
struct SparseZmm : Avx512 {
  // The grouped path: p[0 .. G) across the register; w[0 .. 16 / G) each G times; the tile
  // transposed in 8 x 8 blocks.
  static constexpr size_t kTransposeRows = 8;
  static void transpose_block(const float* const* src, size_t q, float* dst, size_t stride) {
    sparse_transpose8x8(src, q, dst, stride);
  }
  template <size_t G>
  static Reg load_group(const float* p) {
    if constexpr (G == 2) {
      return _mm512_castpd_ps(_mm512_set1_pd(sparse_float_pair(p)));
    } else if constexpr (G == 4) {
      return _mm512_broadcast_f32x4(_mm_loadu_ps(p));
    } else if constexpr (G == 8) {
      return _mm512_castpd_ps(
          _mm512_broadcast_f64x4(_mm256_loadu_pd(reinterpret_cast<const double*>(p))));
    } else {
      static_assert(G == 16, "a group of 2, 4, 8 or 16 pixels");
      return _mm512_loadu_ps(p);
    }
  }
  template <size_t G>
  static Reg expand(const float* w) {
    if constexpr (G == 2) {
      const Reg x = _mm512_castpd_ps(
          _mm512_broadcast_f64x4(_mm256_loadu_pd(reinterpret_cast<const double*>(w))));
      return _mm512_permutexvar_ps(
          _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), x);
    } else if constexpr (G == 4) {
      return _mm512_permutexvar_ps(
          _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
          _mm512_broadcast_f32x4(_mm_loadu_ps(w)));
    } else if constexpr (G == 8) {
      return _mm512_permutexvar_ps(
          _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
          _mm512_castpd_ps(_mm512_set1_pd(sparse_float_pair(w))));
    } else {
      static_assert(G == 16, "a group of 2, 4, 8 or 16 pixels");
      return _mm512_set1_ps(*w);
    }
  }
  template <size_t G>
  static void store_group(Reg v, float* out, size_t stride) {
    if constexpr (G == 2) {
      v = _mm512_permutexvar_ps(
          _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15), v);
      _mm256_storeu_ps(out, _mm512_castps512_ps256(v));
      _mm256_storeu_ps(out + stride, _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, 0xEE)));
    } else if constexpr (G == 4) {
      v = _mm512_permutexvar_ps(
          _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), v);
      _mm_storeu_ps(out, _mm512_extractf32x4_ps(v, 0));
      _mm_storeu_ps(out + stride, _mm512_extractf32x4_ps(v, 1));
      _mm_storeu_ps(out + 2 * stride, _mm512_extractf32x4_ps(v, 2));
      _mm_storeu_ps(out + 3 * stride, _mm512_extractf32x4_ps(v, 3));
    } else if constexpr (G == 8) {
      v = _mm512_permutexvar_ps(
          _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15), v);
      const __m128 q[4] = {_mm512_extractf32x4_ps(v, 0), _mm512_extractf32x4_ps(v, 1),
                           _mm512_extractf32x4_ps(v, 2), _mm512_extractf32x4_ps(v, 3)};
      for (size_t i = 0; i < 4; ++i) {
        _mm_storel_pi(reinterpret_cast<__m64*>(out + 2 * i * stride), q[i]);
        _mm_storeh_pi(reinterpret_cast<__m64*>(out + (2 * i + 1) * stride), q[i]);
      }
    } else {
      static_assert(G == 16, "a group of 2, 4, 8 or 16 pixels");
      float lanes[16];
      _mm512_storeu_ps(lanes, v);
      for (size_t i = 0; i < 16; ++i) out[i * stride] = lanes[i];
    }
  }
};

// Tiles of 8 pixels (their row pointers fill the general registers); 16-row blocks in one zmm,
// 8-row blocks in a ymm.
const SparseGemmF32 kSparseGemm = {
    sparse_scratch_bytes<32, SparseZmm>,
    sparse_gemm<24, 8, 32, SparseZmm, SparseYmm, SparseXmm, SparseSs>};

}  // namespace

const KernelVariant kAvx512 = {
    Isa::kAvx512,
    tanh_array<Avx512>,
    silu_array<Avx512>,
    softmax_rows<Avx512>,
    transpose,
    resize_nearest,
    reference::concatenation,
    subsample,
    reference::copy,
    pad,
    slice,
    lookup_s8,
    requantize_s8,
    nullptr,
    &kIgemm,
    multiply_add_taps<Avx512>,
    &kSparseGemm,
    &kAvx2Qc8Depthwise,  // int8 depthwise convolution: AVX-512 F lacks 16-bit multiplies
    &kInt8Elementwise,
};

}  // namespace polyhead::kernels::variants
