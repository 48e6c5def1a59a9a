// The row form of the avx512vnni table's int8 depthwise convolution (kernel_variant.h,
// Qc8DepthwiseRow): four products per int32 lane with VPDPBUSD, where the per-tap form multiplies
// one (VPDPWSSD on sign-extended bytes).
//
// The four bytes of a lane are four kernel rows of one channel: for input column x, 16 channels
// of rows k..k+3 (four 16-byte loads) are interleaved by one VPERMB into 64 bytes, lane j holding
// (row k, row k+1, row k+2, row k+3) of channel j, and flipped to u8. That register serves every
// output pixel whose window contains column x (three at stride 1 for a 3-wide kernel), each with
// one VPDPBUSD against the packed weights of its kernel column. A 3x3 window costs 3 VPDPBUSD
// per 16 outputs instead of 9 multiply-adds, and the interleave is shared by the window's columns.
//
// Whole groups of 64 channels go four registers at a time (a *quad*): a column's group of four
// kernel rows is then up to four whole 64-byte loads, one per kernel row, and eight in-lane
// unpacks (bytes of rows 0/1 and 2/3, then their 16-bit pairs), which leave register q with
// channel 16L + 4q + d in lane 4L + d. requantize_four packs four such registers back in exactly
// that order, so a pixel's 64 channels leave in one store with no permutation at all. A quad's
// column costs 2 shuffles per 16 channels where a block's costs 4 (three inserts and a VPERMB) and
// four masked loads.
//
// Packing: first the quads (channels / 64 of them), each four biases registers, four scales
// registers, then for each kernel column kx, group g of four kernel rows and register q the 64
// weight bytes, all in the quad's lane order; then blocks of 16 channels (the last padded with
// zeros): 16 int32 biases, 16 float scales, then for each kernel column kx and group g of four
// kernel rows, 64 bytes where lane j holds w[j][4g..4g+3][kx] (zeros past kh). A quad takes as
// many bytes as four blocks. The bias absorbs -(128 + input zero point) x the weight sum, exactly
// modulo 2^32: the input is read as u8 = x + 128, and padding (the input zero point) then adds
// nothing.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "qc8_depthwise.h"
#include "requantize_avx512.h"

namespace polyhead::kernels::variants {
namespace {

constexpr size_t kBlock = kDepthwiseBlock;  // channels per register
constexpr size_t kQuad = 4 * kBlock;        // channels of a quad
constexpr size_t kMaxRowGroups = 2;         // kernel rows up to 8

size_t row_groups(size_t kh) {
  return (kh + 3) / 4;
}
size_t block_bytes(size_t kh, size_t kw) {
  return (2 + kw * row_groups(kh)) * 64;
}
// The quads' and blocks' bytes (the narrow form's packing follows them).
size_t blocks_bytes(size_t channels, size_t kh, size_t kw) {
  return (channels + kBlock - 1) / kBlock * block_bytes(kh, kw);
}
// Channels taken as quads.
size_t quad_channels(size_t channels) {
  return channels / kQuad * kQuad;
}
// The channel a quad holds in lane i of register q.
size_t quad_channel(size_t q, size_t i) {
  return 16 * (i / 4) + 4 * q + i % 4;
}

// What one row's loops share.
struct RowContext {
  const int8_t* rows[4 * kMaxRowGroups];  // at the block's first channel
  size_t steps[4 * kMaxRowGroups];
  int64_t width;
  __mmask16 mask;  // the block's channels
  __m512i interleave, flip, padding;
  __m512i zero_point;  // the input zero point in every byte, unflipped (narrow form)
};

// Column x of row group g: lane j = channel j of rows 4g..4g+3, flipped to u8; a column outside
// the image is the input zero point throughout (`padding`).
inline __m512i column(const RowContext& r, int64_t x, size_t g) {
  if (x < 0 || x >= r.width) return r.padding;
  const size_t k = 4 * g;
  const auto at = [&](size_t i) {
    return _mm_maskz_loadu_epi8(r.mask, r.rows[k + i] + static_cast<size_t>(x) * r.steps[k + i]);
  };
  __m512i v = _mm512_castsi128_si512(at(0));
  v = _mm512_inserti32x4(v, at(1), 1);
  v = _mm512_inserti32x4(v, at(2), 2);
  v = _mm512_inserti32x4(v, at(3), 3);
  return _mm512_xor_si512(_mm512_permutexvar_epi8(r.interleave, v), r.flip);
}

// The requantization's constants for a row.
struct Epilogue {
  __m512 lo, hi;            // min - zero, max - zero (one pixel at a time)
  __m512i zero;             // the output zero point, as int32
  FourRequantization four;  // four pixels at a time
  __m512i pixel_order;      // kFourRowsOrder: four pixels' bytes to pixel p at bytes 16p..16p+15
};

// P output pixels from ox0 of one block: the (P - 1) * SW + KW columns their windows cover,
// each loaded once and multiplied into every pixel that reads it (indices fixed at compile time,
// so the accumulators stay in registers). At stride 1 four pixels leave together (requantize_four,
// one VPERMB), with plain stores where the block has all 16 channels.
template <size_t KW, size_t SW, size_t GH, size_t P>
void pixels(const RowContext& r, const Qc8DepthwiseRow& a, const uint8_t* block, size_t c,
            int64_t ox0, const Epilogue& e) {
  const auto* w = reinterpret_cast<const __m512i*>(block + 128);
  __m512i acc[P];
  const __m512i bias = _mm512_load_si512(block);
#pragma GCC unroll 8
  for (size_t i = 0; i < P; ++i) acc[i] = bias;
  const int64_t x0 = ox0 * static_cast<int64_t>(SW) - static_cast<int64_t>(a.pad_left);
  constexpr size_t kColumns = (P - 1) * SW + KW;
#pragma GCC unroll 32
  for (size_t j = 0; j < kColumns; ++j) {
#pragma GCC unroll 2
    for (size_t g = 0; g < GH; ++g) {
      const __m512i x = column(r, x0 + static_cast<int64_t>(j), g);
#pragma GCC unroll 8
      for (size_t kx = 0; kx < KW; ++kx) {
        if (j < kx || (j - kx) % SW != 0 || (j - kx) / SW >= P) continue;
        const size_t i = (j - kx) / SW;
        acc[i] = _mm512_dpbusd_epi32(acc[i], x, _mm512_load_si512(w + kx * GH + g));
      }
    }
  }
  const __m512 scale = _mm512_load_ps(block + 64);
  int8_t* out = a.out + static_cast<size_t>(ox0) * a.channels + c;
  if constexpr (P % 4 == 0 && SW == 1) {  // stride 2 measured 4% slower this way
    const bool whole = r.mask == 0xffff;
#pragma GCC unroll 2
    for (size_t i = 0; i < P; i += 4) {
      const __m512i packed =
          requantize_four(e.four, acc[i], acc[i + 1], acc[i + 2], acc[i + 3], scale);
      const __m512i bytes = _mm512_permutexvar_epi8(e.pixel_order, packed);
      const __m128i q[4] = {_mm512_castsi512_si128(bytes), _mm512_extracti32x4_epi32(bytes, 1),
                            _mm512_extracti32x4_epi32(bytes, 2),
                            _mm512_extracti32x4_epi32(bytes, 3)};
#pragma GCC unroll 4
      for (size_t p = 0; p < 4; ++p) {
        int8_t* o = out + (i + p) * a.channels;
        if (whole)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(o), q[p]);
        else
          _mm_mask_storeu_epi8(o, r.mask, q[p]);
      }
    }
  } else {
#pragma GCC unroll 8
    for (size_t i = 0; i < P; ++i)
      _mm_mask_storeu_epi8(
          out + i * a.channels, r.mask,
          _mm512_cvtsepi32_epi8(requantize_lanes(acc[i], scale, e.lo, e.hi, e.zero)));
  }
}

// Column x of a quad's row group g: rows 4g..4g+3, of which the last group loads kLast (the
// remaining bytes of each lane repeat its last row, whose weights there are 0; rows past kh are
// the zero-point row). Register q ends with channel 16L + 4q + d in lane 4L + d.
// The eight unpacks of a column: four rows' 64 bytes to four registers, register q holding byte
// 16L + 4q + d of each row in lane 4L + d (rows in byte order 0..3).
inline void interleave_rows(__m512i v0, __m512i v1, __m512i v2, __m512i v3, __m512i col[4]) {
  const __m512i a_lo = _mm512_unpacklo_epi8(v0, v1), a_hi = _mm512_unpackhi_epi8(v0, v1);
  const __m512i b_lo = _mm512_unpacklo_epi8(v2, v3), b_hi = _mm512_unpackhi_epi8(v2, v3);
  col[0] = _mm512_unpacklo_epi16(a_lo, b_lo);
  col[1] = _mm512_unpackhi_epi16(a_lo, b_lo);
  col[2] = _mm512_unpacklo_epi16(a_hi, b_hi);
  col[3] = _mm512_unpackhi_epi16(a_hi, b_hi);
}

// kLoads rows from at(k), the rest repeating the last (their weights are 0), interleaved.
template <size_t kLoads, typename Load>
[[gnu::always_inline]] inline void interleave_loads(const Load& at, __m512i col[4]) {
  const __m512i v0 = at(0);
  const __m512i v1 = kLoads > 1 ? at(1) : v0;
  const __m512i v2 = kLoads > 2 ? at(2) : v1;
  const __m512i v3 = kLoads > 3 ? at(3) : v2;
  interleave_rows(v0, v1, v2, v3, col);
}

template <size_t kLoads>
inline void quad_column(const RowContext& r, int64_t x, size_t g, __m512i col[4]) {
  if (x < 0 || x >= r.width) {
    col[0] = col[1] = col[2] = col[3] = r.padding;
    return;
  }
  const auto at = [&](size_t k) {
    return _mm512_xor_si512(
        _mm512_loadu_si512(r.rows[4 * g + k] + static_cast<size_t>(x) * r.steps[4 * g + k]),
        r.flip);
  };
  interleave_loads<kLoads>(at, col);
}

// P output pixels from ox0 of one quad, as pixels() does for a block; GH row groups, the last
// loading kLast rows.
template <size_t KW, size_t SW, size_t GH, size_t kLast, size_t P>
[[gnu::always_inline]] inline void quad_pixels(const RowContext& r, const Qc8DepthwiseRow& a,
                                               const uint8_t* quad, size_t c, int64_t ox0,
                                               const FourRequantization& four) {
  const auto* bias = reinterpret_cast<const __m512i*>(quad);
  const auto* w = reinterpret_cast<const __m512i*>(quad + 512);
  __m512i acc[P][4];
#pragma GCC unroll 4
  for (size_t i = 0; i < P; ++i)
#pragma GCC unroll 4
    for (size_t q = 0; q < 4; ++q) acc[i][q] = _mm512_load_si512(bias + q);
  const int64_t x0 = ox0 * static_cast<int64_t>(SW) - static_cast<int64_t>(a.pad_left);
  constexpr size_t kColumns = (P - 1) * SW + KW;
  // Row group G of column j into the pixels that read it (G a compile-time constant, so the
  // last group's load count is one too).
#pragma GCC unroll 16
  for (size_t j = 0; j < kColumns; ++j) {
#pragma GCC unroll 2
    for (size_t g = 0; g < GH; ++g) {
      __m512i col[4];
      if (g + 1 < GH)  // a constant once the loops are unrolled
        quad_column<4>(r, x0 + static_cast<int64_t>(j), g, col);
      else
        quad_column<kLast>(r, x0 + static_cast<int64_t>(j), g, col);
#pragma GCC unroll 8
      for (size_t kx = 0; kx < KW; ++kx) {
        if (j < kx || (j - kx) % SW != 0 || (j - kx) / SW >= P) continue;
        const size_t i = (j - kx) / SW;
#pragma GCC unroll 4
        for (size_t q = 0; q < 4; ++q)
          acc[i][q] =
              _mm512_dpbusd_epi32(acc[i][q], col[q], _mm512_load_si512(w + (kx * GH + g) * 4 + q));
      }
    }
  }
  const auto* scales = reinterpret_cast<const float*>(quad + 256);
  const __m512 s0 = _mm512_load_ps(scales), s1 = _mm512_load_ps(scales + 16),
               s2 = _mm512_load_ps(scales + 32), s3 = _mm512_load_ps(scales + 48);
  int8_t* out = a.out + static_cast<size_t>(ox0) * a.channels + c;
#pragma GCC unroll 4
  for (size_t i = 0; i < P; ++i)
    _mm512_storeu_si512(out + i * a.channels, requantize_four(four, acc[i][0], acc[i][1], acc[i][2],
                                                              acc[i][3], s0, s1, s2, s3));
}

// Every quad of a row. Out of line, so that the block loop of run_row_of compiles as it would
// alone (inlined, the quads' code slowed face's 24-channel 5x5 layer by 1.13x); the arguments are
// copied in once per row, since a store through int8_t* may alias whatever is reached by
// reference and every constant would be reloaded after each store (MobileNetV2's 7x7x960 layer
// took 2x the time).
template <size_t KW, size_t SW, size_t GH, size_t kLast>
[[gnu::noinline, gnu::flatten]] void run_quads(const RowContext& row, const Qc8DepthwiseRow& args,
                                               const FourRequantization& requantization) {
  RowContext r = row;
  const Qc8DepthwiseRow a = args;
  const FourRequantization four = requantization;
  const auto ow = static_cast<int64_t>(a.out_width);
  const auto* quad = static_cast<const uint8_t*>(a.packed);
  for (size_t c = 0; c < quad_channels(a.channels); c += kQuad, quad += 4 * block_bytes(a.kh, KW)) {
    for (size_t k = 0; k < 4 * GH; ++k) {
      r.rows[k] = a.rows[k] + (a.row_steps[k] ? c : 0);
      r.steps[k] = a.row_steps[k];
    }
    int64_t ox = 0;
    for (; ox + 4 <= ow; ox += 4) quad_pixels<KW, SW, GH, kLast, 4>(r, a, quad, c, ox, four);
    for (; ox + 2 <= ow; ox += 2) quad_pixels<KW, SW, GH, kLast, 2>(r, a, quad, c, ox, four);
    for (; ox < ow; ++ox) quad_pixels<KW, SW, GH, kLast, 1>(r, a, quad, c, ox, four);
  }
}

// The narrow form: layers of 8 or 32 channels at stride 1 (C channels, G = 64 / C pixels).
// One 64-byte load of a kernel row is G neighbouring pixels, and after interleave_rows register q
// holds, in lane 4L + d, channel (16L + 4q + d) mod C of pixel (16L + 4q + d) / C. Each kernel
// column kx is one load per row at the input pixel ox + kx - pad_left, so G output pixels cost KW
// columns and 4 KW VPDPBUSD per row group, and requantize_four's packs give their bytes back in
// memory order: one store of G pixels. Pixels outside the image are masked out of the load and
// read as the input zero point.
// 16 channels measured 1.09x the blocks' time (bench_int8_depthwise, selfie's 128x128x16), so
// they stay in blocks.
constexpr bool narrow_channels(size_t channels) {
  return channels == 8 || channels == 32;
}

// Row group g of the G pixels from input pixel px (which may start left of the image or end past
// it).
template <size_t kLoads, size_t C>
[[gnu::always_inline]] inline void narrow_column(const RowContext& r, int64_t px, size_t g,
                                                 __m512i col[4]) {
  constexpr int64_t pixels = 64 / C;
  constexpr auto channels = static_cast<int64_t>(C);
  const int64_t lo = std::max<int64_t>(0, -px), hi = std::min<int64_t>(pixels, r.width - px);
  if (lo >= hi) {
    col[0] = col[1] = col[2] = col[3] = r.padding;
    return;
  }
  const bool whole = lo == 0 && hi == pixels;
  const __mmask64 inside = (hi == pixels ? ~__mmask64{0} : (__mmask64{1} << (hi * channels)) - 1) &
                           ~((__mmask64{1} << (lo * channels)) - 1);
  const auto at = [&](size_t k) {
    // A zero-point row (step 0) is read from its start, whatever px is.
    const auto offset = px * static_cast<int64_t>(r.steps[4 * g + k]);
    const auto* p = reinterpret_cast<const int8_t*>(reinterpret_cast<uintptr_t>(r.rows[4 * g + k]) +
                                                    static_cast<uintptr_t>(offset));
    const __m512i v =
        whole ? _mm512_loadu_si512(p) : _mm512_mask_loadu_epi8(r.zero_point, inside, p);
    return _mm512_xor_si512(v, r.flip);
  };
  interleave_loads<kLoads>(at, col);
}

// P groups of G output pixels from ox0.
template <size_t KW, size_t GH, size_t kLast, size_t C, size_t P>
[[gnu::always_inline]] inline void narrow_pixels(const RowContext& r, const Qc8DepthwiseRow& a,
                                                 const uint8_t* packed, int64_t ox0,
                                                 const FourRequantization& four) {
  const auto* bias = reinterpret_cast<const __m512i*>(packed);
  const auto* w = reinterpret_cast<const __m512i*>(packed + 512);
  constexpr auto pixels = static_cast<int64_t>(64 / C);
  __m512i acc[P][4];
#pragma GCC unroll 4
  for (size_t i = 0; i < P; ++i)
#pragma GCC unroll 4
    for (size_t q = 0; q < 4; ++q) acc[i][q] = _mm512_load_si512(bias + q);
  const auto group = [&](size_t i, size_t kx, auto G) {
    constexpr size_t g = decltype(G)::value;
    __m512i col[4];
    const int64_t px = ox0 + static_cast<int64_t>(i) * pixels + static_cast<int64_t>(kx) -
                       static_cast<int64_t>(a.pad_left);
    narrow_column<(g + 1 < GH ? 4 : kLast), C>(r, px, g, col);
#pragma GCC unroll 4
    for (size_t q = 0; q < 4; ++q)
      acc[i][q] =
          _mm512_dpbusd_epi32(acc[i][q], col[q], _mm512_load_si512(w + (kx * GH + g) * 4 + q));
  };
#pragma GCC unroll 2
  for (size_t i = 0; i < P; ++i)
#pragma GCC unroll 8
    for (size_t kx = 0; kx < KW; ++kx) {
      group(i, kx, std::integral_constant<size_t, 0>{});
      if constexpr (GH > 1) group(i, kx, std::integral_constant<size_t, 1>{});
    }
  const auto* scales = reinterpret_cast<const float*>(packed + 256);
  const __m512 s0 = _mm512_load_ps(scales), s1 = _mm512_load_ps(scales + 16),
               s2 = _mm512_load_ps(scales + 32), s3 = _mm512_load_ps(scales + 48);
  const auto ow = static_cast<int64_t>(a.out_width);
#pragma GCC unroll 2
  for (size_t i = 0; i < P; ++i) {
    const int64_t ox = ox0 + static_cast<int64_t>(i) * pixels;
    const __m512i bytes =
        requantize_four(four, acc[i][0], acc[i][1], acc[i][2], acc[i][3], s0, s1, s2, s3);
    int8_t* out = a.out + static_cast<size_t>(ox) * C;
    if (ox + pixels <= ow) {
      _mm512_storeu_si512(out, bytes);
    } else {
      const auto n = static_cast<unsigned>((ow - ox) * static_cast<int64_t>(C));
      _mm512_mask_storeu_epi8(out, (__mmask64{1} << n) - 1, bytes);
    }
  }
}

template <size_t KW, size_t GH, size_t kLast, size_t C>
void run_narrow_of(const RowContext& row, const Qc8DepthwiseRow& args, const uint8_t* packed,
                   const FourRequantization& requantization) {
  RowContext r = row;  // local copies, as in run_quads
  const Qc8DepthwiseRow a = args;
  for (size_t k = 0; k < 4 * GH; ++k) {
    r.rows[k] = a.rows[k];
    r.steps[k] = a.row_steps[k];
  }
  const FourRequantization four = requantization;
  const auto ow = static_cast<int64_t>(a.out_width);
  constexpr auto pixels = static_cast<int64_t>(64 / C);
  int64_t ox = 0;
  for (; ox + 2 * pixels <= ow; ox += 2 * pixels)
    narrow_pixels<KW, GH, kLast, C, 2>(r, a, packed, ox, four);
  for (; ox < ow; ox += pixels) narrow_pixels<KW, GH, kLast, C, 1>(r, a, packed, ox, four);
}

template <size_t KW, size_t GH, size_t kLast>
[[gnu::noinline, gnu::flatten]] void run_narrow(const RowContext& r, const Qc8DepthwiseRow& a,
                                                const uint8_t* packed,
                                                const FourRequantization& four) {
  if (a.channels == 8)
    run_narrow_of<KW, GH, kLast, 8>(r, a, packed, four);
  else
    run_narrow_of<KW, GH, kLast, 32>(r, a, packed, four);
}

template <size_t KW, size_t SW, size_t GH>
void run_row_of(const Qc8DepthwiseRow& a) {
  RowContext r;
  r.width = static_cast<int64_t>(a.width);
  // Byte 4j + k takes byte 16k + j: channel j of the k-th row.
  alignas(64) uint8_t interleave[64];
  for (size_t j = 0; j < 16; ++j)
    for (size_t k = 0; k < 4; ++k) interleave[4 * j + k] = static_cast<uint8_t>(16 * k + j);
  r.interleave = _mm512_load_si512(interleave);
  r.flip = _mm512_set1_epi8(static_cast<char>(0x80));
  r.padding = _mm512_set1_epi8(static_cast<char>(a.a_zero_point ^ 0x80));
  r.zero_point = _mm512_set1_epi8(static_cast<char>(a.a_zero_point));
  Epilogue e;
  e.lo = _mm512_set1_ps(static_cast<float>(a.c_min - a.c_zero_point));
  e.hi = _mm512_set1_ps(static_cast<float>(a.c_max - a.c_zero_point));
  e.zero = _mm512_set1_epi32(a.c_zero_point);
  e.four = four_requantization(a.c_zero_point, a.c_min, a.c_max, a.sums_in_range);
  e.pixel_order = _mm512_load_si512(kFourRowsOrder.idx);
  const auto ow = static_cast<int64_t>(a.out_width);
  const auto* block = static_cast<const uint8_t*>(a.packed);
  size_t c = 0;
  // f gets the last row group's load count as a compile-time constant: one (kh 1, 5), all four
  // (kh 4, 8), else three (the rows past kh are the zero-point row).
  const auto with_last = [&](auto f) {
    if (a.kh % 4 == 1)
      f(std::integral_constant<size_t, 1>{});
    else if (a.kh % 4 == 0)
      f(std::integral_constant<size_t, 4>{});
    else
      f(std::integral_constant<size_t, 3>{});
  };
  if (SW == 1 && narrow_channels(a.channels)) {
    const uint8_t* narrow = block + blocks_bytes(a.channels, a.kh, KW);
    with_last([&](auto last) { run_narrow<KW, GH, decltype(last)::value>(r, a, narrow, e.four); });
    return;
  }
  if (quad_channels(a.channels) > 0) {
    with_last([&](auto last) { run_quads<KW, SW, GH, decltype(last)::value>(r, a, e.four); });
    c = quad_channels(a.channels);
    block += c / kBlock * block_bytes(a.kh, KW);
  }
  for (; c < a.channels; c += kBlock, block += block_bytes(a.kh, KW)) {
    r.mask = static_cast<__mmask16>((1u << std::min(kBlock, a.channels - c)) - 1);
    for (size_t k = 0; k < 4 * GH; ++k) {
      // A padding row has step 0 and stays at its first bytes.
      r.rows[k] = a.rows[k] + (a.row_steps[k] ? c : 0);
      r.steps[k] = a.row_steps[k];
    }
    int64_t ox = 0;
    for (; ox + 8 <= ow; ox += 8) pixels<KW, SW, GH, 8>(r, a, block, c, ox, e);
    for (; ox + 4 <= ow; ox += 4) pixels<KW, SW, GH, 4>(r, a, block, c, ox, e);
    for (; ox < ow; ++ox) pixels<KW, SW, GH, 1>(r, a, block, c, ox, e);
  }
}

template <size_t KW, size_t SW>
void run_row_groups(const Qc8DepthwiseRow& a) {
  if (row_groups(a.kh) == 1)
    run_row_of<KW, SW, 1>(a);
  else
    run_row_of<KW, SW, 2>(a);
}

}  // namespace

// Eight channels or fewer would leave half a block's lanes idle: the per-tap form's pairs of
// pixels run those faster (pose's 256x256x8 layer: 1.35x the time in blocks), except where the
// narrow form takes 8 channels (stride 1).
bool vnni_depthwise_row_supported(size_t channels, size_t kh, size_t kw, size_t stride_w) {
  return (channels > 8 || (channels == 8 && stride_w == 1)) && kh >= 1 &&
         row_groups(kh) <= kMaxRowGroups && (kw == 3 || kw == 5) &&
         (stride_w == 1 || stride_w == 2);
}

size_t vnni_depthwise_rows_packed_bytes(size_t channels, size_t kh, size_t kw) {
  return blocks_bytes(channels, kh, kw) + (narrow_channels(channels) ? 4 * block_bytes(kh, kw) : 0);
}

void vnni_depthwise_rows_pack(const int8_t* w, size_t channels, size_t kh, size_t kw,
                              const int32_t* bias, int32_t a_zero_point, const float* scale,
                              void* packed) {
  auto* out = static_cast<uint8_t*>(packed);
  std::memset(out, 0, vnni_depthwise_rows_packed_bytes(channels, kh, kw));
  // The bias with -(128 + input zero point) x the weight sum folded in.
  const auto folded_bias = [&](size_t ch) {
    const int8_t* wc = w + ch * kh * kw;
    int64_t sum = 0;
    for (size_t t = 0; t < kh * kw; ++t) sum += wc[t];
    return static_cast<uint32_t>(bias ? bias[ch] : 0) -
           static_cast<uint32_t>((128 + static_cast<int64_t>(a_zero_point)) * sum);
  };
  const size_t quads = quad_channels(channels);
  const size_t groups = row_groups(kh);
  // Four registers in a quad's lane order, register q's lane i holding channel_of(q, i).
  const auto pack_four = [&](uint8_t* to, auto channel_of) {
    auto* biases = reinterpret_cast<uint32_t*>(to);
    auto* scales = reinterpret_cast<float*>(to + 256);
    auto* weights = reinterpret_cast<int8_t*>(to + 512);
    for (size_t q = 0; q < 4; ++q)
      for (size_t i = 0; i < 16; ++i) {
        const size_t ch = channel_of(q, i);
        biases[16 * q + i] = folded_bias(ch);
        scales[16 * q + i] = scale[ch];
        for (size_t ky = 0; ky < kh; ++ky)
          for (size_t kx = 0; kx < kw; ++kx)
            weights[((kx * groups + ky / 4) * 4 + q) * 64 + 4 * i + ky % 4] =
                w[(ch * kh + ky) * kw + kx];
      }
  };
  if (narrow_channels(channels))
    pack_four(out + blocks_bytes(channels, kh, kw),
              [&](size_t q, size_t i) { return quad_channel(q, i) % channels; });
  for (size_t b = 0; b < quads; b += kQuad, out += 4 * block_bytes(kh, kw))
    pack_four(out, [&](size_t q, size_t i) { return b + quad_channel(q, i); });
  for (size_t b = quads; b < channels; b += kBlock, out += block_bytes(kh, kw)) {
    auto* biases = reinterpret_cast<uint32_t*>(out);
    auto* scales = reinterpret_cast<float*>(out + 64);
    auto* weights = reinterpret_cast<int8_t*>(out + 128);
    for (size_t j = 0; j < kBlock && b + j < channels; ++j) {
      const int8_t* wc = w + (b + j) * kh * kw;
      for (size_t ky = 0; ky < kh; ++ky)
        for (size_t kx = 0; kx < kw; ++kx)
          weights[(kx * groups + ky / 4) * 64 + 4 * j + ky % 4] = wc[ky * kw + kx];
      biases[j] = folded_bias(b + j);
      scales[j] = scale[b + j];
    }
  }
}

void vnni_depthwise_run_row(const Qc8DepthwiseRow& a) {
  if (a.kw == 3)
    a.stride_w == 1 ? run_row_groups<3, 1>(a) : run_row_groups<3, 2>(a);
  else
    a.stride_w == 1 ? run_row_groups<5, 1>(a) : run_row_groups<5, 2>(a);
}

}  // namespace polyhead::kernels::variants
