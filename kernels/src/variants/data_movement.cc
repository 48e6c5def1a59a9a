// Portable data-movement kernels shared by the generic and SIMD tables (see variants.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "variants.h"

namespace polyhead::kernels::variants {

void lookup_s8(const int8_t* input, size_t count, const int8_t* table, int8_t* output) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    int8_t v[8];
    for (size_t k = 0; k < 8; ++k) v[k] = table[static_cast<uint8_t>(input[i + k])];
    std::memcpy(output + i, v, 8);
  }
  for (; i < count; ++i) output[i] = table[static_cast<uint8_t>(input[i])];
}

void pad(const float* input, const Shape& in_shape, const int64_t* before_in,
         const Shape& out_shape, float value, float* output) {
  // Merge every trailing dimension that has no padding into the one before it, so an NHWC pad of
  // H and W copies rows of W * C values.
  int64_t in[Shape::kMaxDims], out[Shape::kMaxDims], before[Shape::kMaxDims];
  size_t rank = in_shape.rank();
  for (size_t d = 0; d < rank; ++d)
    in[d] = in_shape[d], out[d] = out_shape[d], before[d] = before_in[d];
  while (rank >= 2 && in[rank - 1] == out[rank - 1]) {
    in[rank - 2] *= in[rank - 1];
    out[rank - 2] *= out[rank - 1];
    before[rank - 2] *= in[rank - 1];
    --rank;
  }
  if (out_shape.elements() == 0) return;
  if (rank == 0) {
    output[0] = input[0];
    return;
  }
  const int64_t row = out[rank - 1], row_in = in[rank - 1], lead = before[rank - 1];
  const int64_t rows = out_shape.elements() / row;
  int64_t index[Shape::kMaxDims] = {};  // output coordinates of the current row (last one unused)
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = output + r * row;
    bool inside = true;
    int64_t source = 0;
    for (size_t d = 0; d + 1 < rank; ++d) {
      const int64_t x = index[d] - before[d];
      inside = inside && x >= 0 && x < in[d];
      source = source * in[d] + x;
    }
    if (inside) {
      std::fill(dst, dst + lead, value);
      std::memcpy(dst + lead, input + source * row_in, static_cast<size_t>(row_in) * sizeof(float));
      std::fill(dst + lead + row_in, dst + row, value);
    } else {
      std::fill(dst, dst + row, value);
    }
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
}

namespace {

// The element strides of a dense row-major tensor of `shape` (the last dimension's is 1).
void row_major_strides(const Shape& shape, int64_t* strides) {
  int64_t stride = 1;
  for (size_t d = shape.rank(); d-- > 0;) {
    strides[d] = stride;
    stride *= shape[d];
  }
}

}  // namespace

void transpose(const float* input, const Shape& in_shape, const int32_t* perm, float* output) {
  const size_t rank = in_shape.rank();
  const int64_t total = in_shape.elements();
  if (total == 0) return;
  int64_t in_strides[Shape::kMaxDims];
  row_major_strides(in_shape, in_strides);
  // The output's dimensions with their input strides; size-1 dimensions dropped and neighbours
  // merged when the permutation keeps them adjacent, so NHWC<->NCHW becomes a 2-D transpose and
  // a permutation that keeps the last axis becomes whole-row copies.
  int64_t dims[Shape::kMaxDims];
  int64_t strides[Shape::kMaxDims];
  size_t r = 0;
  for (size_t d = 0; d < rank; ++d) {
    const auto p = static_cast<size_t>(perm[d]);
    const int64_t size = in_shape[p];
    if (size == 1) continue;
    if (r > 0 && strides[r - 1] == in_strides[p] * size) {
      dims[r - 1] *= size;
      strides[r - 1] = in_strides[p];
    } else {
      dims[r] = size;
      strides[r] = in_strides[p];
      ++r;
    }
  }
  if (r == 0) {
    output[0] = input[0];
    return;
  }
  const int64_t inner = dims[r - 1];
  const int64_t inner_stride = strides[r - 1];
  if (r >= 2 && strides[r - 2] == 1 && inner_stride != 1) {
    // The last two output dimensions are a 2-D transpose of the input's (NHWC <-> NCHW): go
    // through it in square tiles so reads and writes both stay within a few cache lines.
    constexpr int64_t kTile = 16;
    const int64_t rows = dims[r - 2];
    const int64_t matrices = total / (rows * inner);
    int64_t index[Shape::kMaxDims] = {};
    int64_t src = 0;
    for (int64_t m = 0; m < matrices; ++m) {
      float* dst = output + m * rows * inner;
      for (int64_t i0 = 0; i0 < rows; i0 += kTile)
        for (int64_t j0 = 0; j0 < inner; j0 += kTile) {
          const int64_t i1 = std::min(i0 + kTile, rows), j1 = std::min(j0 + kTile, inner);
          for (int64_t i = i0; i < i1; ++i)
            for (int64_t j = j0; j < j1; ++j)
              dst[i * inner + j] = input[src + i + j * inner_stride];
        }
      for (size_t d = r - 2; d-- > 0;) {
        src += strides[d];
        if (++index[d] < dims[d]) break;
        src -= strides[d] * dims[d];
        index[d] = 0;
      }
    }
    return;
  }
  const int64_t outer = total / inner;
  int64_t index[Shape::kMaxDims] = {};
  int64_t src = 0;
  float* dst = output;
  for (int64_t o = 0; o < outer; ++o) {
    const float* s = input + src;
    if (inner_stride == 1) {
      std::memcpy(dst, s, static_cast<size_t>(inner) * sizeof(float));
    } else {
      for (int64_t i = 0; i < inner; ++i) dst[i] = s[i * inner_stride];
    }
    dst += inner;
    for (size_t d = r - 1; d-- > 0;) {
      src += strides[d];
      if (++index[d] < dims[d]) break;
      src -= strides[d] * dims[d];
      index[d] = 0;
    }
  }
}

void slice(const float* input, const Shape& in_shape, const int64_t* begin, const int64_t* step,
           const Shape& out_shape, float* output) {
  const size_t rank = in_shape.rank();
  const int64_t total = out_shape.elements();
  if (total == 0) return;
  int64_t in_strides[Shape::kMaxDims];
  row_major_strides(in_shape, in_strides);
  // The window as output dimensions with their input strides (step x stride) from the first
  // element read; size-1 dimensions dropped and a dimension merged into the one before it when
  // the two are contiguous in the input, so a slice of NHWC channels copies runs of channels and
  // a slice of rows copies whole rows.
  int64_t dims[Shape::kMaxDims];
  int64_t strides[Shape::kMaxDims];
  int64_t src = 0;
  size_t r = 0;
  for (size_t d = 0; d < rank; ++d) {
    src += begin[d] * in_strides[d];
    const int64_t size = out_shape[d], st = step[d] * in_strides[d];
    if (size == 1) continue;
    if (r > 0 && strides[r - 1] == st * size) {
      dims[r - 1] *= size;
      strides[r - 1] = st;
    } else {
      dims[r] = size;
      strides[r] = st;
      ++r;
    }
  }
  if (r == 0) {
    output[0] = input[src];
    return;
  }
  const int64_t inner = dims[r - 1], inner_stride = strides[r - 1];
  int64_t index[Shape::kMaxDims] = {};
  float* dst = output;
  for (int64_t o = 0; o < total / inner; ++o) {
    const float* s = input + src;
    if (inner_stride == 1) {
      std::memcpy(dst, s, static_cast<size_t>(inner) * sizeof(float));
    } else {
      for (int64_t i = 0; i < inner; ++i) dst[i] = s[i * inner_stride];
    }
    dst += inner;
    for (size_t d = r - 1; d-- > 0;) {
      src += strides[d];
      if (++index[d] < dims[d]) break;
      src -= strides[d] * dims[d];
      index[d] = 0;
    }
  }
}

namespace {
// The reference's rule: floor(coordinate + 0.5), clamped to the input.
int64_t nearest_source(int64_t dst, int64_t in, int64_t out, reference::Coordinates mode) {
  const auto v = static_cast<int64_t>(
      std::floor(reference::resize_source_coordinate(dst, in, out, mode) + 0.5f));
  return std::min(std::max<int64_t>(v, 0), in - 1);
}
}  // namespace

void resize_nearest(const float* input, const Shape& s, int64_t out_h, int64_t out_w,
                    reference::Coordinates mode, float* output) {
  const int64_t n = s[0], h = s[1], w = s[2], c = s[3];
  const auto pixel_bytes = static_cast<size_t>(c) * sizeof(float);
  const int64_t row = out_w * c;
  for (int64_t b = 0; b < n; ++b) {
    int64_t previous = -1;
    for (int64_t y = 0; y < out_h; ++y) {
      const int64_t sy = nearest_source(y, h, out_h, mode);
      float* dst = output + (b * out_h + y) * row;
      if (sy == previous) {
        std::memcpy(dst, dst - row, static_cast<size_t>(row) * sizeof(float));
        continue;
      }
      previous = sy;
      const float* src_row = input + (b * h + sy) * w * c;
      for (int64_t x = 0; x < out_w; ++x)
        std::memcpy(dst + x * c, src_row + nearest_source(x, w, out_w, mode) * c, pixel_bytes);
    }
  }
}

void subsample(const float* input, const Shape& in, const Shape& out, int64_t stride_h,
               int64_t stride_w, float min, float max, float* output) {
  const bool unbounded = min == -std::numeric_limits<float>::infinity() &&
                         max == std::numeric_limits<float>::infinity();
  if (!unbounded) {
    reference::subsample(input, in, out, stride_h, stride_w, min, max, output);
    return;
  }
  const int64_t h = in[1], w = in[2], c = in[3];
  const auto pixel_bytes = static_cast<size_t>(c) * sizeof(float);
  float* dst = output;
  for (int64_t b = 0; b < out[0]; ++b)
    for (int64_t oy = 0; oy < out[1]; ++oy) {
      const float* src = input + (b * h + oy * stride_h) * w * c;
      if (stride_w == 1) {  // whole rows
        std::memcpy(dst, src, pixel_bytes * static_cast<size_t>(out[2]));
        dst += out[2] * c;
        continue;
      }
      for (int64_t ox = 0; ox < out[2]; ++ox, dst += c)
        std::memcpy(dst, src + ox * stride_w * c, pixel_bytes);
    }
}

}  // namespace polyhead::kernels::variants
