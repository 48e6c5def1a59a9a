// ARM NEON variant: the baseline on aarch64; on armv7 this file alone is compiled with
// -mfpu=neon and runs only when the CPU reports NEON. ARMv7 NEON lacks fused multiply-add,
// division, round-to-nearest and across-lane reductions: those have armv7 forms below.
#include <arm_neon.h>

#include <cmath>

#include "f32_igemm.h"
#include "qc8_depthwise.h"
#include "sparse_gemm.h"
#include "variants.h"
#include "vector_math.h"

namespace polyhead::kernels::variants {
namespace {

struct Neon {
  using Reg = float32x4_t;
  using Mask = uint32x4_t;
  static constexpr size_t kLanes = 4;
  static Reg load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, Reg v) { vst1q_f32(p, v); }
  static Reg set1(float v) { return vdupq_n_f32(v); }
  static Reg add(Reg a, Reg b) { return vaddq_f32(a, b); }
  static Reg sub(Reg a, Reg b) { return vsubq_f32(a, b); }
  static Reg mul(Reg a, Reg b) { return vmulq_f32(a, b); }
  static Reg min(Reg a, Reg b) { return vminq_f32(a, b); }
  static Reg max(Reg a, Reg b) { return vmaxq_f32(a, b); }
  static Reg abs(Reg a) { return vabsq_f32(a); }
  static Reg or_sign(Reg magnitude, Reg sign) {
    return vbslq_f32(vdupq_n_u32(0x80000000u), sign, magnitude);
  }
  static Mask less(Reg a, Reg b) { return vcltq_f32(a, b); }
  static Mask greater(Reg a, Reg b) { return vcgtq_f32(a, b); }
  static Reg select(Mask m, Reg a, Reg b) { return vbslq_f32(m, a, b); }
  static Reg pow2(Reg n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
#if defined(__aarch64__)
  static Reg fma(Reg a, Reg b, Reg c) {
    return vfmaq_f32(c, a, b);
  }
  static Reg div(Reg a, Reg b) {
    return vdivq_f32(a, b);
  }
  static Reg round(Reg a) {
    return vrndnq_f32(a);
  }
  static float reduce_add(Reg v) {
    return vaddvq_f32(v);
  }
  static float reduce_max(Reg v) {
    return vmaxvq_f32(v);
  }
#else
  static Reg fma(Reg a, Reg b, Reg c) {
    return vmlaq_f32(c, a, b);
  }
  // Reciprocal estimate refined by two Newton-Raphson steps (about 1 ulp).
  static Reg div(Reg a, Reg b) {
    Reg r = vrecpeq_f32(b);
    r = vmulq_f32(vrecpsq_f32(b, r), r);
    r = vmulq_f32(vrecpsq_f32(b, r), r);
    return vmulq_f32(a, r);
  }
  // Adding and removing 1.5 * 2^23 rounds to nearest for |a| < 2^22 (the exponents used here).
  static Reg round(Reg a) {
    const Reg magic = vdupq_n_f32(12582912.f);
    return vsubq_f32(vaddq_f32(a, magic), magic);
  }
  static float reduce_add(Reg v) {
    const float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
  }
  static float reduce_max(Reg v) {
    const float32x2_t m = vmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(m, m), 0);
  }
#endif
};

// Round half to even, then to int32. armv7 lacks VCVTN: adding and removing 1.5 * 2^23 rounds
// to nearest even for |a| < 2^22, which the kernels guarantee (multiplier <= 2^14, |in| <= 255).
int32x4_t round_to_int(float32x4_t a) {
#if defined(__aarch64__)
  return vcvtnq_s32_f32(a);
#else
  const float32x4_t magic = vdupq_n_f32(12582912.f);
  return vcvtq_s32_f32(vsubq_f32(vaddq_f32(a, magic), magic));
#endif
}

void requantize_s8(const int8_t* in, size_t count, const reference::Requantization& r,
                   int8_t* out) {
  const float32x4_t m = vdupq_n_f32(r.multiplier);
  const int32x4_t zin = vdupq_n_s32(r.input_zero_point), zout = vdupq_n_s32(r.output_zero_point);
  const int32x4_t lo = vdupq_n_s32(r.min), hi = vdupq_n_s32(r.max);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const int16x8_t h = vmovl_s8(vld1_s8(in + i));
    int32x4_t q[2] = {vmovl_s16(vget_low_s16(h)), vmovl_s16(vget_high_s16(h))};
    for (int32x4_t& v : q) {
      v = round_to_int(vmulq_f32(vcvtq_f32_s32(vsubq_s32(v, zin)), m));
      v = vminq_s32(vmaxq_s32(vaddq_s32(v, zout), lo), hi);
    }
    vst1_s8(out + i, vqmovn_s16(vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]))));
  }
  reference::requantize_s8(in + i, count - i, r, out + i);
}

#if defined(__aarch64__)
// aarch64 only: ARMv7 NEON has no fused multiply-add, so its results would not be the reference's
// (armv7 runs XNNPACK's convolution).
const F32Igemm kIgemm = {igemm_nr<Neon>(), igemm_packed_bytes<Neon>, igemm_pack<Neon>,
                         igemm_run<Neon, 8>};

// The sparse GEMM's registers (sparse_gemm.h). Its clamp keeps the reference's answer where
// FMAX / FMIN differ from it (a -0 against +0, a NaN): x < lo ? lo : x, hi < x ? hi : x.
struct SparseNeon : Neon {
  static Reg max(Reg lo, Reg x) { return vbslq_f32(vcltq_f32(x, lo), lo, x); }
  static Reg min(Reg hi, Reg x) { return vbslq_f32(vcltq_f32(hi, x), hi, x); }
  // The grouped path: p[0 .. G) across the register; w[0 .. 4 / G) each G times; the tile
  // transposed in 4 x 4 blocks.
  static constexpr size_t kTransposeRows = 4;
  static void transpose_block(const float* const* src, size_t q, float* dst, size_t stride) {
    const float32x4x2_t t01 = vtrnq_f32(vld1q_f32(src[0] + q), vld1q_f32(src[1] + q));
    const float32x4x2_t t23 = vtrnq_f32(vld1q_f32(src[2] + q), vld1q_f32(src[3] + q));
    vst1q_f32(dst, vcombine_f32(vget_low_f32(t01.val[0]), vget_low_f32(t23.val[0])));
    vst1q_f32(dst + stride, vcombine_f32(vget_low_f32(t01.val[1]), vget_low_f32(t23.val[1])));
    vst1q_f32(dst + 2 * stride, vcombine_f32(vget_high_f32(t01.val[0]), vget_high_f32(t23.val[0])));
    vst1q_f32(dst + 3 * stride, vcombine_f32(vget_high_f32(t01.val[1]), vget_high_f32(t23.val[1])));
  }
  template <size_t G>
  static Reg load_group(const float* p) {
    if constexpr (G == 2) {
      const float32x2_t d = vld1_f32(p);
      return vcombine_f32(d, d);
    } else {
      static_assert(G == 4, "a group of 2 or 4 pixels");
      return vld1q_f32(p);
    }
  }
  template <size_t G>
  static Reg expand(const float* w) {
    if constexpr (G == 2) {
      const float32x2_t d = vld1_f32(w);
      const float32x4_t q = vcombine_f32(d, d);
      return vzip1q_f32(q, q);
    } else {
      static_assert(G == 4, "a group of 2 or 4 pixels");
      return vld1q_dup_f32(w);
    }
  }
  template <size_t G>
  static void store_group(Reg v, float* out, size_t stride) {
    if constexpr (G == 2) {
      // Lanes: channel 0 of pixels 0 and 1, then channel 1 of both.
      const float32x2x2_t p = vtrn_f32(vget_low_f32(v), vget_high_f32(v));
      vst1_f32(out, p.val[0]);
      vst1_f32(out + stride, p.val[1]);
    } else {
      static_assert(G == 4, "a group of 2 or 4 pixels");
      vst1q_lane_f32(out, v, 0);
      vst1q_lane_f32(out + stride, v, 1);
      vst1q_lane_f32(out + 2 * stride, v, 2);
      vst1q_lane_f32(out + 3 * stride, v, 3);
    }
  }
};
// One lane: a scalar float (FMADD; fused multiply-add is baseline on aarch64).
struct SparseScalar {
  using Reg = float;
  static constexpr size_t kLanes = 1;
  static Reg load(const float* p) { return *p; }
  static void store(float* p, Reg v) { *p = v; }
  static Reg set1(float v) { return v; }
  static Reg fma(Reg a, Reg b, Reg c) { return std::fma(a, b, c); }
  static Reg max(Reg lo, Reg x) { return x < lo ? lo : x; }
  static Reg min(Reg hi, Reg x) { return hi < x ? hi : x; }
};
// Tiles of 8 pixels; 24 of the 32 registers accumulate. 8- and 16-row blocks take two and four
// registers in passes of two.
const SparseGemmF32 kSparseGemm = {sparse_scratch_bytes<16, SparseNeon>,
                                   sparse_gemm<24, 8, 16, SparseNeon, SparseScalar>};
#endif

}  // namespace

const KernelVariant kNeon = {
    Isa::kNeon,
    tanh_array<Neon>,
    silu_array<Neon>,
    softmax_rows<Neon>,
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
#if defined(__aarch64__)
    &kIgemm,
    multiply_add_taps<Neon>,
    &kSparseGemm,
#else
    nullptr,
    nullptr,
    nullptr,
#endif
    &kNeonQc8Depthwise,  // int8 depthwise convolution
};

}  // namespace polyhead::kernels::variants
