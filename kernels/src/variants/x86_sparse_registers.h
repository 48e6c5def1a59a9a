// The register types the x86 variants' sparse GEMM (sparse_gemm.h) passes narrower blocks through:
// 8, 4 and 1 lanes with fused multiply-add. Included only by variant files compiled with AVX2 and
// FMA or wider; the types have internal linkage (an anonymous namespace), so no copy of their
// functions can be shared with code compiled for another instruction set.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace polyhead::kernels::variants {
namespace {

// MAXPS / MINPS return their second operand when the two are equal or one is NaN, which makes
// max(lo, x) = x < lo ? lo : x and min(hi, x) = hi < x ? hi : x, as sparse_gemm.h asks.
struct SparseYmm {
  using Reg = __m256;
  static constexpr size_t kLanes = 8;
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg set1(float v) { return _mm256_set1_ps(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
};

struct SparseXmm {
  using Reg = __m128;
  static constexpr size_t kLanes = 4;
  static Reg load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm_storeu_ps(p, v); }
  static Reg set1(float v) { return _mm_set1_ps(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm_fmadd_ps(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm_max_ps(a, b); }
};

// One lane: the low element of an SSE register (VFMADD231SS), not a call to std::fma.
struct SparseSs {
  using Reg = __m128;
  static constexpr size_t kLanes = 1;
  static Reg load(const float* p) { return _mm_load_ss(p); }
  static void store(float* p, Reg v) { _mm_store_ss(p, v); }
  static Reg set1(float v) { return _mm_set_ss(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm_fmadd_ss(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm_min_ss(a, b); }
  static Reg max(Reg a, Reg b) { return _mm_max_ss(a, b); }
};

}  // namespace
}  // namespace polyhead::kernels::variants
