#include "support/reference_interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include "polyhead/internal/half_scales.h"
#include "polyhead/internal/int16_constants.h"
#include "polyhead/schema/phm_generated.h"
#include "support/tensor_index.h"

namespace polyhead::testing {
namespace {

namespace fbs = polyhead::schema;
using fbs::OpKind;

constexpr float kInf = std::numeric_limits<float>::infinity();

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error("reference interpreter: " + message);
}

void expect(bool ok, const std::string& message) {
  if (!ok) fail(message);
}

const fbs::Model& open_model(const std::vector<uint8_t>& bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  expect(fbs::VerifyModelBuffer(verifier), "the bytes are not a valid .phm FlatBuffer");
  return *fbs::GetModel(bytes.data());
}

std::string node_label(const fbs::Node& node) {
  return std::string(fbs::EnumNameOpKind(node.op())) + " node '" + node.name()->str() + "'";
}

Shape declared_shape(const fbs::Tensor& t) {
  Shape s;
  for (int d : *t.shape())
    expect(s.push_back(d), "tensor '" + t.name()->str() + "' has too many dims");
  return s;
}

size_t count(const Shape& s) {
  return static_cast<size_t>(s.elements());
}

struct Range {
  float lo = -kInf;
  float hi = kInf;
};

Range range_of(const fbs::Activation* a) {
  if (!a) return {};
  return {a->min(), a->max()};
}

float clamp_to(float v, Range r) {
  return std::min(std::max(v, r.lo), r.hi);
}

using Inputs = std::vector<const ReferenceTensor*>;  // null for an absent optional input

const ReferenceTensor& need(const fbs::Node& node, const Inputs& in, size_t i) {
  expect(i < in.size() && in[i], node_label(node) + " lacks input " + std::to_string(i));
  return *in[i];
}

const ReferenceTensor* optional(const Inputs& in, size_t i) {
  return i < in.size() ? in[i] : nullptr;
}

template <typename T>
const T& options(const fbs::Node& node, const T* o) {
  expect(o != nullptr, node_label(node) + " has no (or the wrong kind of) options");
  return *o;
}

void expect_rank(const fbs::Node& node, const ReferenceTensor& t, size_t rank) {
  expect(t.shape.rank() == rank, node_label(node) + ": expected rank " + std::to_string(rank) +
                                     ", found " + t.shape.to_string());
}

// --- Operators ------------------------------------------------------------------------------

ReferenceTensor conv2d(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_Conv2DOptions());
  const ReferenceTensor& x = need(node, in, 0);
  const ReferenceTensor& w = need(node, in, 1);
  const ReferenceTensor* bias = optional(in, 2);
  expect_rank(node, x, 4);
  expect_rank(node, w, 4);
  const int64_t n_ = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t co = w.shape[0], kh = w.shape[1], kw = w.shape[2], cig = w.shape[3];
  const int64_t groups = o.groups();
  expect(groups > 0 && c == cig * groups && co % groups == 0, node_label(node) + ": bad groups");
  const int64_t cog = co / groups;
  const int64_t sh = o.stride_h(), sw = o.stride_w(), dh = o.dilation_h(), dw = o.dilation_w();
  const int64_t pt = o.pad_top(), pl = o.pad_left(), pb = o.pad_bottom(), pr = o.pad_right();
  const int64_t oh = (h + pt + pb - ((kh - 1) * dh + 1)) / sh + 1;
  const int64_t ow = (wd + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
  expect(oh > 0 && ow > 0, node_label(node) + ": empty output");
  const Range act = range_of(o.activation());
  ReferenceTensor out{Shape{n_, oh, ow, co}, {}};
  out.values.resize(count(out.shape));
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t oc = 0; oc < co; ++oc) {
          const int64_t g = oc / cog;
          double acc = bias ? bias->values[static_cast<size_t>(oc)] : 0.0;
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t ix = ox * sw - pl + kx * dw;
              if (ix < 0 || ix >= wd) continue;
              for (int64_t ci = 0; ci < cig; ++ci) {
                const double xv =
                    x.values[static_cast<size_t>(((n * h + iy) * wd + ix) * c + g * cig + ci)];
                const double wv =
                    w.values[static_cast<size_t>(((oc * kh + ky) * kw + kx) * cig + ci)];
                acc += xv * wv;
              }
            }
          }
          out.values[static_cast<size_t>(((n * oh + oy) * ow + ox) * co + oc)] =
              clamp_to(static_cast<float>(acc), act);
        }
  return out;
}

ReferenceTensor transpose_conv2d(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_TransposeConv2DOptions());
  const ReferenceTensor& x = need(node, in, 0);
  const ReferenceTensor& w = need(node, in, 1);
  const ReferenceTensor* bias = optional(in, 2);
  expect_rank(node, x, 4);
  expect_rank(node, w, 4);
  const int64_t n_ = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t co = w.shape[0], kh = w.shape[1], kw = w.shape[2];
  expect(w.shape[3] == c, node_label(node) + ": weights do not match the input channels");
  const int64_t sh = o.stride_h(), sw = o.stride_w();
  const int64_t pt = o.pad_top(), pl = o.pad_left();
  const int64_t oh = sh * (h - 1) + kh + o.adjustment_h() - pt - o.pad_bottom();
  const int64_t ow = sw * (wd - 1) + kw + o.adjustment_w() - pl - o.pad_right();
  expect(oh > 0 && ow > 0, node_label(node) + ": empty output");
  // Scatter form: input pixel (iy, ix) with tap (ky, kx) lands on (iy*sh + ky - pt, ...).
  std::vector<double> acc(static_cast<size_t>(n_ * oh * ow * co), 0.0);
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t iy = 0; iy < h; ++iy)
      for (int64_t ix = 0; ix < wd; ++ix)
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t oy = iy * sh + ky - pt;
          if (oy < 0 || oy >= oh) continue;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t ox = ix * sw + kx - pl;
            if (ox < 0 || ox >= ow) continue;
            for (int64_t oc = 0; oc < co; ++oc) {
              double sum = 0.0;
              for (int64_t ci = 0; ci < c; ++ci)
                sum += static_cast<double>(
                           x.values[static_cast<size_t>(((n * h + iy) * wd + ix) * c + ci)]) *
                       w.values[static_cast<size_t>(((oc * kh + ky) * kw + kx) * c + ci)];
              acc[static_cast<size_t>(((n * oh + oy) * ow + ox) * co + oc)] += sum;
            }
          }
        }
  const Range act = range_of(o.activation());
  ReferenceTensor out{Shape{n_, oh, ow, co}, std::vector<float>(acc.size())};
  for (size_t i = 0; i < acc.size(); ++i) {
    const double b = bias ? bias->values[i % static_cast<size_t>(co)] : 0.0;
    out.values[i] = clamp_to(static_cast<float>(acc[i] + b), act);
  }
  return out;
}

ReferenceTensor fully_connected(const fbs::Node& node, const Inputs& in) {
  const ReferenceTensor& x = need(node, in, 0);
  const ReferenceTensor& w = need(node, in, 1);
  const ReferenceTensor* bias = optional(in, 2);
  expect_rank(node, w, 2);
  expect(x.shape.rank() >= 1, node_label(node) + ": scalar input");
  const int64_t k = x.shape[x.shape.rank() - 1];
  const int64_t units = w.shape[0];
  expect(w.shape[1] == k, node_label(node) + ": weights do not match the input features");
  const auto* o = node.options_as_FullyConnectedOptions();
  const Range act = o ? range_of(o->activation()) : Range{};
  const int64_t rows = x.shape.elements() / k;
  ReferenceTensor out{x.shape, {}};
  out.shape[out.shape.rank() - 1] = units;
  out.values.resize(count(out.shape));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double acc = bias ? bias->values[static_cast<size_t>(u)] : 0.0;
      for (int64_t i = 0; i < k; ++i)
        acc += static_cast<double>(x.values[static_cast<size_t>(r * k + i)]) *
               w.values[static_cast<size_t>(u * k + i)];
      out.values[static_cast<size_t>(r * units + u)] = clamp_to(static_cast<float>(acc), act);
    }
  return out;
}

ReferenceTensor binary(const fbs::Node& node, const Inputs& in) {
  const ReferenceTensor& a = need(node, in, 0);
  const ReferenceTensor& b = need(node, in, 1);
  const size_t rank = std::max(a.shape.rank(), b.shape.rank());
  // Right-aligned shapes padded with ones, numpy style.
  Shape pa, pb, shape;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t da = d + a.shape.rank() >= rank ? a.shape[d + a.shape.rank() - rank] : 1;
    const int64_t db = d + b.shape.rank() >= rank ? b.shape[d + b.shape.rank() - rank] : 1;
    expect(da == db || da == 1 || db == 1, node_label(node) + ": shapes do not broadcast");
    pa.push_back(da);
    pb.push_back(db);
    shape.push_back(std::max(da, db));
  }
  const auto* o = node.options_as_BinaryOptions();
  const Range act = o ? range_of(o->activation()) : Range{};
  ReferenceTensor out{shape, std::vector<float>(count(shape))};
  int64_t coords[Shape::kMaxDims], ca[Shape::kMaxDims], cb[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    for (size_t d = 0; d < rank; ++d) {
      ca[d] = pa[d] == 1 ? 0 : coords[d];
      cb[d] = pb[d] == 1 ? 0 : coords[d];
    }
    const float va = a.values[static_cast<size_t>(flat_index(pa, ca))];
    const float vb = b.values[static_cast<size_t>(flat_index(pb, cb))];
    float r = 0.f;
    switch (node.op()) {
      case OpKind::ADD:
        r = va + vb;
        break;
      case OpKind::SUB:
        r = va - vb;
        break;
      case OpKind::MUL:
        r = va * vb;
        break;
      case OpKind::DIV:
        r = va / vb;
        break;
      default:
        fail(node_label(node) + ": not a binary operator");
    }
    out.values[static_cast<size_t>(i)] = clamp_to(r, act);
  }
  return out;
}

ReferenceTensor pool2d(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_Pool2DOptions());
  const ReferenceTensor& x = need(node, in, 0);
  expect_rank(node, x, 4);
  const int64_t n_ = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t fh = o.filter_h(), fw = o.filter_w(), sh = o.stride_h(), sw = o.stride_w();
  const int64_t pt = o.pad_top(), pl = o.pad_left();
  const int64_t oh = (h + pt + o.pad_bottom() - fh) / sh + 1;
  const int64_t ow = (wd + pl + o.pad_right() - fw) / sw + 1;
  expect(oh > 0 && ow > 0, node_label(node) + ": empty output");
  const bool is_max = node.op() == OpKind::MAX_POOL_2D;
  const Range act = range_of(o.activation());
  ReferenceTensor out{Shape{n_, oh, ow, c}, {}};
  out.values.resize(count(out.shape));
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t ch = 0; ch < c; ++ch) {
          // Padding never contributes: max over, and average divided by, the real pixels only.
          double sum = 0.0;
          float best = -kInf;
          int64_t valid = 0;
          for (int64_t ky = 0; ky < fh; ++ky) {
            const int64_t iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (int64_t kx = 0; kx < fw; ++kx) {
              const int64_t ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= wd) continue;
              const float v = x.values[static_cast<size_t>(((n * h + iy) * wd + ix) * c + ch)];
              best = std::max(best, v);
              sum += v;
              ++valid;
            }
          }
          expect(valid > 0, node_label(node) + ": a window sees only padding");
          const float r = is_max ? best : static_cast<float>(sum / static_cast<double>(valid));
          out.values[static_cast<size_t>(((n * oh + oy) * ow + ox) * c + ch)] = clamp_to(r, act);
        }
  return out;
}

ReferenceTensor mean(const fbs::Node& node, const Inputs& in) {
  const ReferenceTensor& x = need(node, in, 0);
  expect_rank(node, x, 4);
  const auto* o = node.options_as_MeanOptions();
  const bool keep = o ? o->keep_dims() : true;
  const int64_t n_ = x.shape[0], hw = x.shape[1] * x.shape[2], c = x.shape[3];
  ReferenceTensor out{keep ? Shape{n_, 1, 1, c} : Shape{n_, c}, {}};
  out.values.resize(count(out.shape));
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t ch = 0; ch < c; ++ch) {
      double sum = 0.0;
      for (int64_t p = 0; p < hw; ++p) sum += x.values[static_cast<size_t>((n * hw + p) * c + ch)];
      out.values[static_cast<size_t>(n * c + ch)] =
          static_cast<float>(sum / static_cast<double>(hw));
    }
  return out;
}

ReferenceTensor pad(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_PadOptions());
  const ReferenceTensor& x = need(node, in, 0);
  const size_t rank = x.shape.rank();
  expect(o.before()->size() == rank && o.after()->size() == rank,
         node_label(node) + ": bad padding");
  Shape shape;
  for (size_t d = 0; d < rank; ++d)
    shape.push_back(x.shape[d] + o.before()->Get(d) + o.after()->Get(d));
  ReferenceTensor out{shape, std::vector<float>(count(shape))};
  int64_t coords[Shape::kMaxDims], src[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    bool inside = true;
    for (size_t d = 0; d < rank; ++d) {
      src[d] = coords[d] - o.before()->Get(d);
      inside = inside && src[d] >= 0 && src[d] < x.shape[d];
    }
    out.values[static_cast<size_t>(i)] =
        inside ? x.values[static_cast<size_t>(flat_index(x.shape, src))] : o.value();
  }
  return out;
}

// Source coordinate along one axis, in the float arithmetic the schema's formulas spell out.
float source_coordinate(int64_t dst, int64_t in, int64_t out, fbs::CoordinateMode mode) {
  const float d = static_cast<float>(dst), i = static_cast<float>(in), o = static_cast<float>(out);
  switch (mode) {
    case fbs::CoordinateMode::HALF_PIXEL:
      return (d + 0.5f) * i / o - 0.5f;
    case fbs::CoordinateMode::ALIGN_CORNERS:
      return out > 1 ? d * (i - 1.f) / (o - 1.f) : 0.f;
    case fbs::CoordinateMode::ASYMMETRIC:
      return d * i / o;
  }
  fail("unknown coordinate mode");
}

ReferenceTensor resize(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_ResizeOptions());
  const ReferenceTensor& x = need(node, in, 0);
  expect_rank(node, x, 4);
  const int64_t n_ = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t oh = o.height(), ow = o.width();
  expect(oh > 0 && ow > 0, node_label(node) + ": empty output");
  ReferenceTensor out{Shape{n_, oh, ow, c}, {}};
  out.values.resize(count(out.shape));
  auto at = [&](int64_t n, int64_t y, int64_t xx, int64_t ch) {
    return static_cast<double>(x.values[static_cast<size_t>(((n * h + y) * wd + xx) * c + ch)]);
  };
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xx = 0; xx < ow; ++xx)
        for (int64_t ch = 0; ch < c; ++ch) {
          const float fy = source_coordinate(y, h, oh, o.coordinates());
          const float fx = source_coordinate(xx, wd, ow, o.coordinates());
          double v = 0.0;
          if (o.mode() == fbs::ResizeMode::NEAREST) {
            // Round half up, then clamp into the input.
            const int64_t sy =
                std::clamp<int64_t>(static_cast<int64_t>(std::floor(fy + 0.5f)), 0, h - 1);
            const int64_t sx =
                std::clamp<int64_t>(static_cast<int64_t>(std::floor(fx + 0.5f)), 0, wd - 1);
            v = at(n, sy, sx, ch);
          } else {
            const double cy = std::clamp<double>(fy, 0.0, static_cast<double>(h - 1));
            const double cx = std::clamp<double>(fx, 0.0, static_cast<double>(wd - 1));
            const int64_t y0 = static_cast<int64_t>(std::floor(cy));
            const int64_t x0 = static_cast<int64_t>(std::floor(cx));
            const int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, wd - 1);
            const double ly = cy - static_cast<double>(y0), lx = cx - static_cast<double>(x0);
            v = (1 - ly) * ((1 - lx) * at(n, y0, x0, ch) + lx * at(n, y0, x1, ch)) +
                ly * ((1 - lx) * at(n, y1, x0, ch) + lx * at(n, y1, x1, ch));
          }
          out.values[static_cast<size_t>(((n * oh + y) * ow + xx) * c + ch)] =
              static_cast<float>(v);
        }
  return out;
}

ReferenceTensor softmax(const fbs::Node& node, const Inputs& in) {
  const ReferenceTensor& x = need(node, in, 0);
  expect(x.shape.rank() >= 1, node_label(node) + ": scalar input");
  const auto* o = node.options_as_SoftmaxOptions();
  const double beta = o ? o->beta() : 1.0;
  const int64_t channels = x.shape[x.shape.rank() - 1];
  const int64_t rows = x.shape.elements() / channels;
  ReferenceTensor out{x.shape, std::vector<float>(x.values.size())};
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x.values.data() + r * channels;
    double max_value = row[0];
    for (int64_t i = 1; i < channels; ++i) max_value = std::max<double>(max_value, row[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < channels; ++i) sum += std::exp(beta * (row[i] - max_value));
    for (int64_t i = 0; i < channels; ++i)
      out.values[static_cast<size_t>(r * channels + i)] =
          static_cast<float>(std::exp(beta * (row[i] - max_value)) / sum);
  }
  return out;
}

ReferenceTensor elementwise(const fbs::Node& node, const Inputs& in) {
  const ReferenceTensor& x = need(node, in, 0);
  std::function<double(double, int64_t)> f;  // value, channel (last-dim index)
  switch (node.op()) {
    case OpKind::CLAMP: {
      const auto* o = node.options_as_ClampOptions();
      const double lo = o ? o->min() : -kInf, hi = o ? o->max() : kInf;
      f = [lo, hi](double v, int64_t) { return std::min(std::max(v, lo), hi); };
      break;
    }
    case OpKind::HARD_SWISH:
      f = [](double v, int64_t) { return v * std::min(std::max(v + 3.0, 0.0), 6.0) / 6.0; };
      break;
    case OpKind::SIGMOID:
      f = [](double v, int64_t) { return 1.0 / (1.0 + std::exp(-v)); };
      break;
    case OpKind::TANH:
      f = [](double v, int64_t) { return std::tanh(v); };
      break;
    case OpKind::ABS:
      f = [](double v, int64_t) { return std::fabs(v); };
      break;
    case OpKind::SILU:
      // The limit at -inf is -0 (v / (1 + e^-v) would give -inf / inf).
      f = [](double v, int64_t) {
        return std::isinf(v) && v < 0 ? -0.0 : v / (1.0 + std::exp(-v));
      };
      break;
    case OpKind::LEAKY_RELU: {
      const auto* o = node.options_as_LeakyReluOptions();
      const double slope = o ? o->negative_slope() : 0.01;
      f = [slope](double v, int64_t) { return v < 0 ? v * slope : v; };
      break;
    }
    case OpKind::PRELU: {
      const ReferenceTensor& slope = need(node, in, 1);
      const int64_t channels = x.shape[x.shape.rank() - 1];
      expect(slope.shape.elements() == channels, node_label(node) + ": slope size");
      f = [&slope](double v, int64_t ch) {
        return v < 0 ? v * slope.values[static_cast<size_t>(ch)] : v;
      };
      break;
    }
    default:
      fail(node_label(node) + ": not an elementwise operator");
  }
  expect(x.shape.rank() >= 1, node_label(node) + ": scalar input");
  const int64_t channels = x.shape[x.shape.rank() - 1];
  ReferenceTensor out{x.shape, std::vector<float>(x.values.size())};
  for (size_t i = 0; i < x.values.size(); ++i)
    out.values[i] = static_cast<float>(f(x.values[i], static_cast<int64_t>(i) % channels));
  return out;
}

ReferenceTensor depth_to_space(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_DepthToSpaceOptions());
  const ReferenceTensor& x = need(node, in, 0);
  expect_rank(node, x, 4);
  const int64_t b = o.block_size();
  const int64_t n_ = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  expect(b >= 1 && c % (b * b) == 0, node_label(node) + ": channels not divisible by block^2");
  const int64_t co = c / (b * b);
  ReferenceTensor out{Shape{n_, h * b, wd * b, co}, {}};
  out.values.resize(count(out.shape));
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < wd; ++xx)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t j = 0; j < b; ++j)
            for (int64_t ch = 0; ch < co; ++ch)
              out.values[static_cast<size_t>(((n * h * b + y * b + i) * wd * b + xx * b + j) * co +
                                             ch)] =
                  x.values[static_cast<size_t>(((n * h + y) * wd + xx) * c + (i * b + j) * co +
                                               ch)];
  return out;
}

ReferenceTensor reshape(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_ReshapeOptions());
  const ReferenceTensor& x = need(node, in, 0);
  Shape shape;
  for (int d : *o.shape()) expect(shape.push_back(d), node_label(node) + ": rank too large");
  expect(shape.elements() == x.shape.elements(), node_label(node) + ": element count changes");
  return {shape, x.values};
}

ReferenceTensor concatenation(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_ConcatenationOptions());
  expect(!in.empty(), node_label(node) + ": no inputs");
  const ReferenceTensor& first = need(node, in, 0);
  const int rank = static_cast<int>(first.shape.rank());
  const int axis = o.axis() < 0 ? o.axis() + rank : o.axis();
  expect(axis >= 0 && axis < rank, node_label(node) + ": axis out of range");
  Shape shape = first.shape;
  shape[static_cast<size_t>(axis)] = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const ReferenceTensor& t = need(node, in, i);
    expect(static_cast<int>(t.shape.rank()) == rank, node_label(node) + ": rank mismatch");
    shape[static_cast<size_t>(axis)] += t.shape[static_cast<size_t>(axis)];
  }
  const Range act = range_of(o.activation());
  ReferenceTensor out{shape, std::vector<float>(count(shape))};
  // Element by element: find the input that owns the coordinate along `axis`.
  int64_t coords[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    int64_t along = coords[axis];
    size_t k = 0;
    while (along >= in[k]->shape[static_cast<size_t>(axis)])
      along -= in[k++]->shape[static_cast<size_t>(axis)];
    coords[axis] = along;
    out.values[static_cast<size_t>(i)] =
        clamp_to(in[k]->values[static_cast<size_t>(flat_index(in[k]->shape, coords))], act);
  }
  return out;
}

ReferenceTensor transpose(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_TransposeOptions());
  const ReferenceTensor& x = need(node, in, 0);
  const size_t rank = x.shape.rank();
  expect(o.perm()->size() == rank, node_label(node) + ": perm size");
  Shape shape;
  for (size_t d = 0; d < rank; ++d) shape.push_back(x.shape[static_cast<size_t>(o.perm()->Get(d))]);
  ReferenceTensor out{shape, std::vector<float>(count(shape))};
  int64_t coords[Shape::kMaxDims], src[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    for (size_t d = 0; d < rank; ++d) src[o.perm()->Get(d)] = coords[d];
    out.values[static_cast<size_t>(i)] = x.values[static_cast<size_t>(flat_index(x.shape, src))];
  }
  return out;
}

ReferenceTensor slice(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_SliceOptions());
  const ReferenceTensor& x = need(node, in, 0);
  const size_t rank = x.shape.rank();
  expect(o.begin()->size() == rank && o.size()->size() == rank &&
             (!o.step() || o.step()->size() == rank),
         node_label(node) + ": begin/size/step do not match the rank");
  Shape shape;
  for (size_t d = 0; d < rank; ++d) shape.push_back(o.size()->Get(d));
  ReferenceTensor out{shape, std::vector<float>(count(shape))};
  int64_t coords[Shape::kMaxDims], src[Shape::kMaxDims];
  for (int64_t i = 0; i < shape.elements(); ++i) {
    unravel(i, shape, coords);
    for (size_t d = 0; d < rank; ++d) {
      src[d] = o.begin()->Get(d) + coords[d] * (o.step() ? o.step()->Get(d) : 1);
      expect(src[d] >= 0 && src[d] < x.shape[d], node_label(node) + ": reads outside the input");
    }
    out.values[static_cast<size_t>(i)] = x.values[static_cast<size_t>(flat_index(x.shape, src))];
  }
  return out;
}

// Output channel j * groups + g reads input channel g * (C / groups) + j, in every row.
ReferenceTensor channel_shuffle(const fbs::Node& node, const Inputs& in) {
  const auto& o = options(node, node.options_as_ChannelShuffleOptions());
  const ReferenceTensor& x = need(node, in, 0);
  expect(x.shape.rank() >= 1, node_label(node) + ": rank 0");
  const int64_t c = x.shape[x.shape.rank() - 1], groups = o.groups();
  expect(groups >= 1 && c % groups == 0, node_label(node) + ": groups do not divide channels");
  const int64_t per_group = c / groups;
  ReferenceTensor out{x.shape, std::vector<float>(x.values.size())};
  for (int64_t row = 0; row < x.shape.elements() / c; ++row)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t j = 0; j < per_group; ++j)
        out.values[static_cast<size_t>(row * c + j * groups + g)] =
            x.values[static_cast<size_t>(row * c + g * per_group + j)];
  return out;
}

ReferenceTensor evaluate_node(const fbs::Node& node, const Inputs& in) {
  switch (node.op()) {
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
      return conv2d(node, in);
    case OpKind::TRANSPOSE_CONV_2D:
      return transpose_conv2d(node, in);
    case OpKind::FULLY_CONNECTED:
      return fully_connected(node, in);
    case OpKind::ADD:
    case OpKind::SUB:
    case OpKind::MUL:
    case OpKind::DIV:
      return binary(node, in);
    case OpKind::MAX_POOL_2D:
    case OpKind::AVERAGE_POOL_2D:
      return pool2d(node, in);
    case OpKind::MEAN:
      return mean(node, in);
    case OpKind::PAD:
      return pad(node, in);
    case OpKind::RESIZE:
      return resize(node, in);
    case OpKind::SOFTMAX:
      return softmax(node, in);
    case OpKind::CLAMP:
    case OpKind::HARD_SWISH:
    case OpKind::SIGMOID:
    case OpKind::TANH:
    case OpKind::ABS:
    case OpKind::SILU:
    case OpKind::LEAKY_RELU:
    case OpKind::PRELU:
      return elementwise(node, in);
    case OpKind::DEPTH_TO_SPACE:
      return depth_to_space(node, in);
    case OpKind::RESHAPE:
      return reshape(node, in);
    case OpKind::CONCATENATION:
      return concatenation(node, in);
    case OpKind::TRANSPOSE:
      return transpose(node, in);
    case OpKind::SLICE:
      return slice(node, in);
    case OpKind::CHANNEL_SHUFFLE:
      return channel_shuffle(node, in);
    case OpKind::QUANTIZE:
    case OpKind::DEQUANTIZE:
      // I8 tensors hold their dequantized values: the caller rounds what a node writes to an I8
      // tensor onto its grid, so both conversions pass values through.
      return need(node, in, 0);
  }
  fail("unknown operator kind " + std::to_string(static_cast<int>(node.op())));
}

// --- Graph walking --------------------------------------------------------------------------

// producer[t] = index of the node writing tensor t, or -1.
std::vector<int> producers(const fbs::Model& m) {
  std::vector<int> p(m.tensors()->size(), -1);
  for (size_t n = 0; n < m.nodes()->size(); ++n)
    for (int t : *m.nodes()->Get(static_cast<flatbuffers::uoffset_t>(n))->outputs()) {
      expect(t >= 0 && static_cast<size_t>(t) < p.size(), "node output index out of range");
      expect(p[static_cast<size_t>(t)] < 0, "tensor " + std::to_string(t) + " has two producers");
      p[static_cast<size_t>(t)] = static_cast<int>(n);
    }
  return p;
}

const fbs::Task& find_task(const fbs::Model& m, const std::string& name) {
  for (const fbs::Task* t : *m.tasks())
    if (t->name()->str() == name) return *t;
  fail("unknown task '" + name + "'");
}

// Marks the nodes the outputs of `tasks` depend on (all tasks when empty).
std::vector<char> needed_mask(const fbs::Model& m, const std::vector<std::string>& tasks) {
  const std::vector<int> producer = producers(m);
  std::vector<const fbs::Task*> chosen;
  if (tasks.empty()) {
    for (const fbs::Task* t : *m.tasks()) chosen.push_back(t);
  } else {
    for (const std::string& name : tasks) chosen.push_back(&find_task(m, name));
  }
  std::vector<char> needed(m.nodes()->size(), 0);
  std::vector<int> stack;
  for (const fbs::Task* t : chosen)
    for (const fbs::TaskOutput* o : *t->outputs()) {
      expect(o->tensor() >= 0 && static_cast<size_t>(o->tensor()) < producer.size(),
             "bad task output");
      if (producer[static_cast<size_t>(o->tensor())] >= 0)
        stack.push_back(producer[static_cast<size_t>(o->tensor())]);
    }
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    if (needed[static_cast<size_t>(n)]) continue;
    needed[static_cast<size_t>(n)] = 1;
    for (int t : *m.nodes()->Get(static_cast<flatbuffers::uoffset_t>(n))->inputs())
      if (t >= 0 && producer[static_cast<size_t>(t)] >= 0)
        stack.push_back(producer[static_cast<size_t>(t)]);
  }
  return needed;
}

// The scales of a quantized tensor, from either of the file's forms (float or half).
std::vector<float> scales_of(const fbs::Tensor& t) {
  const fbs::Quantization* q = t.quantization();
  expect(q && polyhead::internal::quantization_scale_count(*q) > 0,
         "tensor '" + t.name()->str() + "' is quantized without parameters");
  return polyhead::internal::quantization_scales(*q);
}

// Scale and zero point of element `i` of a quantized tensor of shape `s` (per tensor or along
// the quantization axis); `scales` are scales_of(t).
std::pair<double, double> quantization_of(const fbs::Tensor& t, const std::vector<float>& scales,
                                          const Shape& s, size_t i) {
  const fbs::Quantization* q = t.quantization();
  size_t c = 0;
  if (q->axis() >= 0) {
    int64_t coords[Shape::kMaxDims];
    unravel(static_cast<int64_t>(i), s, coords);
    c = static_cast<size_t>(coords[q->axis()]);
  }
  expect(c < scales.size(), "tensor '" + t.name()->str() + "': too few scales");
  const auto k = static_cast<flatbuffers::uoffset_t>(c);
  const double zero = q->zero_point() && k < q->zero_point()->size()
                          ? static_cast<double>(q->zero_point()->Get(k))
                          : 0.0;
  return {scales[c], zero};
}

// F32 constants as they are; I8 and I32 constants dequantized.
ReferenceTensor load_constant(const fbs::Model& m, const std::vector<uint8_t>& bytes,
                              const fbs::Tensor& t) {
  const uint32_t b = t.buffer();
  expect(m.buffers() && b >= 1 && b <= m.buffers()->size(),
         "tensor '" + t.name()->str() + "': bad buffer index");
  const fbs::BufferRef* ref = m.buffers()->Get(b - 1);
  ReferenceTensor out{declared_shape(t), {}};
  out.values.resize(count(out.shape));
  const bool int16 = t.storage() == fbs::ConstantStorage::INT16;
  const size_t element = t.type() == fbs::ElementType::I8 ? 1 : int16 ? 2 : 4;
  const uint64_t size = out.values.size() * element;
  expect(
      ref->size() == size && ref->offset() <= bytes.size() && size <= bytes.size() - ref->offset(),
      "tensor '" + t.name()->str() + "': buffer does not fit the file or the shape");
  const uint8_t* data = bytes.data() + ref->offset();
  std::vector<int32_t> widened;  // an I32 constant stored as int16, read back as int32
  if (int16) {
    expect(t.type() == fbs::ElementType::I32, "tensor '" + t.name()->str() + "': int16 storage");
    widened.resize(out.values.size());
    polyhead::internal::widen_int16(data, widened.size(), widened.data());
    data = reinterpret_cast<const uint8_t*>(widened.data());
  }
  if (t.type() == fbs::ElementType::F32) {
    if (size) std::memcpy(out.values.data(), data, size);
    return out;
  }
  const std::vector<float> scales = scales_of(t);
  for (size_t i = 0; i < out.values.size(); ++i) {
    double q = 0.0;
    if (t.type() == fbs::ElementType::I8) {
      q = static_cast<int8_t>(data[i]);
    } else {
      int32_t v;
      std::memcpy(&v, data + i * 4, 4);
      q = v;
    }
    const auto [scale, zero] = quantization_of(t, scales, out.shape, i);
    out.values[i] = static_cast<float>(scale * (q - zero));
  }
  return out;
}

// Fake quantization: what a node writes to an I8 tensor, rounded (half to even) onto that
// tensor's grid and clamped to int8, then held dequantized again.
void fake_quantize(const fbs::Tensor& t, ReferenceTensor& r) {
  const std::vector<float> scales = scales_of(t);
  for (size_t i = 0; i < r.values.size(); ++i) {
    const auto [scale, zero] = quantization_of(t, scales, r.shape, i);
    const double q = std::min(127.0, std::max(-128.0, std::nearbyint(r.values[i] / scale) + zero));
    r.values[i] = static_cast<float>(scale * (q - zero));
  }
}

// F32 everywhere, I8 with quantization parameters, and I32 constants (int8 biases).
void check_type(const fbs::Tensor& t) {
  const std::string where = "tensor '" + t.name()->str() + "'";
  switch (t.type()) {
    case fbs::ElementType::F32:
      return;
    case fbs::ElementType::I8:
      expect(t.quantization() != nullptr, where + " is i8 without quantization parameters");
      return;
    case fbs::ElementType::I32:
      expect(t.buffer() != 0 && t.quantization() != nullptr,
             where + " is i32 but not a quantized constant (an int8 bias)");
      return;
    default:
      fail(where + " has an element type this interpreter does not evaluate");
  }
}

}  // namespace

std::map<std::string, ReferenceTensor> reference_evaluate(
    const std::vector<uint8_t>& bytes, const std::map<std::string, std::vector<float>>& inputs,
    const std::vector<std::string>& tasks) {
  const fbs::Model& m = open_model(bytes);
  const size_t tensor_count = m.tensors()->size();
  std::vector<char> needed =
      tasks.empty() ? std::vector<char>(m.nodes()->size(), 1) : needed_mask(m, tasks);
  std::vector<ReferenceTensor> values(tensor_count);
  std::vector<char> ready(tensor_count, 0);
  for (const fbs::Tensor* t : *m.tensors()) check_type(*t);

  for (const fbs::Input* input : *m.inputs()) {
    const size_t t = static_cast<size_t>(input->tensor());
    expect(t < tensor_count, "model input index out of range");
    const fbs::Tensor& info = *m.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
    auto it = inputs.find(info.name()->str());
    if (it == inputs.end()) continue;  // an error only if a needed node reads it
    values[t].shape = declared_shape(info);
    expect(it->second.size() == count(values[t].shape),
           "input '" + info.name()->str() + "' takes " + std::to_string(count(values[t].shape)) +
               " values, got " + std::to_string(it->second.size()));
    values[t].values = it->second;
    ready[t] = 1;
  }
  for (size_t t = 0; t < tensor_count; ++t) {
    const fbs::Tensor& info = *m.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
    if (info.buffer() != 0) {
      values[t] = load_constant(m, bytes, info);
      ready[t] = 1;
    }
  }

  // Evaluate whichever needed node has all its inputs, until none is left: independent of the
  // order the file lists nodes in.
  std::vector<char> done(m.nodes()->size(), 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t n = 0; n < m.nodes()->size(); ++n) {
      if (!needed[n] || done[n]) continue;
      const fbs::Node& node = *m.nodes()->Get(static_cast<flatbuffers::uoffset_t>(n));
      Inputs in;
      bool available = true;
      for (int t : *node.inputs()) {
        if (t < 0) {
          in.push_back(nullptr);
          continue;
        }
        expect(static_cast<size_t>(t) < tensor_count,
               node_label(node) + ": input index out of range");
        available = available && ready[static_cast<size_t>(t)];
        in.push_back(&values[static_cast<size_t>(t)]);
      }
      if (!available) continue;
      expect(node.outputs()->size() == 1, node_label(node) + ": expected one output");
      const size_t out = static_cast<size_t>(node.outputs()->Get(0));
      expect(out < tensor_count, node_label(node) + ": output index out of range");
      ReferenceTensor r = evaluate_node(node, in);
      const fbs::Tensor& out_info = *m.tensors()->Get(static_cast<flatbuffers::uoffset_t>(out));
      const Shape declared = declared_shape(out_info);
      expect(r.shape == declared, node_label(node) + ": computed shape " + r.shape.to_string() +
                                      " but the file declares " + declared.to_string());
      if (out_info.type() == fbs::ElementType::I8) fake_quantize(out_info, r);
      values[out] = std::move(r);
      ready[out] = 1;
      done[n] = 1;
      progress = true;
    }
  }
  for (size_t n = 0; n < m.nodes()->size(); ++n)
    if (needed[n] && !done[n])
      fail(node_label(*m.nodes()->Get(static_cast<flatbuffers::uoffset_t>(n))) +
           " could not run: an input is missing (unset model input or a cycle)");

  std::map<std::string, ReferenceTensor> result;
  for (size_t t = 0; t < tensor_count; ++t) {
    if (!ready[t]) continue;
    const std::string name =
        m.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t))->name()->str();
    expect(result.emplace(name, std::move(values[t])).second,
           "two tensors are named '" + name + "'");
  }
  return result;
}

std::map<std::string, std::vector<float>> reference_run(
    const std::vector<uint8_t>& bytes, const std::map<std::string, std::vector<float>>& inputs) {
  std::map<std::string, std::vector<float>> result;
  for (auto& [name, t] : reference_evaluate(bytes, inputs))
    result.emplace(name, std::move(t.values));
  return result;
}

std::vector<std::string> reference_needed_nodes(const std::vector<uint8_t>& bytes,
                                                const std::vector<std::string>& tasks) {
  const fbs::Model& m = open_model(bytes);
  const std::vector<char> needed = needed_mask(m, tasks);
  std::vector<std::string> names;
  for (size_t n = 0; n < needed.size(); ++n)
    if (needed[n])
      names.push_back(m.nodes()->Get(static_cast<flatbuffers::uoffset_t>(n))->name()->str());
  return names;
}

std::string reference_task_output_tensor(const std::vector<uint8_t>& bytes, const std::string& task,
                                         const std::string& output) {
  const fbs::Model& m = open_model(bytes);
  for (const fbs::TaskOutput* o : *find_task(m, task).outputs())
    if (o->name()->str() == output) {
      expect(o->tensor() >= 0 && static_cast<size_t>(o->tensor()) < m.tensors()->size(),
             "bad task output");
      return m.tensors()->Get(static_cast<flatbuffers::uoffset_t>(o->tensor()))->name()->str();
    }
  fail("task '" + task + "' has no output '" + output + "'");
}

}  // namespace polyhead::testing
