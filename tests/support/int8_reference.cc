#include "support/int8_reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "support/tensor_index.h"

namespace polyhead::testing::int8 {
namespace {

size_t count(const Shape& s) {
  return static_cast<size_t>(s.elements());
}

void expect(bool ok, const char* message) {
  if (!ok) throw std::runtime_error(std::string("int8 reference: ") + message);
}

int32_t quantize_one(double real, const QParams& p) {
  const double q = std::nearbyint(real / static_cast<double>(p.scale)) + p.zero_point;
  return static_cast<int32_t>(std::min(127.0, std::max(-128.0, q)));
}

Requantized start(const Shape& shape, const QParams& out, const Activation& a) {
  Requantized r;
  r.shape = shape;
  r.value.resize(count(shape));
  r.q = out;
  activation_bounds(a, out, &r.min, &r.max);
  return r;
}

// Shared by CONV_2D (as a general grouped convolution) and FULLY_CONNECTED: int32 accumulation,
// then the double multiplier in_scale * w_scale[c] / out_scale.
double requantize_accumulator(int32_t acc, const QParams& in, float w_scale, const QParams& out) {
  const double m =
      static_cast<double>(in.scale) * static_cast<double>(w_scale) / static_cast<double>(out.scale);
  return static_cast<double>(acc) * m + out.zero_point;
}

}  // namespace

std::vector<int8_t> Requantized::rounded() const {
  std::vector<int8_t> r(value.size());
  for (size_t i = 0; i < value.size(); ++i) r[i] = round_clamp(value[i], min, max);
  return r;
}

int8_t round_clamp(double v, int32_t min, int32_t max) {
  const double r = std::nearbyint(v);
  return static_cast<int8_t>(std::min<double>(max, std::max<double>(min, r)));
}

void activation_bounds(const Activation& a, const QParams& out, int32_t* min, int32_t* max) {
  *min = std::isfinite(a.min) ? quantize_one(a.min, out) : -128;
  *max = std::isfinite(a.max) ? quantize_one(a.max, out) : 127;
}

float dequantize(int8_t q, const QParams& p) {
  return static_cast<float>(static_cast<double>(p.scale) * (q - p.zero_point));
}

std::vector<float> dequantize(const QTensor& x) {
  std::vector<float> r(x.values.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = dequantize(x.values[i], x.q);
  return r;
}

Requantized quantize(const std::vector<float>& x, const Shape& shape, const QParams& out) {
  Requantized r = start(shape, out, Activation::none());
  for (size_t i = 0; i < x.size(); ++i)
    r.value[i] = static_cast<double>(x[i]) / static_cast<double>(out.scale) + out.zero_point;
  return r;
}

QWeights quantize_weights(const std::vector<float>& w, const Shape& shape, bool per_channel) {
  QWeights q;
  q.shape = shape;
  q.values.resize(w.size());
  const auto channels = static_cast<size_t>(shape[0]);
  const size_t per = channels ? w.size() / channels : 0;
  float overall = 0.f;
  for (float v : w) overall = std::max(overall, std::fabs(v));
  for (size_t c = 0; c < channels; ++c) {
    float m = overall;
    if (per_channel) {
      m = 0.f;
      for (size_t i = 0; i < per; ++i) m = std::max(m, std::fabs(w[c * per + i]));
    }
    const float scale = m > 0.f ? m / 127.f : 1.f;
    q.scales.push_back(scale);
    for (size_t i = 0; i < per; ++i) {
      const double v = std::nearbyint(static_cast<double>(w[c * per + i]) / scale);
      q.values[c * per + i] = static_cast<int8_t>(std::min(127.0, std::max(-127.0, v)));
    }
  }
  return q;
}

Requantized conv2d(const QTensor& x, const QWeights& w, const std::vector<int32_t>& bias,
                   const Conv2DParams& p, const QParams& out) {
  const int64_t n_ = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t co = w.shape[0], kh = w.shape[1], kw = w.shape[2], cig = w.shape[3];
  const int64_t groups = p.groups;
  expect(c == cig * groups && co % groups == 0, "conv2d: bad groups");
  const int64_t cog = co / groups;
  const int64_t oh =
      (h + p.pad_top + p.pad_bottom - ((kh - 1) * p.dilation_h + 1)) / p.stride_h + 1;
  const int64_t ow =
      (wd + p.pad_left + p.pad_right - ((kw - 1) * p.dilation_w + 1)) / p.stride_w + 1;
  Requantized r = start(Shape{n_, oh, ow, co}, out, p.activation);
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t oc = 0; oc < co; ++oc) {
          const int64_t g = oc / cog;
          int32_t acc = bias.empty() ? 0 : bias[static_cast<size_t>(oc)];
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
            if (iy < 0 || iy >= h) continue;
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
              if (ix < 0 || ix >= wd) continue;
              for (int64_t ci = 0; ci < cig; ++ci) {
                const int32_t xv =
                    x.values[static_cast<size_t>(((n * h + iy) * wd + ix) * c + g * cig + ci)] -
                    x.q.zero_point;
                const int32_t wv =
                    w.values[static_cast<size_t>(((oc * kh + ky) * kw + kx) * cig + ci)];
                acc += xv * wv;
              }
            }
          }
          r.value[static_cast<size_t>(((n * oh + oy) * ow + ox) * co + oc)] =
              requantize_accumulator(acc, x.q, w.scales[static_cast<size_t>(oc)], out);
        }
  return r;
}

Requantized fully_connected(const QTensor& x, const QWeights& w, const std::vector<int32_t>& bias,
                            const Activation& a, const QParams& out) {
  const int64_t k = x.shape[x.shape.rank() - 1];
  const int64_t units = w.shape[0];
  expect(w.shape[1] == k, "fully_connected: weights do not match the input");
  Shape shape = x.shape;
  shape[shape.rank() - 1] = units;
  Requantized r = start(shape, out, a);
  const int64_t rows = x.shape.elements() / k;
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t u = 0; u < units; ++u) {
      int32_t acc = bias.empty() ? 0 : bias[static_cast<size_t>(u)];
      for (int64_t i = 0; i < k; ++i)
        acc += (x.values[static_cast<size_t>(row * k + i)] - x.q.zero_point) *
               w.values[static_cast<size_t>(u * k + i)];
      r.value[static_cast<size_t>(row * units + u)] =
          requantize_accumulator(acc, x.q, w.scales[static_cast<size_t>(u)], out);
    }
  return r;
}

Requantized binary(Binary op, const QTensor& a, const QTensor& b, const Activation& act,
                   const QParams& out) {
  const size_t rank = std::max(a.shape.rank(), b.shape.rank());
  Shape pa, pb, shape;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t da = d + a.shape.rank() >= rank ? a.shape[d + a.shape.rank() - rank] : 1;
    const int64_t db = d + b.shape.rank() >= rank ? b.shape[d + b.shape.rank() - rank] : 1;
    expect(da == db || da == 1 || db == 1, "binary: shapes do not broadcast");
    pa.push_back(da);
    pb.push_back(db);
    shape.push_back(std::max(da, db));
  }
  Requantized r = start(shape, out, act);
  int64_t coords[Shape::kMaxDims], ca[Shape::kMaxDims], cb[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    for (size_t d = 0; d < rank; ++d) {
      ca[d] = pa[d] == 1 ? 0 : coords[d];
      cb[d] = pb[d] == 1 ? 0 : coords[d];
    }
    const double va = static_cast<double>(a.q.scale) *
                      (a.values[static_cast<size_t>(flat_index(pa, ca))] - a.q.zero_point);
    const double vb = static_cast<double>(b.q.scale) *
                      (b.values[static_cast<size_t>(flat_index(pb, cb))] - b.q.zero_point);
    const double real = op == Binary::kAdd ? va + vb : op == Binary::kSub ? va - vb : va * vb;
    r.value[static_cast<size_t>(i)] = real / static_cast<double>(out.scale) + out.zero_point;
  }
  return r;
}

Requantized mean_hw(const QTensor& x, const QParams& out) {
  const int64_t n_ = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  Requantized r = start(Shape{n_, 1, 1, c}, out, Activation::none());
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t k = 0; k < c; ++k) {
      int32_t sum = 0;
      for (int64_t i = 0; i < h * w; ++i)
        sum += x.values[static_cast<size_t>((n * h * w + i) * c + k)] - x.q.zero_point;
      const double real = static_cast<double>(x.q.scale) * sum / static_cast<double>(h * w);
      r.value[static_cast<size_t>(n * c + k)] =
          real / static_cast<double>(out.scale) + out.zero_point;
    }
  return r;
}

namespace {

int64_t pool_extent(int64_t in, int pad_a, int pad_b, int filter, int stride) {
  return (in + pad_a + pad_b - filter) / stride + 1;
}

// Calls f(n, oy, ox, y0, y1, x0, x1) for each output pixel with its in-bounds window.
template <typename F>
Shape for_each_window(const Shape& in, const Pool2DParams& p, F f) {
  const int64_t oh = pool_extent(in[1], p.pad_top, p.pad_bottom, p.filter_h, p.stride_h);
  const int64_t ow = pool_extent(in[2], p.pad_left, p.pad_right, p.filter_w, p.stride_w);
  for (int64_t n = 0; n < in[0]; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t ys = oy * p.stride_h - p.pad_top, xs = ox * p.stride_w - p.pad_left;
        f(n, oy, ox, std::max<int64_t>(0, ys), std::min<int64_t>(in[1], ys + p.filter_h),
          std::max<int64_t>(0, xs), std::min<int64_t>(in[2], xs + p.filter_w));
      }
  return Shape{in[0], oh, ow, in[3]};
}

Shape pool_shape(const Shape& in, const Pool2DParams& p) {
  return Shape{in[0], pool_extent(in[1], p.pad_top, p.pad_bottom, p.filter_h, p.stride_h),
               pool_extent(in[2], p.pad_left, p.pad_right, p.filter_w, p.stride_w), in[3]};
}

}  // namespace

Requantized average_pool(const QTensor& x, const Pool2DParams& p, const QParams& out) {
  const int64_t h = x.shape[1], w = x.shape[2], c = x.shape[3];
  Requantized r = start(pool_shape(x.shape, p), out, p.activation);
  const int64_t oh = r.shape[1], ow = r.shape[2];
  for_each_window(
      x.shape, p,
      [&](int64_t n, int64_t oy, int64_t ox, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
        const int64_t cells = (y1 - y0) * (x1 - x0);
        expect(cells > 0, "average_pool: a window lies entirely in the padding");
        for (int64_t k = 0; k < c; ++k) {
          int32_t sum = 0;
          for (int64_t y = y0; y < y1; ++y)
            for (int64_t xx = x0; xx < x1; ++xx)
              sum += x.values[static_cast<size_t>(((n * h + y) * w + xx) * c + k)] - x.q.zero_point;
          const double real = static_cast<double>(x.q.scale) * sum / static_cast<double>(cells);
          r.value[static_cast<size_t>(((n * oh + oy) * ow + ox) * c + k)] =
              real / static_cast<double>(out.scale) + out.zero_point;
        }
      });
  return r;
}

QTensor max_pool(const QTensor& x, const Pool2DParams& p) {
  const int64_t h = x.shape[1], w = x.shape[2], c = x.shape[3];
  QTensor r{pool_shape(x.shape, p), {}, x.q};
  r.values.resize(count(r.shape));
  int32_t lo = -128, hi = 127;
  activation_bounds(p.activation, x.q, &lo, &hi);
  const int64_t oh = r.shape[1], ow = r.shape[2];
  for_each_window(
      x.shape, p,
      [&](int64_t n, int64_t oy, int64_t ox, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
        expect(y1 > y0 && x1 > x0, "max_pool: a window lies entirely in the padding");
        for (int64_t k = 0; k < c; ++k) {
          int32_t m = -128;
          for (int64_t y = y0; y < y1; ++y)
            for (int64_t xx = x0; xx < x1; ++xx)
              m = std::max<int32_t>(m,
                                    x.values[static_cast<size_t>(((n * h + y) * w + xx) * c + k)]);
          r.values[static_cast<size_t>(((n * oh + oy) * ow + ox) * c + k)] =
              static_cast<int8_t>(std::min(hi, std::max(lo, m)));
        }
      });
  return r;
}

Requantized resize_bilinear(const QTensor& x, int64_t out_h, int64_t out_w,
                            kernels::reference::Coordinates mode) {
  const int64_t n_ = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  Requantized r = start(Shape{n_, out_h, out_w, c}, x.q, Activation::none());
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t y = 0; y < out_h; ++y) {
      const double fy = std::clamp<double>(
          kernels::reference::resize_source_coordinate(y, h, out_h, mode), 0.0, h - 1.0);
      const auto y0 = static_cast<int64_t>(fy);
      const int64_t y1 = std::min(y0 + 1, h - 1);
      const double ly = fy - static_cast<double>(y0);
      for (int64_t xo = 0; xo < out_w; ++xo) {
        const double fx = std::clamp<double>(
            kernels::reference::resize_source_coordinate(xo, w, out_w, mode), 0.0, w - 1.0);
        const auto x0 = static_cast<int64_t>(fx);
        const int64_t x1 = std::min(x0 + 1, w - 1);
        const double lx = fx - static_cast<double>(x0);
        for (int64_t k = 0; k < c; ++k) {
          auto at = [&](int64_t yy, int64_t xx) {
            return static_cast<double>(
                x.values[static_cast<size_t>(((n * h + yy) * w + xx) * c + k)]);
          };
          const double top = at(y0, x0) * (1.0 - lx) + at(y0, x1) * lx;
          const double bottom = at(y1, x0) * (1.0 - lx) + at(y1, x1) * lx;
          r.value[static_cast<size_t>(((n * out_h + y) * out_w + xo) * c + k)] =
              top * (1.0 - ly) + bottom * ly;
        }
      }
    }
  return r;
}

QTensor resize_nearest(const QTensor& x, int64_t out_h, int64_t out_w,
                       kernels::reference::Coordinates mode) {
  const int64_t n_ = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  QTensor r{Shape{n_, out_h, out_w, c}, {}, x.q};
  r.values.resize(count(r.shape));
  auto source = [mode](int64_t dst, int64_t in, int64_t out) {
    const double s =
        std::floor(kernels::reference::resize_source_coordinate(dst, in, out, mode) + 0.5f);
    return std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(s), 0), in - 1);
  };
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t y = 0; y < out_h; ++y)
      for (int64_t xo = 0; xo < out_w; ++xo)
        for (int64_t k = 0; k < c; ++k)
          r.values[static_cast<size_t>(((n * out_h + y) * out_w + xo) * c + k)] =
              x.values[static_cast<size_t>(
                  ((n * h + source(y, h, out_h)) * w + source(xo, w, out_w)) * c + k)];
  return r;
}

QTensor transpose(const QTensor& x, const std::vector<int>& perm) {
  Shape shape;
  for (int p : perm) shape.push_back(x.shape[static_cast<size_t>(p)]);
  QTensor r{shape, std::vector<int8_t>(count(shape)), x.q};
  int64_t coords[Shape::kMaxDims], src[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    for (size_t d = 0; d < perm.size(); ++d) src[perm[d]] = coords[d];
    r.values[static_cast<size_t>(i)] = x.values[static_cast<size_t>(flat_index(x.shape, src))];
  }
  return r;
}

QTensor depth_to_space(const QTensor& x, int block) {
  const int64_t b = block;
  const int64_t n_ = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  const int64_t co = c / (b * b);
  QTensor r{Shape{n_, h * b, w * b, co}, {}, x.q};
  r.values.resize(count(r.shape));
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t j = 0; j < b; ++j)
            for (int64_t k = 0; k < co; ++k)
              r.values[static_cast<size_t>(((n * h * b + y * b + i) * w * b + xx * b + j) * co +
                                           k)] =
                  x.values[static_cast<size_t>(((n * h + y) * w + xx) * c + (i * b + j) * co + k)];
  return r;
}

QTensor reshape(const QTensor& x, const Shape& shape) {
  expect(shape.elements() == x.shape.elements(), "reshape: element count changes");
  return QTensor{shape, x.values, x.q};
}

QTensor slice(const QTensor& x, const std::vector<int>& begin, const std::vector<int>& size,
              const std::vector<int>& step) {
  Shape shape;
  for (int s : size) shape.push_back(s);
  QTensor r{shape, std::vector<int8_t>(count(shape)), x.q};
  int64_t coords[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    for (size_t d = 0; d < shape.rank(); ++d)
      coords[d] = begin[d] + coords[d] * (step.empty() ? 1 : step[d]);
    r.values[static_cast<size_t>(i)] = x.values[static_cast<size_t>(flat_index(x.shape, coords))];
  }
  return r;
}

QTensor channel_shuffle(const QTensor& x, int groups) {
  const int64_t c = x.shape[x.shape.rank() - 1], per_group = c / groups;
  QTensor r{x.shape, std::vector<int8_t>(x.values.size()), x.q};
  for (int64_t row = 0; row < x.shape.elements() / c; ++row)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t j = 0; j < per_group; ++j)
        r.values[static_cast<size_t>(row * c + j * groups + g)] =
            x.values[static_cast<size_t>(row * c + g * per_group + j)];
  return r;
}

QTensor pad(const QTensor& x, const std::vector<int>& before, const std::vector<int>& after,
            float value) {
  Shape shape;
  for (size_t d = 0; d < x.shape.rank(); ++d) shape.push_back(x.shape[d] + before[d] + after[d]);
  const auto fill = static_cast<int8_t>(quantize_one(value, x.q));
  QTensor r{shape, std::vector<int8_t>(count(shape), fill), x.q};
  int64_t coords[Shape::kMaxDims];
  for (int64_t i = 0; i < x.shape.elements(); ++i) {
    unravel(i, x.shape, coords);
    for (size_t d = 0; d < shape.rank(); ++d) coords[d] += before[d];
    r.values[static_cast<size_t>(flat_index(shape, coords))] = x.values[static_cast<size_t>(i)];
  }
  return r;
}

Requantized concatenation(const std::vector<QTensor>& inputs, int axis, const Activation& act,
                          const QParams& out) {
  const auto rank = inputs[0].shape.rank();
  const auto ax = static_cast<size_t>(axis < 0 ? axis + static_cast<int>(rank) : axis);
  Shape shape = inputs[0].shape;
  shape[ax] = 0;
  for (const QTensor& t : inputs) shape[ax] += t.shape[ax];
  Requantized r = start(shape, out, act);
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < ax; ++d) outer *= shape[d];
  for (size_t d = ax + 1; d < rank; ++d) inner *= shape[d];
  size_t at = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const QTensor& t : inputs) {
      const int64_t row = t.shape[ax] * inner;
      for (int64_t i = 0; i < row; ++i) {
        const double real = static_cast<double>(t.q.scale) *
                            (t.values[static_cast<size_t>(o * row + i)] - t.q.zero_point);
        r.value[at++] = real / static_cast<double>(out.scale) + out.zero_point;
      }
    }
  return r;
}

Requantized unary(Unary op, const QTensor& x, const QParams& out, double a, double b) {
  Requantized r = start(x.shape, out, Activation::none());
  for (size_t i = 0; i < x.values.size(); ++i) {
    const double v = static_cast<double>(x.q.scale) * (x.values[i] - x.q.zero_point);
    double f = v;
    switch (op) {
      case Unary::kClamp:
        f = std::min(std::max(v, a), b);
        break;
      case Unary::kHardSwish:
        f = v * std::min(std::max(v + 3.0, 0.0), 6.0) / 6.0;
        break;
      case Unary::kSigmoid:
        f = 1.0 / (1.0 + std::exp(-v));
        break;
      case Unary::kTanh:
        f = std::tanh(v);
        break;
      case Unary::kLeakyRelu:
        f = v >= 0.0 ? v : v * a;
        break;
      case Unary::kAbs:
        f = std::fabs(v);
        break;
      case Unary::kSilu:
        f = v / (1.0 + std::exp(-v));
        break;
    }
    r.value[i] = f / static_cast<double>(out.scale) + out.zero_point;
  }
  return r;
}

namespace {

// floor(a / b) for b > 0.
int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
int64_t clamp16(int64_t v) {
  return std::min<int64_t>(32767, std::max<int64_t>(-32768, v));
}

// m = mantissa * 2^(exponent - 31), mantissa in [2^30, 2^31), found by halving or doubling in
// double (exact for powers of two), then rounded half up; a carry to 2^31 moves the exponent.
void fixed_point_multiplier(double m, int64_t* mantissa, int* exponent) {
  int e = 0;
  while (m >= 1.0) m /= 2.0, ++e;
  while (m < 0.5) m *= 2.0, --e;
  int64_t q = static_cast<int64_t>(std::floor(m * 2147483648.0 + 0.5));
  if (q == 2147483648LL) q /= 2, ++e;
  *mantissa = q;
  *exponent = e;
}
// Q31 -> Q15 rounding half up, saturating.
int64_t to_q15(int64_t q31) {
  return std::min<int64_t>(32767, floor_div(q31 + 32768, 65536));
}
// round(2ab / 2^16), halves towards +infinity, saturated (only -32768^2 needs it).
int64_t high_mul_rounded(int64_t a, int64_t b) {
  return clamp16(floor_div(2 * a * b + 32768, 65536));
}
// 2ab / 2^16 truncated towards zero, saturated.
int64_t high_mul_truncated(int64_t a, int64_t b) {
  const int64_t p = 2 * a * b;
  return clamp16(p >= 0 ? p / 65536 : -(-p / 65536));
}
// x / 2^s rounded, halves away from zero.
int64_t shift_rounded(int64_t x, int s) {
  if (s == 0) return x;
  const int64_t half = int64_t{1} << (s - 1);
  return x >= 0 ? (x + half) >> s : -((-x + half) >> s);
}

}  // namespace

std::vector<int8_t> hard_swish_fixed_point(const QTensor& x, const QParams& out) {
  // The ratios are float32 divisions, then widened.
  const float hires_scale = x.q.scale * (1.f / 128.f);
  int64_t out_m = 0, relu_m = 0;
  int out_e = 0, relu_e = 0;
  fixed_point_multiplier(static_cast<double>(hires_scale / out.scale), &out_m, &out_e);
  fixed_point_multiplier(static_cast<double>(hires_scale / (3.f / 32768.f)), &relu_m, &relu_e);
  out_m = to_q15(out_m);
  relu_m = to_q15(relu_m);
  std::vector<int8_t> r(x.values.size());
  for (size_t i = 0; i < r.size(); ++i) {
    const int64_t hires = (int64_t{x.values[i]} - x.q.zero_point) * 128;
    const int64_t scaled = high_mul_rounded(hires, out_m);
    int64_t relu = hires;
    if (relu_e > 0) {
      relu = clamp16(relu * (int64_t{1} << (relu_e - 1)));
      relu = clamp16(high_mul_rounded(relu, relu_m) * 2);
    } else {
      relu = shift_rounded(high_mul_rounded(relu, relu_m), -relu_e);
    }
    relu = floor_div(relu + 32768, 2);
    const int64_t code = shift_rounded(high_mul_truncated(relu, scaled), -out_e) + out.zero_point;
    r[i] = static_cast<int8_t>(std::min<int64_t>(127, std::max<int64_t>(-128, code)));
  }
  return r;
}

}  // namespace polyhead::testing::int8
