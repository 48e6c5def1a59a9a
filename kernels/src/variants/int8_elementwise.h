// int8 ADD / SUB / MUL and bilinear resize (kernel_variant.h, Int8Elementwise) as plain loops over
// integers: each variant file includes this header and compiles it with its own instruction set,
// so the compiler vectorizes the same source for each and every variant gives the same bytes
// (integer arithmetic, and for MUL one float32 multiplication, which is exact IEEE rounding on
// every target; nothing the compiler could contract into a fused multiply-add).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "polyhead/kernels/kernel_variant.h"

namespace polyhead::kernels::variants {
// Internal linkage throughout: each variant's copy is compiled with its own instruction set, and
// must not be merged with another's by the linker.
namespace {
namespace int8_elementwise {

// round_half_even(acc / 2^shift) for 1 <= shift <= 31 and acc + 2^(shift-1) without overflow:
// adding half - 1, plus 1 when the truncated quotient is odd, moves exactly the ties of odd
// quotients up (floor of an arithmetic shift).
inline int32_t shift_round_even(int32_t acc, int32_t shift) {
  return (acc + ((int32_t{1} << (shift - 1)) - 1) + ((acc >> shift) & 1)) >> shift;
}

// round_half_away_from_zero(acc / 2^shift), the rule of TFLite's reference kernels for ADD, SUB
// and MUL (and so of LiteRT), under the same bounds.
inline int32_t shift_round_away(int32_t acc, int32_t shift) {
  return (acc + (int32_t{1} << (shift - 1)) - (acc < 0 ? 1 : 0)) >> shift;
}

inline void add(size_t rows, size_t inner, const int8_t* a, const int8_t* b, size_t b_stride,
                const Int8AddParams& p, int8_t* out) {
  const int32_t za = p.a_zero, zb = p.b_zero, zo = p.out_zero, ma = p.a_multiplier,
                mb = p.b_multiplier, shift = p.shift, lo = p.min, hi = p.max;
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* __restrict ar = a + r * inner;
    const int8_t* __restrict br = b + r * b_stride;
    int8_t* __restrict o = out + r * inner;
    for (size_t i = 0; i < inner; ++i) {
      const int32_t acc = (ar[i] - za) * ma + (br[i] - zb) * mb;
      const int32_t q = shift_round_away(acc, shift) + zo;
      o[i] = static_cast<int8_t>(std::min(std::max(q, lo), hi));
    }
  }
}

inline void mul(size_t rows, size_t inner, const int8_t* a, const int8_t* b, size_t b_stride,
                const Int8MulParams& p, int8_t* out) {
  // v is clamped to the int8 range first (the bounds are integers, so clamping first equals
  // rounding first); then v +- 0.5 is exact in float32 and truncation rounds half away from zero.
  const int32_t za = p.a_zero, zb = p.b_zero, zo = p.out_zero;
  const float scale = p.scale;
  const auto lo = static_cast<float>(p.min - zo);
  const auto hi = static_cast<float>(p.max - zo);
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* __restrict ar = a + r * inner;
    const int8_t* __restrict br = b + r * b_stride;
    int8_t* __restrict o = out + r * inner;
    for (size_t i = 0; i < inner; ++i) {
      const float v = static_cast<float>((ar[i] - za) * (br[i] - zb)) * scale;
      const float c = std::min(std::max(v, lo), hi);
      o[i] = static_cast<int8_t>(static_cast<int32_t>(c + (c < 0.f ? -0.5f : 0.5f)) + zo);
    }
  }
}

template <size_t C>
inline void bilinear_pixels(const int8_t* top, const int8_t* bottom, size_t out_w, size_t channels,
                            const int32_t* x0, const int32_t* x1, const int16_t* wx, int32_t wy,
                            int8_t* out) {
  const size_t c_count = C ? C : channels;
  const int32_t wt = 2048 - wy;
  for (size_t x = 0; x < out_w; ++x) {
    const int8_t* __restrict t0 = top + x0[x];
    const int8_t* __restrict t1 = top + x1[x];
    const int8_t* __restrict b0 = bottom + x0[x];
    const int8_t* __restrict b1 = bottom + x1[x];
    const int32_t w1 = wx[x], w0 = 2048 - w1;
    int8_t* __restrict o = out + x * c_count;
    for (size_t c = 0; c < c_count; ++c) {
      const int32_t t = t0[c] * w0 + t1[c] * w1;
      const int32_t b = b0[c] * w0 + b1[c] * w1;
      o[c] = static_cast<int8_t>(shift_round_even(t * wt + b * wy, 22));
    }
  }
}

inline void resize_bilinear_row(const int8_t* top, const int8_t* bottom, size_t out_w,
                                size_t channels, const int32_t* x0, const int32_t* x1,
                                const int16_t* wx, int32_t wy, int8_t* out) {
  // Fixed channel counts let the compiler keep a pixel in registers (the common MediaPipe ones).
  if (channels == 8)
    bilinear_pixels<8>(top, bottom, out_w, channels, x0, x1, wx, wy, out);
  else if (channels == 16)
    bilinear_pixels<16>(top, bottom, out_w, channels, x0, x1, wx, wy, out);
  else
    bilinear_pixels<0>(top, bottom, out_w, channels, x0, x1, wx, wy, out);
}

// 16 * the blend in int16 (|16 * 128| fits): vertically v = wn * near + wf * far, then
// horizontally w[2] * v[j] + w[3] * v[j - 1] (even output pixel) and w[4] * v[j] + w[5] * v[j + 1]
// (odd), neighbours clamped at the edges; each pair of weights sums to 4.
template <size_t C>
inline void upsample_2x_pixels(const int8_t* near, const int8_t* far, size_t in_w, size_t channels,
                               const int16_t* w, int8_t* out) {
  const size_t c_count = C ? C : channels;
  const int16_t wn = w[0], wf = w[1], es = w[2], el = w[3], os = w[4], orr = w[5];
  for (size_t j = 0; j < in_w; ++j) {
    const size_t l = (j == 0 ? 0 : j - 1) * c_count;
    const size_t m = j * c_count;
    const size_t r = (j + 1 == in_w ? j : j + 1) * c_count;
    const int8_t* __restrict nl = near + l;
    const int8_t* __restrict nm = near + m;
    const int8_t* __restrict nr = near + r;
    const int8_t* __restrict fl = far + l;
    const int8_t* __restrict fm = far + m;
    const int8_t* __restrict fr = far + r;
    int8_t* __restrict even = out + 2 * j * c_count;
    int8_t* __restrict odd = even + c_count;
    for (size_t c = 0; c < c_count; ++c) {
      const auto vl = static_cast<int16_t>(wn * nl[c] + wf * fl[c]);
      const auto vm = static_cast<int16_t>(wn * nm[c] + wf * fm[c]);
      const auto vr = static_cast<int16_t>(wn * nr[c] + wf * fr[c]);
      const auto se = static_cast<int16_t>(es * vm + el * vl);
      const auto so = static_cast<int16_t>(os * vm + orr * vr);
      even[c] = static_cast<int8_t>((se + 7 + ((se >> 4) & 1)) >> 4);
      odd[c] = static_cast<int8_t>((so + 7 + ((so >> 4) & 1)) >> 4);
    }
  }
}

inline int8_t round_sixteenth(int16_t x) {
  return static_cast<int8_t>((x + 7 + ((x >> 4) & 1)) >> 4);
}

// The same values as upsample_2x_pixels, in blocks of pixels whose loops run over contiguous
// values rather than one pixel's channels (few channels left the vectors mostly empty): the
// vertical blend of the block and its two neighbours into `v`, the even and odd outputs of all its
// values, then the two interleaved pixel by pixel.
template <size_t C>
inline void upsample_2x_blocks(const int8_t* near, const int8_t* far, size_t in_w, const int16_t* w,
                               int8_t* out) {
  constexpr size_t kBlock = 4096 / C;  // pixels per block
  int16_t v[(kBlock + 2) * C];
  int8_t even[kBlock * C], odd[kBlock * C];
  const int16_t wn = w[0], wf = w[1], es = w[2], el = w[3], os = w[4], orr = w[5];
  for (size_t j0 = 0; j0 < in_w; j0 += kBlock) {
    const size_t n = std::min(kBlock, in_w - j0);
    // Slot s of v holds pixel j0 - 1 + s, clamped to the image.
    const size_t left = j0 == 0 ? 0 : j0 - 1;
    const size_t right = std::min(j0 + n, in_w - 1);
    for (size_t c = 0; c < C; ++c) {
      v[c] = static_cast<int16_t>(wn * near[left * C + c] + wf * far[left * C + c]);
      v[(n + 1) * C + c] = static_cast<int16_t>(wn * near[right * C + c] + wf * far[right * C + c]);
    }
    {
      const int8_t* __restrict nb = near + j0 * C;
      const int8_t* __restrict fb = far + j0 * C;
      int16_t* __restrict vb = v + C;
      for (size_t k = 0; k < n * C; ++k) vb[k] = static_cast<int16_t>(wn * nb[k] + wf * fb[k]);
    }
    {
      const int16_t* __restrict vl = v;
      const int16_t* __restrict vm = v + C;
      const int16_t* __restrict vr = v + 2 * C;
      int8_t* __restrict e = even;
      int8_t* __restrict o = odd;
      for (size_t k = 0; k < n * C; ++k) {
        e[k] = round_sixteenth(static_cast<int16_t>(es * vm[k] + el * vl[k]));
        o[k] = round_sixteenth(static_cast<int16_t>(os * vm[k] + orr * vr[k]));
      }
    }
    int8_t* dst = out + 2 * j0 * C;
    for (size_t s = 0; s < n; ++s, dst += 2 * C) {
      std::memcpy(dst, even + s * C, C);
      std::memcpy(dst + C, odd + s * C, C);
    }
  }
}

inline void resize_2x_row(const int8_t* near, const int8_t* far, size_t in_w, size_t channels,
                          const int16_t* weights, int8_t* out) {
  // Fixed channel counts (MediaPipe's) give fixed-size copies and loops the compiler unrolls.
  switch (channels) {
    case 8:
      return upsample_2x_blocks<8>(near, far, in_w, weights, out);
    case 16:
      return upsample_2x_blocks<16>(near, far, in_w, weights, out);
    case 24:
      return upsample_2x_blocks<24>(near, far, in_w, weights, out);
    case 32:
      return upsample_2x_blocks<32>(near, far, in_w, weights, out);
    case 64:
      return upsample_2x_pixels<64>(near, far, in_w, channels, weights, out);
    case 128:
      return upsample_2x_pixels<128>(near, far, in_w, channels, weights, out);
    default:
      return upsample_2x_pixels<0>(near, far, in_w, channels, weights, out);
  }
}

}  // namespace int8_elementwise

// The table, one per including variant file.
const Int8Elementwise kInt8Elementwise = {
    int8_elementwise::add,
    int8_elementwise::mul,
    int8_elementwise::resize_bilinear_row,
    int8_elementwise::resize_2x_row,
};
}  // namespace

}  // namespace polyhead::kernels::variants
