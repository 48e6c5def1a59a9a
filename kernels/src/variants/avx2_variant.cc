// x86 AVX2 + FMA variant; this file alone is compiled with -mavx2 -mfma.
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

struct Avx2 {
  using Reg = __m256;
  using Mask = __m256;
  static constexpr size_t kLanes = 8;
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg set1(float v) { return _mm256_set1_ps(v); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_ps(a, b); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg round(Reg a) {
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static Reg pow2(Reg n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static Reg abs(Reg a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
  static Reg or_sign(Reg magnitude, Reg sign) {
    return _mm256_or_ps(magnitude, _mm256_and_ps(sign, _mm256_set1_ps(-0.f)));
  }
  static Mask less(Reg a, Reg b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static Mask greater(Reg a, Reg b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static Reg select(Mask m, Reg a, Reg b) { return _mm256_blendv_ps(b, a, m); }
  static float reduce_add(Reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
  }
  static float reduce_max(Reg v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
  }
};

// Eight values per step: widen to int32, multiply in float32, convert with the default
// round-half-to-even mode (as std::nearbyint), clamp, narrow with saturation.
void requantize_s8(const int8_t* in, size_t count, const reference::Requantization& r,
                   int8_t* out) {
  const __m256 m = _mm256_set1_ps(r.multiplier);
  const __m256i zin = _mm256_set1_epi32(r.input_zero_point);
  const __m256i zout = _mm256_set1_epi32(r.output_zero_point);
  const __m256i lo = _mm256_set1_epi32(r.min), hi = _mm256_set1_epi32(r.max);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i x =
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + i)));
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(x, zin)), m);
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(f), zout);
    q = _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packs_epi16(w, w));
  }
  reference::requantize_s8(in + i, count - i, r, out + i);
}

const F32Igemm kIgemm = {igemm_nr<Avx2>(), igemm_packed_bytes<Avx2>, igemm_pack<Avx2>,
                         igemm_run<Avx2, 6>};

// Tiles of 8 pixels; 12 accumulators leave registers for two weight vectors and the broadcast.
const SparseGemmF32 kSparseGemm = {sparse_scratch_bytes<16, SparseYmm>,
                                   sparse_gemm<12, 8, 16, SparseYmm, SparseXmm, SparseSs>};

}  // namespace

const KernelVariant kAvx2 = {
    Isa::kAvx2,
    tanh_array<Avx2>,
    silu_array<Avx2>,
    softmax_rows<Avx2>,
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
    multiply_add_taps<Avx2>,
    &kSparseGemm,
    &kAvx2Qc8Depthwise,  // int8 depthwise convolution
    &kInt8Elementwise,
};

}  // namespace polyhead::kernels::variants
