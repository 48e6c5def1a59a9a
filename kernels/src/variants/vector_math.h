// tanh and softmax written once over an ISA's register operations `V`, instantiated by each SIMD
// variant file (compiled with that ISA's flags). Everything here is a template on `V`, so no
// function compiled with wider instructions can be picked by the linker for baseline code: keep
// it that way (no non-template inline functions, no std:: algorithms on plain floats).
//
// V provides: Reg, Mask, kLanes, load, store, set1, add, sub, mul, div, min, max,
// fma(a, b, c) = a * b + c, round (to nearest), pow2 (2^n for integral n in [-126, 127]),
// abs, or_sign (magnitude | sign bit of another), less, greater, select(m, a, b) = m ? a : b,
// reduce_add, reduce_max.
#pragma once

#include <cstddef>
#include <cstring>

namespace polyhead::kernels::variants {

// e^x: n = round(x / ln 2), r = x - n ln 2 (two-part ln 2 so r stays exact), e^r from its Taylor
// series to r^7 (|r| <= ln2 / 2 keeps the truncation below 0.1 ulp), scaled by 2^n. Beyond the
// float range the result is +inf or 0 (the reference returns subnormals below -87.3; the
// difference is under 1.2e-38).
template <class V>
typename V::Reg vexp(typename V::Reg x) {
  using R = typename V::Reg;
  R n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  n = V::min(V::max(n, V::set1(-126.f)), V::set1(127.f));
  R r = V::fma(n, V::set1(-0.693145751953125f), x);
  r = V::fma(n, V::set1(-1.42860682030941723e-06f), r);
  R p = V::set1(1.f / 5040.f);
  p = V::fma(p, r, V::set1(1.f / 720.f));
  p = V::fma(p, r, V::set1(1.f / 120.f));
  p = V::fma(p, r, V::set1(1.f / 24.f));
  p = V::fma(p, r, V::set1(1.f / 6.f));
  p = V::fma(p, r, V::set1(0.5f));
  p = V::fma(p, r, V::set1(1.f));
  p = V::fma(p, r, V::set1(1.f));
  R y = V::mul(p, V::pow2(n));
  y = V::select(V::greater(x, V::set1(88.7228394f)), V::set1(__builtin_inff()), y);
  return V::select(V::less(x, V::set1(-87.3365448f)), V::set1(0.f), y);
}

// tanh: below |x| = 0.625 the odd Taylor series to x^19 (error < 5e-9); above it
// 1 - 2 / (e^{2|x|} + 1), which has no cancellation there. |x| is capped at 10, where tanh is
// 1 in float. The sign is put back last, so tanh(-0) = -0.
template <class V>
typename V::Reg vtanh(typename V::Reg x) {
  using R = typename V::Reg;
  const R a = V::abs(x);
  const R a2 = V::mul(a, a);
  R s = V::set1(-2.39129114243552481e-04f);
  s = V::fma(s, a2, V::set1(5.90027440945585981e-04f));
  s = V::fma(s, a2, V::set1(-1.45583438705131827e-03f));
  s = V::fma(s, a2, V::set1(3.59212803657248102e-03f));
  s = V::fma(s, a2, V::set1(-8.86323552990219657e-03f));
  s = V::fma(s, a2, V::set1(2.18694885361552029e-02f));
  s = V::fma(s, a2, V::set1(-5.39682539682539683e-02f));
  s = V::fma(s, a2, V::set1(1.33333333333333333e-01f));
  s = V::fma(s, a2, V::set1(-3.33333333333333333e-01f));
  s = V::fma(s, a2, V::set1(1.f));
  s = V::mul(s, a);
  const R e = vexp<V>(V::mul(V::min(a, V::set1(10.f)), V::set1(2.f)));
  const R l = V::sub(V::set1(1.f), V::div(V::set1(2.f), V::add(e, V::set1(1.f))));
  return V::or_sign(V::select(V::less(a, V::set1(0.625f)), s, l), x);
}

template <class V>
void tanh_array(const float* input, size_t count, float* output) {
  size_t i = 0;
  for (; i + V::kLanes <= count; i += V::kLanes) V::store(output + i, vtanh<V>(V::load(input + i)));
  if (i == count) return;
  // The tail goes through a full register padded with zeros.
  float buffer[V::kLanes] = {};
  std::memcpy(buffer, input + i, (count - i) * sizeof(float));
  V::store(buffer, vtanh<V>(V::load(buffer)));
  std::memcpy(output + i, buffer, (count - i) * sizeof(float));
}

// SiLU: x / (1 + e^-x), and -0 below x = -88, where |x sigmoid(x)| < 4e-36 (so silu(-inf) is
// -0, its limit, not -inf / inf). e^-x is capped at e^88 so the sum stays finite.
template <class V>
typename V::Reg vsilu(typename V::Reg x) {
  const typename V::Reg e = vexp<V>(V::min(V::sub(V::set1(0.f), x), V::set1(88.f)));
  return V::select(V::less(x, V::set1(-88.f)), V::set1(-0.f), V::div(x, V::add(V::set1(1.f), e)));
}

template <class V>
void silu_array(const float* input, size_t count, float* output) {
  size_t i = 0;
  for (; i + V::kLanes <= count; i += V::kLanes) V::store(output + i, vsilu<V>(V::load(input + i)));
  if (i == count) return;
  float buffer[V::kLanes] = {};
  std::memcpy(buffer, input + i, (count - i) * sizeof(float));
  V::store(buffer, vsilu<V>(V::load(buffer)));
  std::memcpy(output + i, buffer, (count - i) * sizeof(float));
}

// Softmax of one row: max, then e^{(x - max) beta} stored and summed, then scaled by 1 / sum.
template <class V>
void softmax_row(const float* x, size_t channels, float beta, float* y) {
  using R = typename V::Reg;
  constexpr size_t L = V::kLanes;
  const size_t full = channels - channels % L;
  float max_value = x[0];
  if (full) {
    R m = V::load(x);
    for (size_t c = L; c < full; c += L) m = V::max(m, V::load(x + c));
    max_value = V::reduce_max(m);
  }
  for (size_t c = full; c < channels; ++c) max_value = x[c] > max_value ? x[c] : max_value;
  const R vmax = V::set1(max_value);
  const R vbeta = V::set1(beta);
  R vsum = V::set1(0.f);
  for (size_t c = 0; c < full; c += L) {
    const R e = vexp<V>(V::mul(V::sub(V::load(x + c), vmax), vbeta));
    V::store(y + c, e);
    vsum = V::add(vsum, e);
  }
  float sum = V::reduce_add(vsum);
  if (full < channels) {
    float buffer[L] = {};
    const size_t tail = channels - full;
    std::memcpy(buffer, x + full, tail * sizeof(float));
    V::store(buffer, vexp<V>(V::mul(V::sub(V::load(buffer), vmax), vbeta)));
    for (size_t c = 0; c < tail; ++c) sum += buffer[c];
    std::memcpy(y + full, buffer, tail * sizeof(float));
  }
  const R inv = V::set1(1.f / sum);
  for (size_t c = 0; c < full; c += L) V::store(y + c, V::mul(V::load(y + c), inv));
  for (size_t c = full; c < channels; ++c) y[c] *= 1.f / sum;
}

template <class V>
void softmax_rows(const float* input, size_t rows, size_t channels, float beta, float* output) {
  for (size_t r = 0; r < rows; ++r)
    softmax_row<V>(input + r * channels, channels, beta, output + r * channels);
}

// acc[i] = clamp(fma(x[t][i], w[t][i % period], acc[i]) over the taps in turn), two registers of
// acc at a time kept in registers across the taps (period is a multiple of 32, so of
// 2 * kLanes); the tail through registers padded with zeros.
template <class V>
void multiply_add_taps(size_t taps, const float* const* x, const float* const* w, size_t period,
                       size_t count, float min, float max, float* acc) {
  using R = typename V::Reg;
  constexpr size_t L = V::kLanes;
  const R lo = V::set1(min), hi = V::set1(max);
  size_t i = 0, j = 0;  // j = i % period
  for (; i + 2 * L <= count; i += 2 * L, j = j + 2 * L == period ? 0 : j + 2 * L) {
    R a0 = V::load(acc + i), a1 = V::load(acc + i + L);
    for (size_t t = 0; t < taps; ++t) {
      a0 = V::fma(V::load(x[t] + i), V::load(w[t] + j), a0);
      a1 = V::fma(V::load(x[t] + i + L), V::load(w[t] + j + L), a1);
    }
    V::store(acc + i, V::min(V::max(a0, lo), hi));
    V::store(acc + i + L, V::min(V::max(a1, lo), hi));
  }
  for (; i < count; i += L, j += L) {
    const size_t n = count - i < L ? count - i : L;
    float bx[L] = {}, ba[L] = {};
    std::memcpy(ba, acc + i, n * sizeof(float));
    R a = V::load(ba);
    for (size_t t = 0; t < taps; ++t) {
      std::memcpy(bx, x[t] + i, n * sizeof(float));
      a = V::fma(V::load(bx), V::load(w[t] + j), a);  // j + L <= period: whole register
    }
    V::store(ba, V::min(V::max(a, lo), hi));
    std::memcpy(acc + i, ba, n * sizeof(float));
  }
}

}  // namespace polyhead::kernels::variants
