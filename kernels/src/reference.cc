#include "polyhead/kernels/reference.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace polyhead::kernels::reference {

void concatenation(size_t count, const float* const* inputs, const Shape* shapes, size_t axis,
                   float* output) {
  // View every input as [outer, axis * inner]; copy one slab of each per outer index.
  int64_t outer = 1;
  for (size_t d = 0; d < axis; ++d) outer *= shapes[0][d];
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shapes[0].rank(); ++d) inner *= shapes[0][d];
  int64_t out_row = 0;
  for (size_t i = 0; i < count; ++i) out_row += shapes[i][axis] * inner;
  for (int64_t o = 0; o < outer; ++o) {
    float* dst = output + o * out_row;
    for (size_t i = 0; i < count; ++i) {
      const int64_t row = shapes[i][axis] * inner;
      std::memcpy(dst, inputs[i] + o * row, static_cast<size_t>(row) * sizeof(float));
      dst += row;
    }
  }
}

void transpose(const float* input, const Shape& in_shape, const int32_t* perm, float* output) {
  const size_t rank = in_shape.rank();
  int64_t in_strides[Shape::kMaxDims];
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    in_strides[d] = stride;
    stride *= in_shape[d];
  }
  int64_t out_dims[Shape::kMaxDims];
  int64_t src_strides[Shape::kMaxDims];  // input stride of each output dimension
  for (size_t d = 0; d < rank; ++d) {
    out_dims[d] = in_shape[static_cast<size_t>(perm[d])];
    src_strides[d] = in_strides[perm[d]];
  }
  const int64_t total = in_shape.elements();
  if (total == 0 || rank == 0) {
    if (rank == 0) output[0] = input[0];
    return;
  }
  // The innermost output dimension is copied by a tight strided loop (NCHW -> NHWC of an image
  // input is 3 channels at a time); the odometer walks the outer dimensions only.
  const int64_t inner = out_dims[rank - 1], inner_stride = src_strides[rank - 1];
  int64_t index[Shape::kMaxDims] = {};
  int64_t src = 0;
  for (int64_t i = 0; i < total; i += inner) {
    for (int64_t k = 0; k < inner; ++k) output[i + k] = input[src + k * inner_stride];
    for (size_t d = rank - 1; d-- > 0;) {
      src += src_strides[d];
      if (++index[d] < out_dims[d]) break;
      src -= src_strides[d] * out_dims[d];
      index[d] = 0;
    }
  }
}

void slice(const float* input, const Shape& in_shape, const int64_t* begin, const int64_t* step,
           const Shape& out_shape, float* output) {
  const size_t rank = in_shape.rank();
  int64_t in_strides[Shape::kMaxDims];
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    in_strides[d] = stride;
    stride *= in_shape[d];
  }
  const int64_t total = out_shape.elements();
  int64_t index[Shape::kMaxDims] = {};
  for (int64_t i = 0; i < total; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += (begin[d] + index[d] * step[d]) * in_strides[d];
    output[i] = input[src];
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < out_shape[d]) break;
      index[d] = 0;
    }
  }
}

void silu(const float* input, size_t count, float* output) {
  for (size_t i = 0; i < count; ++i)
    output[i] = input[i] < -88.f ? -0.f : input[i] / (1.f + std::exp(-input[i]));
}

void tanh(const float* input, size_t count, float* output) {
  for (size_t i = 0; i < count; ++i) output[i] = std::tanh(input[i]);
}

void softmax(const float* input, size_t rows, size_t channels, float beta, float* output) {
  for (size_t r = 0; r < rows; ++r) {
    const float* x = input + r * channels;
    float* y = output + r * channels;
    float max_value = x[0];
    for (size_t c = 1; c < channels; ++c) max_value = std::max(max_value, x[c]);
    float sum = 0.f;
    for (size_t c = 0; c < channels; ++c) {
      y[c] = std::exp((x[c] - max_value) * beta);
      sum += y[c];
    }
    const float inv = 1.f / sum;
    for (size_t c = 0; c < channels; ++c) y[c] *= inv;
  }
}

float resize_source_coordinate(int64_t dst, int64_t in, int64_t out, Coordinates mode) {
  switch (mode) {
    case Coordinates::kHalfPixel:
      return (static_cast<float>(dst) + 0.5f) * static_cast<float>(in) / static_cast<float>(out) -
             0.5f;
    case Coordinates::kAlignCorners:
      return out > 1 ? static_cast<float>(dst) * static_cast<float>(in - 1) /
                           static_cast<float>(out - 1)
                     : 0.f;
    case Coordinates::kAsymmetric:
      return static_cast<float>(dst) * static_cast<float>(in) / static_cast<float>(out);
  }
  return 0.f;
}

namespace {
int64_t clamp_index(int64_t v, int64_t n) {
  return std::min(std::max<int64_t>(v, 0), n - 1);
}
}  // namespace

void resize_nearest(const float* input, const Shape& s, int64_t out_h, int64_t out_w,
                    Coordinates mode, float* output) {
  const int64_t n = s[0], h = s[1], w = s[2], c = s[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < out_h; ++y) {
      const int64_t sy = clamp_index(
          static_cast<int64_t>(std::floor(resize_source_coordinate(y, h, out_h, mode) + 0.5f)), h);
      for (int64_t x = 0; x < out_w; ++x) {
        const int64_t sx = clamp_index(
            static_cast<int64_t>(std::floor(resize_source_coordinate(x, w, out_w, mode) + 0.5f)),
            w);
        std::memcpy(output + ((b * out_h + y) * out_w + x) * c, input + ((b * h + sy) * w + sx) * c,
                    static_cast<size_t>(c) * sizeof(float));
      }
    }
}

void subsample(const float* input, const Shape& in, const Shape& out, int64_t stride_h,
               int64_t stride_w, float min, float max, float* output) {
  const int64_t h = in[1], w = in[2], c = in[3];
  float* dst = output;
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t oy = 0; oy < out[1]; ++oy)
      for (int64_t ox = 0; ox < out[2]; ++ox) {
        const float* src = input + ((n * h + oy * stride_h) * w + ox * stride_w) * c;
        for (int64_t k = 0; k < c; ++k) *dst++ = std::min(std::max(src[k], min), max);
      }
}

void pad(const float* input, const Shape& in, const int64_t* before, const Shape& out, float value,
         float* output) {
  const size_t rank = out.rank();
  const int64_t total = out.elements();
  int64_t index[Shape::kMaxDims] = {};
  for (int64_t i = 0; i < total; ++i) {
    // Output coordinates of element i, then the input element they come from, if any.
    int64_t rest = i, source = 0;
    bool inside = true;
    for (size_t d = rank; d-- > 0;) {
      index[d] = rest % out[d];
      rest /= out[d];
    }
    for (size_t d = 0; d < rank; ++d) {
      const int64_t x = index[d] - before[d];
      inside = inside && x >= 0 && x < in[d];
      source = source * in[d] + x;
    }
    output[i] = inside ? input[source] : value;
  }
}

void copy(const void* input, size_t bytes, void* output) {
  if (input != output) std::memmove(output, input, bytes);
}

void requantize_s8(const int8_t* input, size_t count, const Requantization& r, int8_t* output) {
  for (size_t i = 0; i < count; ++i) {
    const float scaled = static_cast<float>(input[i] - r.input_zero_point) * r.multiplier;
    const auto q = static_cast<int32_t>(std::nearbyint(scaled)) + r.output_zero_point;
    output[i] = static_cast<int8_t>(std::min(std::max(q, r.min), r.max));
  }
}

void f32_igemm(size_t m, size_t n, size_t taps, size_t c, const float* const* indirection,
               const float* w, const float* bias, float min, float max, float* out,
               size_t out_stride) {
  const size_t k = taps * c;
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float acc = bias ? bias[j] : 0.f;
      for (size_t t = 0; t < taps; ++t) {
        const float* a = indirection[i * taps + t];
        const float* wt = w + j * k + t * c;
        for (size_t q = 0; q < c; ++q) acc = std::fma(a[q], wt[q], acc);
      }
      out[i * out_stride + j] = std::min(std::max(acc, min), max);
    }
}

void multiply_add_taps(size_t taps, const float* const* x, const float* const* w, size_t period,
                       size_t count, float min, float max, float* acc) {
  for (size_t i = 0; i < count; ++i) {
    float a = acc[i];
    for (size_t t = 0; t < taps; ++t) a = std::fma(x[t][i], w[t][i % period], a);
    acc[i] = std::min(std::max(a, min), max);
  }
}

void qc8_gemm(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, int32_t a_zero_point,
              const int8_t* w, const int32_t* bias, const Qc8Output& out, int8_t* c,
              size_t c_stride) {
  const auto lo = static_cast<float>(out.min - out.zero_point);
  const auto hi = static_cast<float>(out.max - out.zero_point);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      // Wrapping int32 sums, as the SIMD variants' accumulators wrap: a bias near the int32
      // limits in a hostile model is not undefined behaviour (found by fuzz_phm_model).
      auto acc = static_cast<uint32_t>(bias ? bias[j] : 0);
      for (size_t t = 0; t < k; ++t)
        acc += static_cast<uint32_t>((static_cast<int32_t>(a[i * a_stride + t]) - a_zero_point) *
                                     static_cast<int32_t>(w[j * k + t]));
      const float v =
          std::min(std::max(static_cast<float>(static_cast<int32_t>(acc)) * out.scale[j], lo), hi);
      c[i * c_stride + j] =
          static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(v)) + out.zero_point);
    }
}

bool qc8_sums_in_range(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                       const float* scale) {
  constexpr double kLimit = 1073741824.0;  // 2^30
  for (size_t j = 0; j < n; ++j) {
    int64_t weights = 0;
    for (size_t t = 0; t < k; ++t) weights += std::abs(static_cast<int32_t>(w[j * k + t]));
    const double bound =
        std::fabs(static_cast<double>(bias ? bias[j] : 0)) + 255.0 * static_cast<double>(weights);
    if (!(bound <= kLimit) || !(bound * std::fabs(static_cast<double>(scale[j])) <= kLimit))
      return false;
  }
  return true;
}

void qs8_pixel_conv(const Qs8PixelConvRow& r) {
  const auto lo = static_cast<float>(r.min - r.zero);
  const auto hi = static_cast<float>(r.max - r.zero);
  for (size_t i = 0; i < r.count; ++i)
    for (size_t o = 0; o < r.n; ++o) {
      auto acc = static_cast<uint32_t>(r.bias[o]);
      for (size_t t = 0; t < r.taps; ++t) {
        const uint32_t x = r.x[t][i], w = r.w[o * r.taps + t];
        for (int b = 0; b < 4; ++b)
          acc += static_cast<uint32_t>(static_cast<int32_t>((x >> (8 * b)) & 0xff) *
                                       static_cast<int32_t>(static_cast<int8_t>(w >> (8 * b))));
      }
      const float v =
          std::min(std::max(static_cast<float>(static_cast<int32_t>(acc)) * r.scale[o], lo), hi);
      r.out[i * r.n + o] = static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(v)) + r.zero);
    }
}

void qs8_pixel_regroup(const int8_t* src, size_t count, size_t step, size_t bytes, uint32_t pad,
                       uint32_t* dwords) {
  const uint32_t low = bytes >= 4 ? 0xffffffffu : (1u << (8 * bytes)) - 1;
  for (size_t j = 0; j < count; ++j, src += step) {
    // Built in a register: byte stores into a dword followed by its load stall store forwarding.
    uint32_t v = 0;
    if (bytes >= 4) {
      std::memcpy(&v, src, 4);
    } else {
      for (size_t b = 0; b < bytes; ++b)
        v |= static_cast<uint32_t>(static_cast<uint8_t>(src[b])) << (8 * b);
    }
    dwords[j] = ((v ^ 0x80808080u) & low) | (pad & ~low);
  }
}

void lookup_s8(const int8_t* input, size_t count, const int8_t* table, int8_t* output) {
  for (size_t i = 0; i < count; ++i) output[i] = table[static_cast<uint8_t>(input[i])];
}

void resize_bilinear(const float* input, const Shape& s, int64_t out_h, int64_t out_w,
                     Coordinates mode, float* output) {
  const int64_t n = s[0], h = s[1], w = s[2], c = s[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < out_h; ++y) {
      const float fy =
          std::clamp(resize_source_coordinate(y, h, out_h, mode), 0.f, static_cast<float>(h - 1));
      const int64_t y0 = static_cast<int64_t>(fy);
      const int64_t y1 = std::min(y0 + 1, h - 1);
      const float ly = fy - static_cast<float>(y0);
      for (int64_t x = 0; x < out_w; ++x) {
        const float fx =
            std::clamp(resize_source_coordinate(x, w, out_w, mode), 0.f, static_cast<float>(w - 1));
        const int64_t x0 = static_cast<int64_t>(fx);
        const int64_t x1 = std::min(x0 + 1, w - 1);
        const float lx = fx - static_cast<float>(x0);
        const float* p00 = input + ((b * h + y0) * w + x0) * c;
        const float* p01 = input + ((b * h + y0) * w + x1) * c;
        const float* p10 = input + ((b * h + y1) * w + x0) * c;
        const float* p11 = input + ((b * h + y1) * w + x1) * c;
        float* dst = output + ((b * out_h + y) * out_w + x) * c;
        for (int64_t k = 0; k < c; ++k) {
          const float top = p00[k] + (p01[k] - p00[k]) * lx;
          const float bottom = p10[k] + (p11[k] - p10[k]) * lx;
          dst[k] = top + (bottom - top) * ly;
        }
      }
    }
}

}  // namespace polyhead::kernels::reference
