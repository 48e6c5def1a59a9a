// The portable fast table: shared data movement, scalar math from the reference. Used where no
// SIMD variant is available (armv7 without NEON, x86 without AVX2).
#include <cmath>

#include "qc8_depthwise.h"
#include "int8_elementwise.h"
#include "sparse_gemm.h"
#include "variants.h"

namespace polyhead::kernels::variants {
namespace {

// The sparse GEMM (sparse_gemm.h) one float at a time, with std::fma.
struct Scalar {
  using Reg = float;
  static constexpr size_t kLanes = 1;
  static Reg load(const float* p) { return *p; }
  static void store(float* p, Reg v) { *p = v; }
  static Reg set1(float v) { return v; }
  static Reg fma(Reg a, Reg b, Reg c) { return std::fma(a, b, c); }
  static Reg max(Reg lo, Reg x) { return x < lo ? lo : x; }
  static Reg min(Reg hi, Reg x) { return hi < x ? hi : x; }
};

const SparseGemmF32 kSparseGemm = {sparse_scratch_bytes<0, Scalar>, sparse_gemm<8, 4, 0, Scalar>};

}  // namespace

const KernelVariant kGeneric = {
    Isa::kGeneric,
    reference::tanh,
    reference::silu,
    reference::softmax,
    transpose,
    resize_nearest,
    reference::concatenation,
    subsample,
    reference::copy,
    pad,
    slice,
    lookup_s8,
    reference::requantize_s8,
    nullptr,
    nullptr,
    nullptr,
    &kSparseGemm,
    &kGenericQc8Depthwise,  // int8 depthwise convolution
    &kInt8Elementwise,
};

}  // namespace polyhead::kernels::variants
