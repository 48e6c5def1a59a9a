// x86 AVX-512F variant; this file alone is compiled with -mavx512f -mfma. Only AVX-512F
// instructions are used (no DQ/BW/VL), so every AVX-512 CPU runs it.
#include <immintrin.h>

#include "f32_igemm.h"
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

// The sparse GEMM's 16 lanes (sparse_gemm.h). Its clamp compares and blends: VMAXPS would do
// (it returns the second operand on ties and NaN), but GCC 12 warns falsely about the
// _mm512_undefined_ps() inside _mm512_max_ps where this template inlines it.
struct SparseZmm : Avx512 {
  static Reg max(Reg lo, Reg x) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), x, lo);
  }
  static Reg min(Reg hi, Reg x) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(hi, x, _CMP_LT_OQ), x, hi);
  }
};

// Tiles of 8 pixels (their row pointers fill the general registers); 16-row blocks in one zmm,
// 8-row blocks in a ymm.
const SparseGemmF32 kSparseGemm = {sparse_gemm<24, 8, SparseZmm, SparseYmm, SparseXmm, SparseSs>};

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
};

}  // namespace polyhead::kernels::variants
