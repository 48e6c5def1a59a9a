// The int8 additions of the avx512vnni variant (Ice Lake, Zen 4 and later), compiled alone with
// the AVX-512 BW/VL/VNNI/VBMI flags and run only when cpuinfo reports them (isa.cc):
// - an int8 GEMM with VPDPBUSD (four u8 x s8 products summed into each int32 lane) for the 1x1
//   convolutions and fully connected layers of int8 models. Debian's XNNPACK snapshot predates
//   its VNNI kernels, and without VNNI an int8 multiply-accumulate costs about what a float one
//   does;
// - the 256-entry table lookup with VPERMI2B (two 128-byte halves, picked by the index's top
//   bit), 64 values per step where the portable form does one.
//
// Packed weights, per block of 16 output channels: 16 int32 biases (with the input zero point
// and the u8 offset folded in), 16 float scales, then ceil(k/4) groups of 64 bytes, where lane j
// holds w[j][4g..4g+3] (zeros past n and k).
//
// VPDPBUSD multiplies unsigned by signed bytes: activations are flipped to u8 (a + 128, an XOR
// with 0x80), and sum_k (a + 128) w = sum_k a w + 128 sum_k w, so the bias absorbs
// -(128 + a_zero_point) * sum_k w[j][k].
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "requantize_avx512.h"
#include "variants.h"

namespace polyhead::kernels::variants {
namespace {

constexpr size_t kNr = 16;  // output channels per block (one register of int32)
constexpr size_t kMr = 8;   // rows per tile: 8 rows x 2 blocks = 16 accumulators

size_t groups(size_t k) {
  return (k + 3) / 4;
}
size_t block_bytes(size_t k) {
  return 2 * 64 + groups(k) * 64;
}

size_t packed_bytes(size_t n, size_t k) {
  return (n + kNr - 1) / kNr * block_bytes(k);
}

void pack(const int8_t* w, size_t n, size_t k, const int32_t* bias, int32_t a_zero_point,
          const float* scale, void* packed) {
  auto* out = static_cast<uint8_t*>(packed);
  for (size_t b = 0; b < (n + kNr - 1) / kNr; ++b) {
    uint8_t* block = out + b * block_bytes(k);
    std::memset(block, 0, block_bytes(k));
    for (size_t j = 0; j < kNr && b * kNr + j < n; ++j) {
      const size_t col = b * kNr + j;
      int64_t sum = 0;
      for (size_t t = 0; t < k; ++t) {
        sum += w[col * k + t];
        block[128 + (t / 4) * 64 + j * 4 + t % 4] = static_cast<uint8_t>(w[col * k + t]);
      }
      // In 64 bits, then modulo 2^32 as the int32 accumulators wrap (and reference::qc8_gemm): a
      // bias near the int32 limits in a hostile model is not undefined behaviour here
      // (found by fuzz_phm_model).
      const int64_t folded = int64_t{bias ? bias[col] : 0} - int64_t{128 + a_zero_point} * sum;
      const auto wrapped = static_cast<uint32_t>(folded);
      std::memcpy(block + j * 4, &wrapped, 4);
      std::memcpy(block + 64 + j * 4, &scale[col], 4);
    }
  }
}

inline __m512i broadcast_u8(const int8_t* p, size_t bytes) {
  uint32_t v = 0;  // bytes past `bytes` stay 0: they meet zero weights
  if (bytes == 4) {
    std::memcpy(&v, p, 4);
  } else {  // the tail of a row: byte by byte, never past its end
    for (size_t i = 0; i < bytes; ++i)
      v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return _mm512_xor_si512(_mm512_set1_epi32(static_cast<int32_t>(v)),
                          _mm512_set1_epi32(static_cast<int32_t>(0x80808080u)));
}

inline __m512i broadcast_group(const uint8_t* p) {
  using Unaligned32 = int32_t __attribute__((may_alias, aligned(1)));
  return _mm512_set1_epi32(*reinterpret_cast<const Unaligned32*>(p));  // a load, no ALU port
}

// Depths up to 4 * kTileMaxGroups run from chunks of rows flipped to u8 once into a stack buffer of
// kFlipBytes (at least kMr rows of the deepest; at most kFlipMaxRows rows); deeper ones (none in
// the models we know) flip each broadcast.
constexpr size_t kTileMaxGroups = 1024;
constexpr size_t kFlipBytes = kMr * 4 * kTileMaxGroups;
constexpr size_t kFlipMaxRows = 64;

// Group g of a row: from a flipped buffer, or from the int8 row itself (its tail byte by byte).
template <bool kFlipped>
inline __m512i broadcast_at(const uint8_t* row, size_t g, size_t k) {
  if constexpr (kFlipped) return broadcast_group(row + 4 * g);
  return broadcast_u8(reinterpret_cast<const int8_t*>(row) + 4 * g, std::min<size_t>(4, k - 4 * g));
}

// One tile: `rows` (<= MR) rows x NB blocks. Rows past `rows` repeat the last one (computed,
// not stored), so the inner loop has no branches.
template <size_t MR, size_t NB, bool kFlipped, bool kInRange>
void tile(size_t rows, size_t k, const uint8_t* a, size_t a_stride, const uint8_t* blocks,
          size_t cols, int32_t zero, int32_t lo, int32_t hi, int8_t* c, size_t c_stride) {
  const size_t bb = block_bytes(k);
  const uint8_t* ar[MR];
  for (size_t i = 0; i < MR; ++i) ar[i] = a + std::min(i, rows - 1) * a_stride;
  __m512i acc[MR][NB];
  for (size_t b = 0; b < NB; ++b) {
    const __m512i bias = _mm512_loadu_si512(blocks + b * bb);
    for (size_t i = 0; i < MR; ++i) acc[i][b] = bias;
  }
  const uint8_t* wp = blocks + 128;
  for (size_t g = 0; g < groups(k); ++g) {
    __m512i wv[NB];
    for (size_t b = 0; b < NB; ++b) wv[b] = _mm512_loadu_si512(wp + b * bb + g * 64);
    for (size_t i = 0; i < MR; ++i) {
      const __m512i av = broadcast_at<kFlipped>(ar[i], g, k);
      for (size_t b = 0; b < NB; ++b) acc[i][b] = _mm512_dpbusd_epi32(acc[i][b], av, wv[b]);
    }
  }
  for (size_t b = 0; b < NB; ++b) {
    const __m512 scale = _mm512_loadu_ps(reinterpret_cast<const float*>(blocks + b * bb + 64));
    const size_t n = std::min(kNr, cols - b * kNr);
    const auto mask = static_cast<__mmask16>((1u << n) - 1);
    if constexpr (MR < 4) {  // a fully connected layer's row or a short tail: row by row
      const __m512 flo = _mm512_set1_ps(static_cast<float>(lo - zero));
      const __m512 fhi = _mm512_set1_ps(static_cast<float>(hi - zero));
      const __m512i vzero = _mm512_set1_epi32(zero);
      for (size_t i = 0; i < rows; ++i)
        _mm_mask_storeu_epi8(
            c + i * c_stride + b * kNr, mask,
            _mm512_cvtepi32_epi8(requantize_lanes(acc[i][b], scale, flo, fhi, vzero)));
    } else {  // four rows per requantize_four and one VPERMB
      const FourRequantization q = four_requantization(zero, lo, hi, kInRange);
      const __m512i order = _mm512_load_si512(kFourRowsOrder.idx);
      for (size_t r = 0; r < MR && r < rows; r += 4) {
        const __m512i bytes = _mm512_permutexvar_epi8(
            order,
            requantize_four(q, acc[r][b], acc[r + 1][b], acc[r + 2][b], acc[r + 3][b], scale));
        int8_t* o = c + r * c_stride + b * kNr;
        _mm_mask_storeu_epi8(o, mask, _mm512_castsi512_si128(bytes));
        if (r + 1 < rows)
          _mm_mask_storeu_epi8(o + c_stride, mask, _mm512_extracti32x4_epi32(bytes, 1));
        if (r + 2 < rows)
          _mm_mask_storeu_epi8(o + 2 * c_stride, mask, _mm512_extracti32x4_epi32(bytes, 2));
        if (r + 3 < rows)
          _mm_mask_storeu_epi8(o + 3 * c_stride, mask, _mm512_extracti32x4_epi32(bytes, 3));
      }
    }
  }
}

// Rows [0, rows) (<= MR), as tile() reads them (kFlipped: u8 rows from flip_chunk), with all
// column blocks, two at a time.
template <size_t MR, bool kFlipped, bool kInRange>
void row_tile(size_t rows, size_t n, size_t k, const uint8_t* a, size_t a_stride,
              const uint8_t* blocks, int32_t zero, int32_t lo, int32_t hi, int8_t* c,
              size_t c_stride) {
  const size_t nblocks = (n + kNr - 1) / kNr;
  const size_t bb = block_bytes(k);
  size_t b = 0;
  for (; b + 2 <= nblocks; b += 2)
    tile<MR, 2, kFlipped, kInRange>(rows, k, a, a_stride, blocks + b * bb, n - b * kNr, zero, lo,
                                    hi, c + b * kNr, c_stride);
  if (b < nblocks)
    tile<MR, 1, kFlipped, kInRange>(rows, k, a, a_stride, blocks + b * bb, n - b * kNr, zero, lo,
                                    hi, c + b * kNr, c_stride);
}

// Rows [0, m) in tiles of up to kMr rows.
template <bool kFlipped, bool kInRange>
void row_tiles(size_t m, size_t n, size_t k, const uint8_t* a, size_t a_stride,
               const uint8_t* blocks, int32_t zero, int32_t lo, int32_t hi, int8_t* c,
               size_t c_stride) {
  for (size_t r = 0; r < m; r += kMr) {
    const size_t rows = std::min(kMr, m - r);
    // A short last tile (a fully connected layer's single row) computes no wasted rows.
    auto* f = rows > 4   ? row_tile<kMr, kFlipped, kInRange>
              : rows > 2 ? row_tile<4, kFlipped, kInRange>
              : rows > 1 ? row_tile<2, kFlipped, kInRange>
                         : row_tile<1, kFlipped, kInRange>;
    f(rows, n, k, a + r * a_stride, a_stride, blocks, zero, lo, hi, c + r * c_stride, c_stride);
  }
}

// Rows [0, rows) of a flipped to u8, 64 bytes per XOR, to buf at `stride` (4 * groups(k)) bytes
// per row. Never reads past a row; a row's last store spills up to 64 bytes past it (the next
// row overwrites them; buf has 64 bytes to spare after the last). Bytes past k meet zero weights.
void flip_chunk(const int8_t* a, size_t a_stride, size_t k, size_t stride, size_t rows,
                uint8_t* buf) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* row = a + r * a_stride;
    uint8_t* out = buf + r * stride;
    size_t i = 0;
    for (; i + 64 <= k; i += 64)
      _mm512_storeu_si512(out + i, _mm512_xor_si512(_mm512_loadu_si512(row + i), flip));
    if (i < k) {
      const __mmask64 tail = ~uint64_t{0} >> (64 - (k - i));
      _mm512_storeu_si512(out + i, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, row + i), flip));
    }
  }
}

// ---- Few channels: n <= 16 output channels from k <= 64 input channels (issue 14) ----
// With 16 channels out of 16 the general tile spends more on bookkeeping than on its four
// VPDPBUSD per row: an XOR per broadcast group, a 2-uop VPMOVDB and a masked store per row, and
// the setup of an 8-row tile for every 8 rows. Here a block of up to 64 rows is flipped to u8 once,
// 64 bytes per XOR, into a stack buffer, from which each group is a plain broadcast load; the
// weights stay in registers for the whole call; eight rows run at once (eight independent
// VPDPBUSD chains); four rows' int32 results become bytes together (requantize_four) and one VPERMB
// puts them in output order, so contiguous output rows take one store per four rows. Same
// requantization and rounding as tile().

constexpr size_t kFewMaxN = kNr;
constexpr size_t kFewMaxK = 64;
constexpr size_t kFewChunk = 64;  // rows flipped per pass
constexpr size_t kFewRows = 8;    // rows per step

// After VPACKSSWB(VPACKSSDW(q0, q1), VPACKSSDW(q2, q3)) 128-bit lane L holds, at byte 4p + j,
// channel 4L + j of row p. idx[n] gathers row p's channel ch to byte p * n + ch (rows of n
// bytes back to back); idx[16] is also the layout used for rows with another stride.
struct FewPermutes {
  uint8_t idx[kFewMaxN + 1][64];
};
constexpr FewPermutes make_few_permutes() {
  FewPermutes t{};
  for (size_t n = 1; n <= kFewMaxN; ++n)
    for (size_t i = 0; i < 64 && i / n < 4; ++i) {
      const size_t row = i / n, ch = i % n;
      t.idx[n][i] = static_cast<uint8_t>(16 * (ch / 4) + 4 * row + ch % 4);
    }
  return t;
}
alignas(64) constexpr FewPermutes kFewPermutes = make_few_permutes();

// Rows [0, rows) of a, flipped to u8, to buf at `stride` (k rounded up to 4) bytes per row, then
// zero rows up to a multiple of kFewRows (computed, not stored). Bytes past a row's k meet zero
// weights, whatever they hold.
inline void flip_rows(const int8_t* a, size_t a_stride, size_t k, size_t stride, size_t rows,
                      uint8_t* buf) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  if (a_stride == k && k == stride) {  // one run of bytes
    const size_t bytes = rows * k;
    size_t i = 0;
    for (; i + 64 <= bytes; i += 64)
      _mm512_storeu_si512(buf + i, _mm512_xor_si512(_mm512_loadu_si512(a + i), flip));
    if (i < bytes) {
      const __mmask64 mask = (~uint64_t{0}) >> (64 - (bytes - i));
      _mm512_storeu_si512(buf + i, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a + i), flip));
    }
  } else {
    const __mmask64 mask = (~uint64_t{0}) >> (64 - k);
    for (size_t r = 0; r < rows; ++r)  // each store's spill past the row is overwritten next
      _mm512_storeu_si512(buf + r * stride,
                          _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a + r * a_stride), flip));
  }
  const size_t padded = (rows + kFewRows - 1) / kFewRows * kFewRows;
  std::memset(buf + rows * stride, 0, (padded - rows) * stride);
}

// Rows [0, rows) (flipped, in buf at 4G bytes per row, padded to a multiple of kFewRows) times
// one block of 16 output channels, of which `cols` are stored.
template <size_t G, bool kInRange>
void few_channels_block(size_t rows, const uint8_t* buf, const uint8_t* block, size_t cols,
                        int32_t zero, int32_t lo, int32_t hi, int8_t* c, size_t c_stride) {
  constexpr size_t kStride = 4 * G;  // bytes per row in buf: offsets known at compile time
  __m512i w[G];
  for (size_t g = 0; g < G; ++g) w[g] = _mm512_loadu_si512(block + 128 + g * 64);
  const __m512i bias = _mm512_loadu_si512(block);
  const __m512 scale = _mm512_loadu_ps(reinterpret_cast<const float*>(block + 64));
  const FourRequantization q = four_requantization(zero, lo, hi, kInRange);
  const bool packed_rows = c_stride == cols;  // only when the block holds every channel
  const __m512i perm = _mm512_load_si512(kFewPermutes.idx[packed_rows ? cols : kFewMaxN]);
  const auto row_mask = static_cast<__mmask16>((1u << cols) - 1);
  const __mmask64 four_rows = (~uint64_t{0}) >> (64 - 4 * cols);
  for (size_t s = 0; s < rows; s += kFewRows) {
    const uint8_t* rows_in = buf + s * kStride;
    __m512i acc[kFewRows];
    for (size_t i = 0; i < kFewRows; ++i) acc[i] = bias;
    for (size_t g = 0; g < G; ++g)
      for (size_t i = 0; i < kFewRows; ++i)
        acc[i] = _mm512_dpbusd_epi32(acc[i], broadcast_group(rows_in + i * kStride + 4 * g), w[g]);
    const size_t step = std::min(kFewRows, rows - s);
    int8_t* out = c + s * c_stride;
    for (size_t h = 0; h < kFewRows / 4 && 4 * h < step; ++h) {
      const __m512i bytes = _mm512_permutexvar_epi8(
          perm,
          requantize_four(q, acc[4 * h], acc[4 * h + 1], acc[4 * h + 2], acc[4 * h + 3], scale));
      const size_t valid = std::min<size_t>(4, step - 4 * h);
      int8_t* o = out + 4 * h * c_stride;
      if (packed_rows) {
        _mm512_mask_storeu_epi8(o, valid == 4 ? four_rows : (~uint64_t{0}) >> (64 - valid * cols),
                                bytes);
        continue;
      }
      _mm_mask_storeu_epi8(o, row_mask, _mm512_castsi512_si128(bytes));
      if (valid > 1)
        _mm_mask_storeu_epi8(o + c_stride, row_mask, _mm512_extracti32x4_epi32(bytes, 1));
      if (valid > 2)
        _mm_mask_storeu_epi8(o + 2 * c_stride, row_mask, _mm512_extracti32x4_epi32(bytes, 2));
      if (valid > 3)
        _mm_mask_storeu_epi8(o + 3 * c_stride, row_mask, _mm512_extracti32x4_epi32(bytes, 3));
    }
  }
}

// G = ceil(k / 4) groups; any n: each pass of up to kFewChunk rows is flipped once and then runs
// every block of 16 output channels.
template <size_t G, bool kInRange>
void few_channels(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                  const uint8_t* blocks, int32_t zero, int32_t lo, int32_t hi, int8_t* c,
                  size_t c_stride) {
  alignas(64) uint8_t buf[kFewChunk * 4 * G + 64];
  const size_t bb = block_bytes(k);
  for (size_t r0 = 0; r0 < m; r0 += kFewChunk) {
    const size_t chunk = std::min(kFewChunk, m - r0);
    flip_rows(a + r0 * a_stride, a_stride, k, 4 * G, chunk, buf);
    for (size_t b = 0; b * kNr < n; ++b)
      few_channels_block<G, kInRange>(chunk, buf, blocks + b * bb, std::min(kNr, n - b * kNr), zero,
                                      lo, hi, c + r0 * c_stride + b * kNr, c_stride);
  }
}

using FewChannelsFn = void (*)(size_t, size_t, size_t, const int8_t*, size_t, const uint8_t*,
                               int32_t, int32_t, int32_t, int8_t*, size_t);
template <bool kInRange>
constexpr FewChannelsFn kFewChannels[kFewMaxK / 4] = {
    few_channels<1, kInRange>,  few_channels<2, kInRange>,  few_channels<3, kInRange>,
    few_channels<4, kInRange>,  few_channels<5, kInRange>,  few_channels<6, kInRange>,
    few_channels<7, kInRange>,  few_channels<8, kInRange>,  few_channels<9, kInRange>,
    few_channels<10, kInRange>, few_channels<11, kInRange>, few_channels<12, kInRange>,
    few_channels<13, kInRange>, few_channels<14, kInRange>, few_channels<15, kInRange>,
    few_channels<16, kInRange>};
// ---- end few channels ----

template <bool kInRange>
void run_impl(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
              int32_t zero, int32_t lo, int32_t hi, int8_t* c, size_t c_stride) {
  const auto* blocks = static_cast<const uint8_t*>(packed);
  if (m == 0) return;
  if (k >= 1 && k <= kFewMaxK)
    return kFewChannels<kInRange>[groups(k) - 1](m, n, k, a, a_stride, blocks, zero, lo, hi, c,
                                                 c_stride);
  // One block pair reads each group once: flipping first would only add loads and stores
  // (measured slower on MobileNetV2's 24-channel projections).
  if (n <= 2 * kNr || groups(k) > kTileMaxGroups)
    return row_tiles<false, kInRange>(m, n, k, reinterpret_cast<const uint8_t*>(a), a_stride,
                                      blocks, zero, lo, hi, c, c_stride);
  // Chunks of rows flipped to u8 once: every group of every block pair is then a plain broadcast
  // load, not a load, an XOR and a broadcast. Whole chunks, not one tile's rows, so that a tile's
  // first broadcasts do not wait on the stores just made.
  alignas(64) uint8_t buf[kFlipBytes + 64];
  const size_t stride = 4 * groups(k);
  const size_t chunk = std::min<size_t>(kFlipMaxRows, kFlipBytes / stride / kMr * kMr);
  for (size_t r0 = 0; r0 < m; r0 += chunk) {
    const size_t rows = std::min(chunk, m - r0);
    flip_chunk(a + r0 * a_stride, a_stride, k, stride, rows, buf);
    row_tiles<true, kInRange>(rows, n, k, buf, stride, blocks, zero, lo, hi, c + r0 * c_stride,
                              c_stride);
  }
}

void run(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
         int32_t zero, int32_t lo, int32_t hi, int8_t* c, size_t c_stride) {
  run_impl<false>(m, n, k, a, a_stride, packed, zero, lo, hi, c, c_stride);
}
void run_in_range(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                  const void* packed, int32_t zero, int32_t lo, int32_t hi, int8_t* c,
                  size_t c_stride) {
  run_impl<true>(m, n, k, a, a_stride, packed, zero, lo, hi, c, c_stride);
}

}  // namespace

const Qc8Gemm kVnniQc8Gemm = {packed_bytes, pack, run, kNr, run_in_range};

void lookup_s8_vbmi(const int8_t* in, size_t count, const int8_t* table, int8_t* out) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  auto lookup = [&](__m512i x) {
    // Indices 0-127 (as unsigned bytes) come from t0:t1, 128-255 from t2:t3.
    const __m512i low = _mm512_permutex2var_epi8(t0, x, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, x, t3);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low, high);
  };
  size_t i = 0;
  for (; i + 64 <= count; i += 64) _mm512_storeu_si512(out + i, lookup(_mm512_loadu_si512(in + i)));
  if (i < count) {
    const __mmask64 mask = (~uint64_t{0}) >> (64 - (count - i));
    _mm512_mask_storeu_epi8(out + i, mask, lookup(_mm512_maskz_loadu_epi8(mask, in + i)));
  }
}

// --- int8 pixel convolution: reference::qs8_pixel_conv, 16 output pixels per register (one int32
// lane per pixel), four output channels at a time so each input load feeds four VPDPBUSD.
namespace {

// One output channel's scale for 16 pixels.
inline __m512i requantize_channel(__m512i acc, float scale, __m512 flo, __m512 fhi, __m512i zero) {
  return requantize_lanes(acc, _mm512_set1_ps(scale), flo, fhi, zero);
}

// GCC 12 reports the intrinsics' own _mm512_undefined_*() placeholders as used uninitialized once
// they are inlined into this function's loops (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// VPERMB / VPERMT2B indices from requantize_four's layout to pixel-major bytes (pixel_conv_block).
struct PixelOrder {
  uint8_t block16[64];    // in: lane g byte 4c + p; out: byte 16p + 4g + c
  uint8_t block8[2][64];  // in: q[g] lane L byte 4c + p (q[1] at +64); out: byte 8p + 4g + c
};
constexpr PixelOrder make_pixel_order() {
  PixelOrder t{};
  for (size_t p = 0; p < 4; ++p)
    for (size_t g = 0; g < 4; ++g)
      for (size_t c = 0; c < 4; ++c)
        t.block16[16 * p + 4 * g + c] = static_cast<uint8_t>(16 * g + 4 * c + p);
  for (size_t h = 0; h < 2; ++h)
    for (size_t p = 0; p < 8; ++p)
      for (size_t g = 0; g < 2; ++g)
        for (size_t c = 0; c < 4; ++c) {
          const size_t pixel = 8 * h + p;  // lane pixel / 4, byte 4c + pixel % 4 of q[g]
          t.block8[h][8 * p + 4 * g + c] =
              static_cast<uint8_t>(64 * g + 16 * (pixel / 4) + 4 * c + pixel % 4);
        }
  return t;
}
alignas(64) constexpr PixelOrder kPixelOrder = make_pixel_order();

// Output channels [o, o + kBlock) of 16 pixels (`mask` of them real), kBlock 8 or 16: all the
// block's accumulators at once, so each input load feeds kBlock VPDPBUSD; then the requantized
// bytes are transposed in registers from channel-major to pixel-major and each pixel's kBlock
// bytes stored in one piece (a 16-dword scatter per four channels cost a third of a stem's time).
template <size_t kBlock>
void pixel_conv_block(const reference::Qs8PixelConvRow& r, size_t i, size_t pixels, __mmask16 mask,
                      size_t o) {
  const size_t taps = r.taps;
  const uint32_t* w = r.w + o * taps;
  // Unrolled so the accumulators stay in registers (16 of the 32).
  __m512i acc[kBlock];
#pragma GCC unroll 16
  for (size_t j = 0; j < kBlock; ++j) acc[j] = _mm512_set1_epi32(r.bias[o + j]);
  for (size_t t = 0; t < taps; ++t) {
    const __m512i x = _mm512_maskz_loadu_epi32(mask, r.x[t] + i);
#pragma GCC unroll 16
    for (size_t j = 0; j < kBlock; ++j)
      acc[j] =
          _mm512_dpbusd_epi32(acc[j], x, _mm512_set1_epi32(static_cast<int32_t>(w[j * taps + t])));
  }
  // Bytes: 128-bit lane L of q[g] (requantize_four of channels o + 4g .. o + 4g + 3) holds at
  // byte 4c + p channel o + 4g + c of pixel 4L + p. Then into pixel-major order, each pixel's
  // kBlock channels in one piece (a scatter per four channels cost a third of a stem's time).
  const FourRequantization rq = four_requantization(r.zero, r.min, r.max, r.sums_in_range);
  __m512i q[kBlock / 4];
#pragma GCC unroll 4
  for (size_t g = 0; g < kBlock / 4; ++g) {
    const size_t j = o + 4 * g;
    q[g] = requantize_four(rq, acc[4 * g], acc[4 * g + 1], acc[4 * g + 2], acc[4 * g + 3],
                           _mm512_set1_ps(r.scale[j]), _mm512_set1_ps(r.scale[j + 1]),
                           _mm512_set1_ps(r.scale[j + 2]), _mm512_set1_ps(r.scale[j + 3]));
  }
  int8_t* out = r.out + i * r.n + o;
  if constexpr (kBlock == 16) {
    // t[m]: lane m of q[0], q[1], q[2], q[3] (pixels 4m..4m+3), then one VPERMB each to byte
    // 16p + 4g + c.
    const __m512i a01 = _mm512_shuffle_i32x4(q[0], q[1], 0x44),
                  b01 = _mm512_shuffle_i32x4(q[0], q[1], 0xee);
    const __m512i a23 = _mm512_shuffle_i32x4(q[2], q[3], 0x44),
                  b23 = _mm512_shuffle_i32x4(q[2], q[3], 0xee);
    const __m512i t[4] = {
        _mm512_shuffle_i32x4(a01, a23, 0x88), _mm512_shuffle_i32x4(a01, a23, 0xdd),
        _mm512_shuffle_i32x4(b01, b23, 0x88), _mm512_shuffle_i32x4(b01, b23, 0xdd)};
    const __m512i order = _mm512_load_si512(kPixelOrder.block16);
    for (size_t m = 0; m < 4 && 4 * m < pixels; ++m) {
      const __m512i bytes = _mm512_permutexvar_epi8(order, t[m]);
      const size_t valid = std::min<size_t>(4, pixels - 4 * m);
      int8_t* o4 = out + 4 * m * r.n;
      if (r.n == 16) {  // four whole pixels back to back
        _mm512_mask_storeu_epi8(o4, ~uint64_t{0} >> (64 - 16 * valid), bytes);
        continue;
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o4), _mm512_castsi512_si128(bytes));
      if (valid > 1)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o4 + r.n), _mm512_extracti32x4_epi32(bytes, 1));
      if (valid > 2)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o4 + 2 * r.n),
                         _mm512_extracti32x4_epi32(bytes, 2));
      if (valid > 3)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o4 + 3 * r.n),
                         _mm512_extracti32x4_epi32(bytes, 3));
    }
  } else {
    // u[h]: pixels 8h..8h+7, byte 8p + 4g + c, picked from q[0] and q[1] by one VPERMT2B each.
    const __m512i u[2] = {
        _mm512_permutex2var_epi8(q[0], _mm512_load_si512(kPixelOrder.block8[0]), q[1]),
        _mm512_permutex2var_epi8(q[0], _mm512_load_si512(kPixelOrder.block8[1]), q[1])};
    alignas(64) int8_t rows[128];
    _mm512_store_si512(rows, u[0]);
    _mm512_store_si512(rows + 64, u[1]);
    for (size_t p = 0; p < pixels; ++p) std::memcpy(out + p * r.n, rows + 8 * p, 8);
  }
}

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic pop
#endif

}  // namespace

void qs8_pixel_conv_vnni(const reference::Qs8PixelConvRow& r) {
  const __m512 flo = _mm512_set1_ps(static_cast<float>(r.min - r.zero));
  const __m512 fhi = _mm512_set1_ps(static_cast<float>(r.max - r.zero));
  const __m512i vzero = _mm512_set1_epi32(r.zero);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i offsets = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(r.n)));
  const size_t taps = r.taps;
  for (size_t i = 0; i < r.count; i += 16) {
    const size_t pixels = std::min<size_t>(16, r.count - i);
    const auto mask = static_cast<__mmask16>((1u << pixels) - 1);
    size_t o = 0;
    for (; o + 16 <= r.n; o += 16) pixel_conv_block<16>(r, i, pixels, mask, o);
    for (; o + 8 <= r.n; o += 8) pixel_conv_block<8>(r, i, pixels, mask, o);
    for (; o + 4 <= r.n; o += 4) {
      const uint32_t* w = r.w + o * taps;
      __m512i a0 = _mm512_set1_epi32(r.bias[o]), a1 = _mm512_set1_epi32(r.bias[o + 1]);
      __m512i a2 = _mm512_set1_epi32(r.bias[o + 2]), a3 = _mm512_set1_epi32(r.bias[o + 3]);
      for (size_t t = 0; t < taps; ++t) {
        const __m512i x = _mm512_maskz_loadu_epi32(mask, r.x[t] + i);
        a0 = _mm512_dpbusd_epi32(a0, x, _mm512_set1_epi32(static_cast<int32_t>(w[t])));
        a1 = _mm512_dpbusd_epi32(a1, x, _mm512_set1_epi32(static_cast<int32_t>(w[taps + t])));
        a2 = _mm512_dpbusd_epi32(a2, x, _mm512_set1_epi32(static_cast<int32_t>(w[2 * taps + t])));
        a3 = _mm512_dpbusd_epi32(a3, x, _mm512_set1_epi32(static_cast<int32_t>(w[3 * taps + t])));
      }
      const __m512i byte = _mm512_set1_epi32(0xff);
      const __m512i q0 =
          _mm512_and_si512(requantize_channel(a0, r.scale[o], flo, fhi, vzero), byte);
      const __m512i q1 =
          _mm512_and_si512(requantize_channel(a1, r.scale[o + 1], flo, fhi, vzero), byte);
      const __m512i q2 =
          _mm512_and_si512(requantize_channel(a2, r.scale[o + 2], flo, fhi, vzero), byte);
      const __m512i q3 = requantize_channel(a3, r.scale[o + 3], flo, fhi, vzero);
      // Four channels of a pixel are four adjacent output bytes: one dword per pixel, scattered
      // to pixel * n + o.
      const __m512i packed =
          _mm512_or_si512(_mm512_or_si512(q0, _mm512_slli_epi32(q1, 8)),
                          _mm512_or_si512(_mm512_slli_epi32(q2, 16), _mm512_slli_epi32(q3, 24)));
      _mm512_mask_i32scatter_epi32(r.out + i * r.n + o, mask, offsets, packed, 1);
    }
    for (; o < r.n; ++o) {
      const uint32_t* w = r.w + o * taps;
      __m512i a = _mm512_set1_epi32(r.bias[o]);
      for (size_t t = 0; t < taps; ++t)
        a = _mm512_dpbusd_epi32(a, _mm512_maskz_loadu_epi32(mask, r.x[t] + i),
                                _mm512_set1_epi32(static_cast<int32_t>(w[t])));
      const __m128i q = _mm512_cvtepi32_epi8(requantize_channel(a, r.scale[o], flo, fhi, vzero));
      if (r.n == 1) {
        _mm_mask_storeu_epi8(r.out + i, mask, q);
      } else {
        alignas(16) int8_t bytes[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(bytes), q);
        for (size_t p = 0; p < pixels; ++p) r.out[(i + p) * r.n + o] = bytes[p];
      }
    }
  }
}

// reference::qs8_pixel_regroup, 16 dwords per step: the bytes of 16 pixels (at most 128 when
// step <= 8) come in through two masked loads (nothing past the last pixel's bytes is read), one
// VPERMT2B puts each pixel's bytes in its dword, an XOR flips them and a blend puts the padding
// above the channels. The stems' 3-channel rows took half the stem's time byte by byte.
void qs8_pixel_regroup_vnni(const int8_t* src, size_t count, size_t step, size_t bytes,
                            uint32_t pad, uint32_t* dwords) {
  if (step > 8 || bytes == 0 || bytes > 4) {
    reference::qs8_pixel_regroup(src, count, step, bytes, pad, dwords);
    return;
  }
  // Byte 4j + b of the result takes byte j * step + min(b, bytes - 1) of the 128 loaded; j * step
  // < 128 fits a byte, so a 16-bit multiply of byte pairs gives each byte's product.
  const __m512i pixel =
      _mm512_set_epi32(0x0f0f0f0f, 0x0e0e0e0e, 0x0d0d0d0d, 0x0c0c0c0c, 0x0b0b0b0b, 0x0a0a0a0a,
                       0x09090909, 0x08080808, 0x07070707, 0x06060606, 0x05050505, 0x04040404,
                       0x03030303, 0x02020202, 0x01010101, 0x00000000);
  const __m512i byte_in_dword = _mm512_set1_epi32(0x03020100);
  const __m512i index = _mm512_add_epi8(
      _mm512_mullo_epi16(pixel, _mm512_set1_epi16(static_cast<int16_t>(step))),
      _mm512_min_epu8(byte_in_dword, _mm512_set1_epi8(static_cast<char>(bytes - 1))));
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i padding = _mm512_set1_epi32(static_cast<int32_t>(pad));
  // Bytes at or above `bytes` in each dword take the padding.
  const uint64_t low = (uint64_t{1} << bytes) - 1;
  const __mmask64 channels = low * 0x1111111111111111ull;
  for (size_t j = 0; j < count; j += 16, src += 16 * step) {
    const size_t n = std::min<size_t>(16, count - j);
    const size_t span = (n - 1) * step + bytes;  // bytes read, <= 128
    const __mmask64 lo = span >= 64 ? ~__mmask64{0} : (__mmask64{1} << span) - 1;
    const __mmask64 hi =
        span <= 64 ? 0 : (span >= 128 ? ~__mmask64{0} : (__mmask64{1} << (span - 64)) - 1);
    const __m512i a = _mm512_maskz_loadu_epi8(lo, src);
    const __m512i b = _mm512_maskz_loadu_epi8(hi, src + 64);
    const __m512i v = _mm512_xor_si512(_mm512_permutex2var_epi8(a, index, b), flip);
    _mm512_mask_storeu_epi32(dwords + j, static_cast<__mmask16>((1u << n) - 1),
                             _mm512_mask_blend_epi8(channels, padding, v));
  }
}

}  // namespace polyhead::kernels::variants
