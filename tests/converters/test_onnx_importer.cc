// The ONNX importer on small models written here with the protobuf API (support/onnx_builder.h):
// each supported operator is converted, run by the Engine and compared with a naive NCHW
// computation done in this file (double accumulation); the folds (BatchNormalization, Relu/Clip,
// Pad into Conv, Add into MatMul, shape sub-graphs) are checked in the report and in the numbers;
// inputs and 4-D outputs keep the ONNX NCHW layout. Then the error paths, each message naming
// what is wrong, and hostile files: every truncated prefix of a valid model, a few thousand seeded
// byte mutations and as many structural ones (edits of the parsed graph, which get past the
// protobuf framing) convert to an error or to a model that loads and runs, never a crash or an
// exception (the suite also runs under ASan + UBSan). Real exported models against ONNX Runtime are
// in test_onnx_vs_ort.cc.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "converters/onnx/onnx_converter.h"
#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "polyhead/schema/phm_generated.h"
#include "support/onnx_builder.h"

namespace {

using polyhead::onnx_import::convert;
using polyhead::onnx_import::ConvertOptions;
using polyhead::onnx_import::ConvertReport;
using polyhead::testing::attr_float;
using polyhead::testing::attr_int;
using polyhead::testing::attr_ints;
using polyhead::testing::attr_string;
using polyhead::testing::OnnxModel;

// ---- tensors and naive NCHW references -------------------------------------------------------

struct Tensor {
  std::vector<int64_t> dims;
  std::vector<float> v;

  size_t size() const { return v.size(); }
  float& at(int64_t n, int64_t c, int64_t y, int64_t x) {
    return v[static_cast<size_t>(((n * dims[1] + c) * dims[2] + y) * dims[3] + x)];
  }
  float at(int64_t n, int64_t c, int64_t y, int64_t x) const {
    return v[static_cast<size_t>(((n * dims[1] + c) * dims[2] + y) * dims[3] + x)];
  }
};

size_t count_of(const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  return n;
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t k = 0; k < dims.size(); ++k) s += (k ? "," : "") + std::to_string(dims[k]);
  return s + "]";
}

// Seeded uniform values in [lo, hi].
Tensor random_tensor(const std::vector<int64_t>& dims, uint32_t seed, float lo = -1.f,
                     float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t{dims, std::vector<float>(count_of(dims))};
  for (float& x : t.v) x = dist(rng);
  return t;
}

Tensor zeros(const std::vector<int64_t>& dims) {
  return Tensor{dims, std::vector<float>(count_of(dims), 0.f)};
}

struct Conv {
  int stride_h = 1, stride_w = 1;
  int pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int dil_h = 1, dil_w = 1;
  int groups = 1;
};

// ONNX Conv: x [N,C,H,W], w [O,C/groups,KH,KW].
Tensor conv2d(const Tensor& x, const Tensor& w, const std::vector<float>& bias, const Conv& p) {
  const int64_t N = x.dims[0], H = x.dims[2], W = x.dims[3];
  const int64_t O = w.dims[0], CI = w.dims[1], KH = w.dims[2], KW = w.dims[3];
  const int64_t OH = (H + p.pad_t + p.pad_b - ((KH - 1) * p.dil_h + 1)) / p.stride_h + 1;
  const int64_t OW = (W + p.pad_l + p.pad_r - ((KW - 1) * p.dil_w + 1)) / p.stride_w + 1;
  Tensor out = zeros({N, O, OH, OW});
  const int64_t per_group = O / p.groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = bias.empty() ? 0.0 : bias[static_cast<size_t>(o)];
          const int64_t g = o / per_group;
          for (int64_t ci = 0; ci < CI; ++ci)
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                const int64_t iy = oy * p.stride_h - p.pad_t + ky * p.dil_h;
                const int64_t ix = ox * p.stride_w - p.pad_l + kx * p.dil_w;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += static_cast<double>(x.at(n, g * CI + ci, iy, ix)) * w.at(o, ci, ky, kx);
              }
          out.at(n, o, oy, ox) = static_cast<float>(acc);
        }
  return out;
}

// ONNX ConvTranspose (group 1, dilation 1): w [C_in, C_out, KH, KW].
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const std::vector<float>& bias,
                        const Conv& p, int adj_h, int adj_w) {
  const int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  const int64_t O = w.dims[1], KH = w.dims[2], KW = w.dims[3];
  const int64_t OH = p.stride_h * (H - 1) + adj_h + KH - p.pad_t - p.pad_b;
  const int64_t OW = p.stride_w * (W - 1) + adj_w + KW - p.pad_l - p.pad_r;
  std::vector<double> acc(count_of({N, O, OH, OW}), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t iy = 0; iy < H; ++iy)
        for (int64_t ix = 0; ix < W; ++ix)
          for (int64_t o = 0; o < O; ++o)
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                const int64_t oy = iy * p.stride_h + ky - p.pad_t;
                const int64_t ox = ix * p.stride_w + kx - p.pad_l;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                acc[static_cast<size_t>(((n * O + o) * OH + oy) * OW + ox)] +=
                    static_cast<double>(x.at(n, c, iy, ix)) * w.at(c, o, ky, kx);
              }
  Tensor out = zeros({N, O, OH, OW});
  for (size_t k = 0; k < acc.size(); ++k)
    out.v[k] = static_cast<float>(
        acc[k] + bias[(k / static_cast<size_t>(OH * OW)) % static_cast<size_t>(O)]);
  return out;
}

// y = (x - mean) / sqrt(var + eps) * scale + shift, per channel (dimension 1).
Tensor batch_norm(const Tensor& x, const std::vector<float>& scale, const std::vector<float>& shift,
                  const std::vector<float>& mean, const std::vector<float>& var, float eps) {
  Tensor y = x;
  const size_t C = static_cast<size_t>(x.dims[1]);
  const size_t inner = x.size() / static_cast<size_t>(x.dims[0]) / C;
  for (size_t k = 0; k < y.size(); ++k) {
    const size_t c = (k / inner) % C;
    y.v[k] = static_cast<float>(
        (x.v[k] - mean[c]) / std::sqrt(static_cast<double>(var[c]) + eps) * scale[c] + shift[c]);
  }
  return y;
}

Tensor map(const Tensor& x, const std::function<double(double)>& f) {
  Tensor y = x;
  for (float& v : y.v) v = static_cast<float>(f(v));
  return y;
}

// Zero (or `value`) padding of an NCHW tensor: pads [t, l, b, r] of H and W.
Tensor pad_hw(const Tensor& x, int t, int l, int b, int r, float value = 0.f) {
  const int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  Tensor y{{N, C, H + t + b, W + l + r}, {}};
  y.v.assign(count_of(y.dims), value);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t yy = 0; yy < H; ++yy)
        for (int64_t xx = 0; xx < W; ++xx) y.at(n, c, yy + t, xx + l) = x.at(n, c, yy, xx);
  return y;
}

// A copy with dimensions permuted: out dim d = in dim perm[d].
Tensor transpose(const Tensor& x, const std::vector<int>& perm) {
  Tensor y;
  for (int p : perm) y.dims.push_back(x.dims[static_cast<size_t>(p)]);
  y.v.resize(x.size());
  const size_t rank = x.dims.size();
  std::vector<size_t> in_st(rank, 1), out_st(rank, 1);
  for (size_t d = rank; d-- > 1;) {
    in_st[d - 1] = in_st[d] * static_cast<size_t>(x.dims[d]);
    out_st[d - 1] = out_st[d] * static_cast<size_t>(y.dims[d]);
  }
  for (size_t k = 0; k < y.size(); ++k) {
    size_t src = 0;
    for (size_t d = 0; d < rank; ++d)
      src += (k / out_st[d]) % static_cast<size_t>(y.dims[d]) * in_st[static_cast<size_t>(perm[d])];
    y.v[k] = x.v[src];
  }
  return y;
}

Tensor reshaped(Tensor x, const std::vector<int64_t>& dims) {
  REQUIRE(count_of(dims) == x.size());
  x.dims = dims;
  return x;
}

// `count` elements of `axis`, from `begin` on, `step` apart (any rank; steps may be negative).
Tensor slice_axis(const Tensor& x, size_t axis, int64_t begin, int64_t count, int64_t step = 1) {
  Tensor y;
  y.dims = x.dims;
  y.dims[axis] = count;
  y.v.resize(count_of(y.dims));
  const size_t rank = x.dims.size();
  std::vector<size_t> in_st(rank, 1), out_st(rank, 1);
  for (size_t d = rank; d-- > 1;) {
    in_st[d - 1] = in_st[d] * static_cast<size_t>(x.dims[d]);
    out_st[d - 1] = out_st[d] * static_cast<size_t>(y.dims[d]);
  }
  for (size_t k = 0; k < y.size(); ++k) {
    size_t src = 0;
    for (size_t d = 0; d < rank; ++d) {
      auto i = static_cast<int64_t>((k / out_st[d]) % static_cast<size_t>(y.dims[d]));
      if (d == axis) i = begin + i * step;
      REQUIRE(i >= 0);
      REQUIRE(i < x.dims[d]);
      src += static_cast<size_t>(i) * in_st[d];
    }
    y.v[k] = x.v[src];
  }
  return y;
}

// Concatenation along `axis`.
Tensor concat_axis(const std::vector<const Tensor*>& parts, size_t axis) {
  Tensor out;
  out.dims = parts[0]->dims;
  out.dims[axis] = 0;
  for (const Tensor* p : parts) out.dims[axis] += p->dims[axis];
  size_t outer = 1;
  for (size_t d = 0; d < axis; ++d) outer *= static_cast<size_t>(out.dims[d]);
  for (size_t o = 0; o < outer; ++o)
    for (const Tensor* p : parts) {
      const size_t block = p->size() / outer;
      out.v.insert(out.v.end(), p->v.begin() + static_cast<long>(o * block),
                   p->v.begin() + static_cast<long>((o + 1) * block));
    }
  return out;
}

// Softmax along `axis` (non-negative).
Tensor softmax(const Tensor& x, size_t axis) {
  size_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= static_cast<size_t>(x.dims[d]);
  for (size_t d = axis + 1; d < x.dims.size(); ++d) inner *= static_cast<size_t>(x.dims[d]);
  const size_t n = static_cast<size_t>(x.dims[axis]);
  Tensor y = x;
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      double mx = -1e300, sum = 0;
      for (size_t k = 0; k < n; ++k)
        mx = std::max(mx, static_cast<double>(x.v[(o * n + k) * inner + i]));
      for (size_t k = 0; k < n; ++k) sum += std::exp(x.v[(o * n + k) * inner + i] - mx);
      for (size_t k = 0; k < n; ++k)
        y.v[(o * n + k) * inner + i] =
            static_cast<float>(std::exp(x.v[(o * n + k) * inner + i] - mx) / sum);
    }
  return y;
}

// y[m][n] = alpha * sum_k x[m][k] * B[k][n] + beta * c[n]; B is w or w transposed.
Tensor gemm(const Tensor& x, const Tensor& w, bool trans_b, float alpha, float beta,
            const std::vector<float>& c) {
  const int64_t M = x.dims[0], K = x.dims[1];
  const int64_t Nn = trans_b ? w.dims[0] : w.dims[1];
  Tensor y = zeros({M, Nn});
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < Nn; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<double>(x.v[static_cast<size_t>(m * K + k)]) *
               w.v[static_cast<size_t>(trans_b ? n * K + k : k * Nn + n)];
      const double bias = c.empty() ? 0.0 : c[c.size() == 1 ? 0 : static_cast<size_t>(n)];
      y.v[static_cast<size_t>(m * Nn + n)] = static_cast<float>(alpha * acc + beta * bias);
    }
  return y;
}

// Pooling over H, W with pads [t, l, b, r]; windows are clipped to the input (max, and average
// without count_include_pad) or divided by the full window (average with it).
Tensor pool2d(const Tensor& x, bool average, int kh, int kw, int sh, int sw, int pt, int pl, int pb,
              int pr, bool include_pad, bool ceil_mode) {
  const int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  auto out_size = [&](int64_t in, int k, int s, int p0, int p1) {
    const int64_t span = in + p0 + p1 - k;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p0) --o;
    return o;
  };
  const int64_t OH = out_size(H, kh, sh, pt, pb), OW = out_size(W, kw, sw, pl, pr);
  Tensor y = zeros({N, C, OH, OW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = average ? 0.0 : -1e300;
          int count = 0;
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              ++count;
              acc = average ? acc + x.at(n, c, iy, ix)
                            : std::max(acc, static_cast<double>(x.at(n, c, iy, ix)));
            }
          y.at(n, c, oy, ox) =
              static_cast<float>(average ? acc / (include_pad ? kh * kw : count) : acc);
        }
  return y;
}

// ONNX Resize, nearest: source index from the coordinate transformation and rounding mode.
Tensor resize_nearest(const Tensor& x, int64_t oh, int64_t ow, const std::string& coords,
                      const std::string& rounding) {
  auto src = [&](int64_t d, int64_t in, int64_t out) {
    const double scale = static_cast<double>(out) / static_cast<double>(in);
    double c = 0;
    if (coords == "asymmetric") c = d / scale;
    if (coords == "half_pixel") c = (d + 0.5) / scale - 0.5;
    double r = 0;
    if (rounding == "floor") r = std::floor(c);
    if (rounding == "round_prefer_floor")
      r = c - std::floor(c) == 0.5 ? std::floor(c) : std::round(c);
    return std::clamp<int64_t>(static_cast<int64_t>(r), 0, in - 1);
  };
  Tensor y = zeros({x.dims[0], x.dims[1], oh, ow});
  for (int64_t n = 0; n < x.dims[0]; ++n)
    for (int64_t c = 0; c < x.dims[1]; ++c)
      for (int64_t yy = 0; yy < oh; ++yy)
        for (int64_t xx = 0; xx < ow; ++xx)
          y.at(n, c, yy, xx) = x.at(n, c, src(yy, x.dims[2], oh), src(xx, x.dims[3], ow));
  return y;
}

// ONNX Resize, linear, half_pixel: source coordinate (d + 0.5) / scale - 0.5 clamped to the input.
Tensor resize_bilinear_half_pixel(const Tensor& x, int64_t oh, int64_t ow) {
  auto coord = [](int64_t d, int64_t in, int64_t out, int64_t& i0, int64_t& i1, double& f) {
    double c = (d + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5;
    c = std::clamp(c, 0.0, static_cast<double>(in - 1));
    i0 = static_cast<int64_t>(std::floor(c));
    i1 = std::min(i0 + 1, in - 1);
    f = c - static_cast<double>(i0);
  };
  Tensor y = zeros({x.dims[0], x.dims[1], oh, ow});
  for (int64_t n = 0; n < x.dims[0]; ++n)
    for (int64_t c = 0; c < x.dims[1]; ++c)
      for (int64_t yy = 0; yy < oh; ++yy)
        for (int64_t xx = 0; xx < ow; ++xx) {
          int64_t y0, y1, x0, x1;
          double fy, fx;
          coord(yy, x.dims[2], oh, y0, y1, fy);
          coord(xx, x.dims[3], ow, x0, x1, fx);
          const double top = x.at(n, c, y0, x0) * (1 - fx) + x.at(n, c, y0, x1) * fx;
          const double bottom = x.at(n, c, y1, x0) * (1 - fx) + x.at(n, c, y1, x1) * fx;
          y.at(n, c, yy, xx) = static_cast<float>(top * (1 - fy) + bottom * fy);
        }
  return y;
}

// Mean over H and W: [N,C,1,1].
Tensor mean_hw(const Tensor& x) {
  Tensor y = zeros({x.dims[0], x.dims[1], 1, 1});
  const size_t hw = static_cast<size_t>(x.dims[2] * x.dims[3]);
  for (size_t k = 0; k < y.size(); ++k) {
    double s = 0;
    for (size_t i = 0; i < hw; ++i) s += x.v[k * hw + i];
    y.v[k] = static_cast<float>(s / static_cast<double>(hw));
  }
  return y;
}

// Element-wise with NumPy broadcasting (the result has the rank of the larger operand).
Tensor broadcast(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  const size_t rank = std::max(a.dims.size(), b.dims.size());
  auto aligned = [&](const std::vector<int64_t>& d) {
    std::vector<int64_t> r(rank - d.size(), 1);
    r.insert(r.end(), d.begin(), d.end());
    return r;
  };
  const std::vector<int64_t> da = aligned(a.dims), db = aligned(b.dims);
  std::vector<int64_t> out(rank);
  for (size_t d = 0; d < rank; ++d) out[d] = std::max(da[d], db[d]);
  Tensor y = zeros(out);
  for (size_t k = 0; k < y.size(); ++k) {
    size_t rem = k, ia = 0, ib = 0, sa = 1, sb = 1;
    for (size_t d = rank; d-- > 0;) {
      const size_t coord = rem % static_cast<size_t>(out[d]);
      rem /= static_cast<size_t>(out[d]);
      if (da[d] != 1) ia += coord * sa;
      if (db[d] != 1) ib += coord * sb;
      sa *= static_cast<size_t>(da[d]);
      sb *= static_cast<size_t>(db[d]);
    }
    y.v[k] = static_cast<float>(f(a.v[ia], b.v[ib]));
  }
  return y;
}

std::vector<float> values(uint32_t seed, size_t n, float lo, float hi) {
  return random_tensor({static_cast<int64_t>(n)}, seed, lo, hi).v;
}

// ---- converting and running -----------------------------------------------------------------

struct Converted {
  std::vector<uint8_t> phm;
  ConvertReport report;
};

Converted convert_ok(const OnnxModel& m, const ConvertOptions& options = {}) {
  Converted c;
  auto r = convert(m.bytes(), options, &c.report);
  INFO((r.is_ok() ? std::string("converted") : r.status().to_string()));
  REQUIRE(r.is_ok());
  c.phm = *r;
  return c;
}

// The conversion's error message (the conversion must fail).
std::string convert_error(const OnnxModel& m, const ConvertOptions& options = {},
                          polyhead::ErrorCode* code = nullptr) {
  auto r = convert(m.bytes(), options);
  REQUIRE_FALSE(r.is_ok());
  if (code) *code = r.status().code();
  return r.status().message();
}

// Runs every task; outputs by output name (tasks named after the ONNX outputs).
std::map<std::string, Tensor> run(const std::vector<uint8_t>& phm,
                                  const std::map<std::string, Tensor>& inputs) {
  auto model = polyhead::Model::from_bytes(phm);
  INFO((model.is_ok() ? std::string() : model.status().to_string()));
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO((plan.is_ok() ? std::string() : plan.status().to_string()));
  REQUIRE(plan.is_ok());
  for (const polyhead::InputInfo& in : model->inputs()) {
    auto it = inputs.find(in.name);
    INFO("input " << in.name);
    REQUIRE(it != inputs.end());
    // Inputs keep the ONNX shape (NCHW).
    CHECK(std::vector<int64_t>(in.shape.begin(), in.shape.end()) == it->second.dims);
    REQUIRE(plan->set_input(in.name, it->second.v.data(), it->second.size()).is_ok());
  }
  const polyhead::Status ran = plan->run();
  INFO(ran.to_string());
  REQUIRE(ran.is_ok());
  std::map<std::string, Tensor> outs;
  for (const polyhead::TaskInfo& task : model->tasks())
    for (const polyhead::TaskOutputInfo& out : task.outputs) {
      auto view = plan->output(task.name, out.name);
      REQUIRE(view.is_ok());
      REQUIRE(view->f32() != nullptr);
      Tensor t;
      t.dims.assign(view->shape.begin(), view->shape.end());
      t.v.assign(view->f32(), view->f32() + view->shape.elements());
      outs[out.name] = std::move(t);
    }
  return outs;
}

// `got` must have `want`'s shape and values within 1e-5 x max(1, max |want|) (float32 sums
// against double ones).
void check_close(const std::map<std::string, Tensor>& outs, const std::string& name,
                 const Tensor& want, double rel = 1e-5) {
  INFO("output " << name);
  auto it = outs.find(name);
  REQUIRE(it != outs.end());
  const Tensor& got = it->second;
  INFO("shape " << dims_text(got.dims) << ", expected " << dims_text(want.dims));
  REQUIRE(got.dims == want.dims);
  double max_ref = 0, max_err = 0;
  size_t worst = 0;
  for (size_t k = 0; k < want.size(); ++k) {
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(want.v[k])));
    const double e = std::fabs(static_cast<double>(got.v[k]) - want.v[k]);
    if (!(e <= max_err)) {
      max_err = e;
      worst = k;
    }
  }
  INFO("max |error| " << max_err << " at " << worst << " (got " << got.v[worst] << ", expected "
                      << want.v[worst] << "), max |expected| " << max_ref);
  CHECK(max_err <= rel * std::max(1.0, max_ref));
}

int count(const std::map<std::string, int>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---- a model for the hostile-file tests --------------------------------------------------------

// Conv + BN + Relu, a folded Pad, Resize, Concat, Softmax over channels, a pooled Gemm: small
// weights, so most of the bytes are structure.
OnnxModel small_model() {
  OnnxModel m(13);
  m.input("x", {1, 2, 4, 4});
  m.initializer("w", {3, 2, 3, 3}, values(1, 54, -0.5f, 0.5f));
  m.initializer("b", {3}, {0.1f, -0.1f, 0.2f});
  m.initializer("s", {3}, {1.f, 0.5f, 2.f});
  m.initializer("t", {3}, {0.f, 0.1f, -0.1f});
  m.initializer("mu", {3}, {0.f, 0.2f, 0.1f});
  m.initializer("var", {3}, {1.f, 2.f, 0.5f});
  m.initializer_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
  m.initializer("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  m.initializer("fc", {2, 3}, values(2, 6, -1.f, 1.f));
  m.node("Pad", {"x", "pads"}, {"xp"}, "pad");
  auto* conv = m.node("Conv", {"xp", "w", "b"}, {"c"}, "conv");
  attr_ints(conv, "kernel_shape", {3, 3});
  m.node("BatchNormalization", {"c", "s", "t", "mu", "var"}, {"bn"}, "bn");
  m.node("Relu", {"bn"}, {"r"}, "relu");
  auto* up = m.node("Resize", {"r", "", "scales"}, {"up"}, "up");
  attr_string(up, "mode", "nearest");
  attr_string(up, "coordinate_transformation_mode", "asymmetric");
  attr_string(up, "nearest_mode", "floor");
  m.node("Resize", {"x", "", "scales"}, {"xup"}, "xup");
  auto* cat = m.node("Concat", {"up", "xup"}, {"cat"}, "cat");
  attr_int(cat, "axis", 1);
  auto* sm = m.node("Softmax", {"cat"}, {"prob"}, "softmax");
  attr_int(sm, "axis", 1);
  m.node("GlobalAveragePool", {"r"}, {"gap"}, "gap");
  m.node("Flatten", {"gap"}, {"flat"}, "flatten");
  auto* fc = m.node("Gemm", {"flat", "fc"}, {"logits"}, "fc");
  attr_int(fc, "transB", 1);
  m.output("prob");
  m.output("logits");
  return m;
}

}  // namespace

// ---- operators -------------------------------------------------------------------------------

TEST_CASE("onnx: Conv + BatchNormalization + Relu fold into one convolution", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 9, 8});
  const Tensor w = random_tensor({5, 3, 3, 3}, 11, -0.5f, 0.5f);
  const std::vector<float> bias = values(12, 5, -0.2f, 0.2f);
  const std::vector<float> scale = values(13, 5, 0.5f, 1.5f), shift = values(14, 5, -0.2f, 0.2f);
  const std::vector<float> mean = values(15, 5, -0.3f, 0.3f), var = values(16, 5, 0.5f, 2.f);
  m.initializer("w", w.dims, w.v);
  m.initializer("b", {5}, bias);
  m.initializer("scale", {5}, scale);
  m.initializer("shift", {5}, shift);
  m.initializer("mean", {5}, mean);
  m.initializer("var", {5}, var);
  auto* conv = m.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  attr_ints(conv, "kernel_shape", {3, 3});
  attr_ints(conv, "pads", {1, 1, 1, 1});
  auto* bn = m.node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"bn"}, "bn");
  attr_float(bn, "epsilon", 1e-3f);
  m.node("Relu", {"bn"}, {"y"}, "relu");
  m.output("y");

  const Converted c = convert_ok(m);
  CHECK(c.report.opset == 13);
  CHECK(count(c.report.nodes, "CONV_2D") == 1);
  CHECK(count(c.report.nodes, "MUL") == 0);
  CHECK(count(c.report.nodes, "ADD") == 0);
  CHECK(count(c.report.nodes, "CLAMP") == 0);
  CHECK(count(c.report.folded, "BatchNormalization") == 1);
  CHECK(count(c.report.folded, "Relu into the previous node") == 1);
  CHECK(count(c.report.source_ops, "Conv") == 1);
  CHECK(c.report.tasks == std::vector<std::string>{"y"});

  const Tensor x = random_tensor({1, 3, 9, 8}, 1);
  const Tensor want =
      map(batch_norm(conv2d(x, w, bias, Conv{1, 1, 1, 1, 1, 1}), scale, shift, mean, var, 1e-3f),
          [](double v) { return std::max(v, 0.0); });
  check_close(run(c.phm, {{"x", x}}), "y", want);
}

TEST_CASE("onnx: grouped, depthwise, strided and dilated convolutions with a fused Clip",
          "[onnx]") {
  struct Case {
    const char* what;
    int64_t in_c, out_c, groups, k;
    Conv p;
  };
  const Case cases[] = {
      {"groups 2, stride 2, dilation 2, asymmetric pads", 4, 6, 2, 3, {2, 2, 0, 1, 2, 1, 2, 2, 2}},
      {"depthwise 3x3 stride 2", 6, 6, 6, 3, {2, 2, 1, 1, 1, 1, 1, 1, 6}},
      {"depthwise multiplier 2, 5x3 kernel", 3, 6, 3, 5, {1, 1, 2, 1, 2, 1, 1, 1, 3}},
      {"1x1 stride 1", 5, 7, 1, 1, {1, 1, 0, 0, 0, 0, 1, 1, 1}},
  };
  for (const Case& k : cases) {
    INFO(k.what);
    const int64_t kw = k.k == 5 ? 3 : k.k;
    OnnxModel m(13);
    m.input("x", {1, k.in_c, 11, 10});
    const Tensor w = random_tensor({k.out_c, k.in_c / k.groups, k.k, kw}, 21, -0.5f, 0.5f);
    const std::vector<float> bias = values(22, static_cast<size_t>(k.out_c), -0.2f, 0.2f);
    m.initializer("w", w.dims, w.v);
    m.initializer("b", {k.out_c}, bias);
    m.initializer("lo", {}, {-0.25f});
    m.initializer("hi", {}, {0.5f});
    auto* conv = m.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
    attr_ints(conv, "strides", {k.p.stride_h, k.p.stride_w});
    attr_ints(conv, "pads", {k.p.pad_t, k.p.pad_l, k.p.pad_b, k.p.pad_r});
    attr_ints(conv, "dilations", {k.p.dil_h, k.p.dil_w});
    attr_int(conv, "group", k.groups);
    m.node("Clip", {"c", "lo", "hi"}, {"y"}, "clip");
    m.output("y");
    const Converted c = convert_ok(m);
    CHECK(count(c.report.nodes, "CONV_2D") == 1);
    CHECK(count(c.report.nodes, "CLAMP") == 0);
    CHECK(count(c.report.folded, "Clip into the previous node") == 1);
    const Tensor x = random_tensor({1, k.in_c, 11, 10}, 2);
    const Tensor want =
        map(conv2d(x, w, bias, k.p), [](double v) { return std::clamp(v, -0.25, 0.5); });
    check_close(run(c.phm, {{"x", x}}), "y", want);
  }
}

TEST_CASE("onnx: a zero Pad before a Conv becomes the convolution's padding", "[onnx]") {
  for (float fill : {0.f, 0.5f}) {
    INFO("pad value " << fill);
    OnnxModel m(13);
    m.input("x", {1, 2, 6, 7});
    const Tensor w = random_tensor({3, 2, 3, 3}, 31, -0.5f, 0.5f);
    m.initializer("w", w.dims, w.v);
    // ONNX pads: [x1_begin, x2_begin, ..., x1_end, x2_end, ...] over N, C, H, W.
    m.initializer_i64("pads", {8}, {0, 0, 1, 2, 0, 0, 2, 1});
    m.initializer("value", {}, {fill});
    m.node("Pad", {"x", "pads", "value"}, {"xp"}, "pad");
    auto* conv = m.node("Conv", {"xp", "w"}, {"y"}, "conv");
    attr_ints(conv, "kernel_shape", {3, 3});
    m.output("y");
    const Converted c = convert_ok(m);
    CHECK(count(c.report.nodes, "CONV_2D") == 1);
    if (fill == 0.f) {
      CHECK(count(c.report.folded, "Pad into Conv") == 1);
      CHECK(count(c.report.nodes, "PAD") == 0);
    } else {
      CHECK(count(c.report.folded, "Pad into Conv") == 0);
      CHECK(count(c.report.nodes, "PAD") == 1);
    }
    const Tensor x = random_tensor({1, 2, 6, 7}, 3);
    check_close(run(c.phm, {{"x", x}}), "y", conv2d(pad_hw(x, 1, 2, 2, 1, fill), w, {}, Conv{}));
  }
}

TEST_CASE("onnx: Pad on its own, over channels and space", "[onnx]") {
  OnnxModel m(11);
  m.input("x", {1, 2, 3, 4});
  auto* p = m.node("Pad", {"x", "pads"}, {"y"}, "pad");
  m.initializer_i64("pads", {8}, {0, 1, 1, 0, 0, 2, 0, 3});
  (void)p;
  m.output("y");
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "PAD") == 1);
  const Tensor x = random_tensor({1, 2, 3, 4}, 4);
  Tensor want = zeros({1, 5, 4, 7});
  for (int64_t ch = 0; ch < 2; ++ch)
    for (int64_t yy = 0; yy < 3; ++yy)
      for (int64_t xx = 0; xx < 4; ++xx) want.at(0, ch + 1, yy + 1, xx) = x.at(0, ch, yy, xx);
  check_close(run(c.phm, {{"x", x}}), "y", want);
}

TEST_CASE("onnx: ConvTranspose with stride 2, pads and output_padding", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 5, 4});
  const Tensor w = random_tensor({3, 4, 3, 3}, 41, -0.5f, 0.5f);
  const std::vector<float> bias = values(42, 4, -0.2f, 0.2f);
  m.initializer("w", w.dims, w.v);
  m.initializer("b", {4}, bias);
  auto* ct = m.node("ConvTranspose", {"x", "w", "b"}, {"y"}, "deconv");
  attr_ints(ct, "strides", {2, 2});
  attr_ints(ct, "pads", {1, 1, 1, 1});
  attr_ints(ct, "output_padding", {1, 1});
  m.output("y");
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "TRANSPOSE_CONV_2D") == 1);
  const Tensor x = random_tensor({1, 3, 5, 4}, 5);
  const Tensor want = conv_transpose2d(x, w, bias, Conv{2, 2, 1, 1, 1, 1}, 1, 1);
  REQUIRE(want.dims == std::vector<int64_t>{1, 4, 10, 8});
  check_close(run(c.phm, {{"x", x}}), "y", want);
}

TEST_CASE("onnx: Resize nearest (asymmetric/floor, half_pixel) and bilinear (half_pixel)",
          "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 5, 4});
  m.initializer("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  m.initializer_i64("sizes", {4}, {1, 3, 10, 8});
  m.initializer_i64("sizes_odd", {4}, {1, 3, 7, 9});
  auto* a = m.node("Resize", {"x", "", "scales"}, {"nearest_floor"}, "nearest_floor");
  attr_string(a, "mode", "nearest");
  attr_string(a, "coordinate_transformation_mode", "asymmetric");
  attr_string(a, "nearest_mode", "floor");
  // Defaults: nearest, half_pixel, round_prefer_floor.
  m.node("Resize", {"x", "", "scales"}, {"nearest_default"}, "nearest_default");
  auto* l = m.node("Resize", {"x", "", "", "sizes"}, {"linear"}, "linear");
  attr_string(l, "mode", "linear");
  attr_string(l, "coordinate_transformation_mode", "half_pixel");
  auto* o = m.node("Resize", {"x", "", "", "sizes_odd"}, {"linear_odd"}, "linear_odd");
  attr_string(o, "mode", "linear");
  m.output("nearest_floor");
  m.output("nearest_default");
  m.output("linear");
  m.output("linear_odd");
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "RESIZE") == 4);
  const Tensor x = random_tensor({1, 3, 5, 4}, 6);
  const auto outs = run(c.phm, {{"x", x}});
  check_close(outs, "nearest_floor", resize_nearest(x, 10, 8, "asymmetric", "floor"));
  check_close(outs, "nearest_default",
              resize_nearest(x, 10, 8, "half_pixel", "round_prefer_floor"));
  check_close(outs, "linear", resize_bilinear_half_pixel(x, 10, 8));
  check_close(outs, "linear_odd", resize_bilinear_half_pixel(x, 7, 9));
}

TEST_CASE("onnx: nearest Resize that no Polyhead mode reproduces is refused by name", "[onnx]") {
  // 4 -> 6 with asymmetric/floor picks source pixels 0,0,1,2,2,3; Polyhead's rounding picks
  // 0,1,1,2,3,3 (asymmetric and half_pixel) or 0,1,1,2,2,3 (align_corners).
  OnnxModel m(13);
  m.input("x", {1, 2, 4, 4});
  m.initializer_i64("sizes", {4}, {1, 2, 6, 6});
  auto* r = m.node("Resize", {"x", "", "", "sizes"}, {"y"}, "odd_resize");
  attr_string(r, "mode", "nearest");
  attr_string(r, "coordinate_transformation_mode", "asymmetric");
  attr_string(r, "nearest_mode", "floor");
  m.output("y");
  const std::string msg = convert_error(m);
  INFO(msg);
  CHECK(contains(msg, "odd_resize"));
  CHECK(contains(msg, "asymmetric/floor"));
  CHECK(contains(msg, "[1,2,4,4] -> [1,2,6,6]"));
}

TEST_CASE("onnx: Resize scales giving sizes beyond any integer are refused by name", "[onnx]") {
  // Found by fuzz_onnx_import: floor(4 * 1e30) converted to int64_t is undefined behaviour.
  for (const float scale : {1e30f, -1e30f, std::nanf(""), INFINITY}) {
    INFO("scale " << scale);
    OnnxModel m(13);
    m.input("x", {1, 2, 4, 4});
    m.initializer("scales", {4}, {1.f, 1.f, scale, 2.f});
    auto* r = m.node("Resize", {"x", "", "scales"}, {"y"}, "huge_resize");
    attr_string(r, "mode", "nearest");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "huge_resize"));
    CHECK(contains(msg, "of dimension 2 of [1,2,4,4] gives an output size out of range"));
  }
}

TEST_CASE("onnx: Softmax axis handling at opsets 11 and 13", "[onnx]") {
  struct Case {
    int opset;
    std::vector<int64_t> dims;
    int64_t axis;  // 99: the attribute is absent
    size_t reference_axis;
  };
  const Case cases[] = {
      {13, {2, 5}, 99, 1},      {13, {1, 4, 3, 5}, 1, 1}, {13, {1, 4, 3, 5}, -1, 3},
      {13, {1, 4, 3, 5}, 3, 3}, {13, {2, 6, 1}, 1, 1},    {11, {3, 10}, 99, 1},
      {11, {1, 4, 1, 1}, 1, 1}, {13, {1, 6, 1, 1}, 1, 1},
  };
  for (const Case& k : cases) {
    INFO("opset " << k.opset << ", input " << dims_text(k.dims) << ", axis " << k.axis);
    OnnxModel m(k.opset);
    std::vector<polyhead::testing::OnnxDim> dims(k.dims.begin(), k.dims.end());
    m.input("x", dims);
    auto* s = m.node("Softmax", {"x"}, {"y"}, "softmax");
    if (k.axis != 99) attr_int(s, "axis", k.axis);
    m.output("y");
    const Converted c = convert_ok(m);
    CHECK(count(c.report.nodes, "SOFTMAX") == 1);
    const Tensor x = random_tensor(k.dims, 7, -3.f, 3.f);
    check_close(run(c.phm, {{"x", x}}), "y", softmax(x, k.reference_axis));
  }
  // What no Polyhead softmax computes: over the flattened dimensions (opset 11) or a middle axis.
  const Case refused[] = {{11, {1, 4, 3, 5}, 1, 0}, {13, {1, 4, 3, 5}, 2, 0}};
  for (const Case& k : refused) {
    INFO("opset " << k.opset << ", axis " << k.axis);
    OnnxModel m(k.opset);
    m.input("x", {1, 4, 3, 5});
    attr_int(m.node("Softmax", {"x"}, {"y"}, "the_softmax"), "axis", k.axis);
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "the_softmax"));
    CHECK(contains(msg, "[1,4,3,5]"));
  }
}

TEST_CASE("onnx: 4-D outputs are NCHW and Transpose/Reshape/Flatten see NCHW order", "[onnx]") {
  // The convolution runs NHWC inside; everything after it must still see ONNX's NCHW values.
  OnnxModel m(13);
  m.input("x", {1, 3, 6, 5});
  const Tensor w = random_tensor({4, 3, 1, 1}, 51);
  m.initializer("w", w.dims, w.v);
  m.initializer_i64("to_boxes", {3}, {1, -1, 2});
  m.initializer_i64("to_rows", {3}, {1, 4, 30});
  m.initializer_i64("axes", {1}, {0});
  m.node("Conv", {"x", "w"}, {"c"}, "conv");
  attr_ints(m.node("Transpose", {"c"}, {"t"}, "to_nhwc"), "perm", {0, 2, 3, 1});
  m.node("Reshape", {"t", "to_boxes"}, {"boxes"}, "boxes");
  m.node("Flatten", {"c"}, {"flat"}, "flatten");
  attr_ints(m.node("Transpose", {"c"}, {"swapped"}, "swap_hw"), "perm", {0, 1, 3, 2});
  m.node("Reshape", {"c", "to_rows"}, {"rows"}, "rows");
  m.node("Squeeze", {"rows", "axes"}, {"squeezed"}, "squeeze");
  m.node("Unsqueeze", {"squeezed", "axes"}, {"unsqueezed"}, "unsqueeze");
  // The input itself (plain NCHW), transposed and flattened.
  attr_ints(m.node("Transpose", {"x"}, {"x_t"}, "x_t"), "perm", {0, 3, 1, 2});
  for (const char* out : {"c", "boxes", "flat", "swapped", "rows", "unsqueezed", "x_t"})
    m.output(out);
  const Converted c = convert_ok(m);
  CHECK(count(c.report.folded, "Transpose to NHWC") == 1);

  const Tensor x = random_tensor({1, 3, 6, 5}, 8);
  const Tensor conv = conv2d(x, w, {}, Conv{});
  const auto outs = run(c.phm, {{"x", x}});
  check_close(outs, "c", conv);
  check_close(outs, "boxes", reshaped(transpose(conv, {0, 2, 3, 1}), {1, 60, 2}));
  check_close(outs, "flat", reshaped(conv, {1, 120}));
  check_close(outs, "swapped", transpose(conv, {0, 1, 3, 2}));
  check_close(outs, "rows", reshaped(conv, {1, 4, 30}));
  check_close(outs, "unsqueezed", reshaped(conv, {1, 4, 30}));
  check_close(outs, "x_t", transpose(x, {0, 3, 1, 2}));
}

TEST_CASE("onnx: shape sub-graphs fold into constants", "[onnx]") {
  // x.view(x.size(0), -1) as exporters write it without constant folding.
  OnnxModel m(13);
  m.input("x", {1, 3, 4, 4});
  m.initializer_i64("zero", {}, {0});
  m.initializer_i64("axes", {1}, {0});
  m.initializer_i64("minus_one", {1}, {-1});
  const Tensor w = random_tensor({2, 3, 1, 1}, 61);
  m.initializer("w", w.dims, w.v);
  m.node("Conv", {"x", "w"}, {"c"}, "conv");
  m.node("Shape", {"c"}, {"shape"}, "shape");
  attr_int(m.node("Gather", {"shape", "zero"}, {"batch"}, "gather"), "axis", 0);
  m.node("Unsqueeze", {"batch", "axes"}, {"batch1"}, "unsqueeze");
  attr_int(m.node("Concat", {"batch1", "minus_one"}, {"target"}, "concat"), "axis", 0);
  m.node("Reshape", {"c", "target"}, {"y"}, "reshape");
  m.output("y");
  const Converted c = convert_ok(m);
  CHECK(count(c.report.folded, "shape computations") >= 4);
  CHECK(count(c.report.nodes, "RESHAPE") + count(c.report.nodes, "TRANSPOSE") >= 1);
  CHECK(count(c.report.nodes, "CONCATENATION") == 0);
  const Tensor x = random_tensor({1, 3, 4, 4}, 9);
  check_close(run(c.phm, {{"x", x}}), "y", reshaped(conv2d(x, w, {}, Conv{}), {1, 32}));
}

// Found by the structural mutations under AddressSanitizer: a repeated Unsqueeze axis made the
// folded shape read past its input's dimensions.
TEST_CASE("onnx: Unsqueeze with a repeated axis is refused, naming the node", "[onnx]") {
  for (const bool as_shape : {true, false}) {
    INFO((as_shape ? "folded shape computation" : "on an activation"));
    OnnxModel m(13);
    m.input("x", {1, 3, 4, 4});
    m.initializer_i64("twice", {2}, {0, 0});
    if (as_shape) {
      m.node("Shape", {"x"}, {"shape"}, "shape");
      m.node("Unsqueeze", {"shape", "twice"}, {"y"}, "unsqueeze_twice");
    } else {
      m.node("Unsqueeze", {"x", "twice"}, {"y"}, "unsqueeze_twice");
    }
    m.output("y");
    const std::string msg = convert_error(m);
    CHECK_THAT(msg, Catch::Contains("unsqueeze_twice"));
    CHECK_THAT(msg, Catch::Contains("listed twice"));
  }
}

TEST_CASE("onnx: Gemm with transB, alpha and beta", "[onnx]") {
  struct Case {
    bool trans_b;
    float alpha, beta;
    size_t bias;  // 0: no C, 1: a scalar C, else one per output
  };
  for (const Case& k : {Case{true, 1.f, 1.f, 4}, Case{true, 0.5f, 2.f, 4},
                        Case{false, -1.5f, 0.25f, 1}, Case{false, 1.f, 1.f, 0}}) {
    INFO("transB " << k.trans_b << ", alpha " << k.alpha << ", beta " << k.beta << ", bias "
                   << k.bias);
    OnnxModel m(13);
    m.input("x", {2, 6});
    const Tensor w =
        random_tensor(k.trans_b ? std::vector<int64_t>{4, 6} : std::vector<int64_t>{6, 4}, 71);
    const std::vector<float> bias = values(72, k.bias, -1.f, 1.f);
    m.initializer("w", w.dims, w.v);
    std::vector<std::string> ins = {"x", "w"};
    if (k.bias) {
      m.initializer("c", {static_cast<int64_t>(k.bias)}, bias);
      ins.push_back("c");
    }
    auto* g = m.node("Gemm", ins, {"y"}, "fc");
    if (k.trans_b) attr_int(g, "transB", 1);
    attr_float(g, "alpha", k.alpha);
    attr_float(g, "beta", k.beta);
    m.output("y");
    const Converted c = convert_ok(m);
    CHECK(count(c.report.nodes, "FULLY_CONNECTED") == 1);
    const Tensor x = random_tensor({2, 6}, 10);
    check_close(run(c.phm, {{"x", x}}), "y", gemm(x, w, k.trans_b, k.alpha, k.beta, bias));
  }
}

TEST_CASE("onnx: MatMul + Add becomes one fully connected layer", "[onnx]") {
  OnnxModel m(13);
  m.input("x3", {1, 3, 6});
  m.input("x2", {2, 6});
  const Tensor w = random_tensor({6, 4}, 81);
  const std::vector<float> b = values(82, 4, -1.f, 1.f);
  m.initializer("w", w.dims, w.v);
  m.initializer("b", {4}, b);
  m.node("MatMul", {"x3", "w"}, {"p3"}, "matmul3");
  m.node("Add", {"p3", "b"}, {"y3"}, "add3");
  m.node("MatMul", {"x2", "w"}, {"p2"}, "matmul2");
  m.node("Add", {"b", "p2"}, {"y2"}, "add2");
  m.output("y3");
  m.output("y2");
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "FULLY_CONNECTED") == 2);
  CHECK(count(c.report.nodes, "ADD") == 0);
  CHECK(count(c.report.folded, "Add into MatMul") == 1);
  CHECK(count(c.report.folded, "Add by a constant") == 1);
  const Tensor x3 = random_tensor({1, 3, 6}, 11), x2 = random_tensor({2, 6}, 12);
  const auto outs = run(c.phm, {{"x3", x3}, {"x2", x2}});
  check_close(outs, "y3", reshaped(gemm(reshaped(x3, {3, 6}), w, false, 1.f, 1.f, b), {1, 3, 4}));
  check_close(outs, "y2", gemm(x2, w, false, 1.f, 1.f, b));
}

TEST_CASE("onnx: activations: HardSigmoid, HardSwish, PRelu, LeakyRelu, Sigmoid, Tanh, Clip",
          "[onnx]") {
  OnnxModel m(17);
  m.input("x", {1, 3, 4, 5});
  m.input("v", {2, 3});
  const std::vector<float> slope = {0.1f, -0.2f, 0.3f};
  m.initializer("slope", {3, 1, 1}, slope);
  m.initializer("slope1", {3}, slope);
  m.initializer("lo", {}, {-0.3f});
  auto* hs = m.node("HardSigmoid", {"x"}, {"hard_sigmoid"}, "hs");
  attr_float(hs, "alpha", 0.3f);
  attr_float(hs, "beta", 0.4f);
  m.node("HardSigmoid", {"x"}, {"hard_sigmoid_default"}, "hs_default");
  m.node("HardSwish", {"x"}, {"hard_swish"}, "hswish");
  m.node("PRelu", {"x", "slope"}, {"prelu"}, "prelu");
  m.node("PRelu", {"v", "slope1"}, {"prelu2d"}, "prelu2d");
  attr_float(m.node("LeakyRelu", {"x"}, {"leaky"}, "leaky"), "alpha", 0.15f);
  m.node("Sigmoid", {"x"}, {"sigmoid"}, "sigmoid");
  m.node("Tanh", {"x"}, {"tanh"}, "tanh");
  m.node("Clip", {"x", "lo"}, {"clip"}, "clip");
  m.node("Relu", {"v"}, {"relu"}, "relu");
  for (const char* o : {"hard_sigmoid", "hard_sigmoid_default", "hard_swish", "prelu", "prelu2d",
                        "leaky", "sigmoid", "tanh", "clip", "relu"})
    m.output(o);
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "PRELU") == 2);
  CHECK(count(c.report.nodes, "HARD_SWISH") == 1);
  const Tensor x = random_tensor({1, 3, 4, 5}, 13, -4.f, 4.f);
  const Tensor v = random_tensor({2, 3}, 14, -4.f, 4.f);
  const auto outs = run(c.phm, {{"x", x}, {"v", v}});
  check_close(outs, "hard_sigmoid",
              map(x, [](double t) { return std::clamp(0.3 * t + 0.4, 0.0, 1.0); }));
  check_close(outs, "hard_sigmoid_default",
              map(x, [](double t) { return std::clamp(0.2 * t + 0.5, 0.0, 1.0); }));
  check_close(outs, "hard_swish",
              map(x, [](double t) { return t * std::clamp(t / 6 + 0.5, 0.0, 1.0); }));
  Tensor prelu = x;
  for (size_t k = 0; k < prelu.size(); ++k)
    if (prelu.v[k] < 0) prelu.v[k] *= slope[k / 20];
  check_close(outs, "prelu", prelu);
  Tensor prelu2d = v;
  for (size_t k = 0; k < prelu2d.size(); ++k)
    if (prelu2d.v[k] < 0) prelu2d.v[k] *= slope[k % 3];
  check_close(outs, "prelu2d", prelu2d);
  check_close(outs, "leaky", map(x, [](double t) { return t < 0 ? 0.15 * t : t; }));
  check_close(outs, "sigmoid", map(x, [](double t) { return 1 / (1 + std::exp(-t)); }));
  check_close(outs, "tanh", map(x, [](double t) { return std::tanh(t); }));
  check_close(outs, "clip", map(x, [](double t) { return std::max(t, -0.3); }));
  check_close(outs, "relu", map(v, [](double t) { return std::max(t, 0.0); }));
}

TEST_CASE("onnx: Abs becomes ABS (format 1.3) and folds on constants", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 4, 5});
  m.input("v", {2, 3});
  m.initializer("k", {3, 1, 1}, {-0.5f, 2.f, -4.f});
  m.node("Abs", {"x"}, {"abs"}, "abs");
  m.node("Abs", {"v"}, {"abs2d"}, "abs2d");
  m.node("Abs", {"k"}, {"k_abs"}, "k_abs");  // a constant: computed at conversion
  m.node("Mul", {"abs", "k_abs"}, {"scaled"}, "scaled");
  for (const char* o : {"abs", "abs2d", "scaled"}) m.output(o);
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "ABS") == 2);
  auto model = polyhead::Model::from_bytes(c.phm);
  REQUIRE(model.is_ok());
  CHECK(model->format_version_minor() == 3);
  const Tensor x = random_tensor({1, 3, 4, 5}, 31, -3.f, 3.f);
  const Tensor v = random_tensor({2, 3}, 32, -3.f, 3.f);
  const auto outs = run(c.phm, {{"x", x}, {"v", v}});
  const Tensor abs_x = map(x, [](double t) { return std::fabs(t); });
  check_close(outs, "abs", abs_x);
  check_close(outs, "abs2d", map(v, [](double t) { return std::fabs(t); }));
  check_close(outs, "scaled",
              broadcast(abs_x, Tensor{{3, 1, 1}, {0.5f, 2.f, 4.f}},
                        [](double a, double b) { return a * b; }));

  OnnxModel bad(13);
  bad.input("x", {1, 3});
  attr_float(bad.node("Abs", {"x"}, {"y"}, "abs"), "alpha", 1.f);
  bad.output("y");
  auto r = convert(bad.bytes(), {});
  REQUIRE_FALSE(r.is_ok());
  INFO(r.status().message());
  CHECK(contains(r.status().message(), "abs"));
  CHECK(contains(r.status().message(), "alpha"));
}

TEST_CASE("onnx: x * Sigmoid(x) becomes one SILU node (format 1.4), other pairs do not",
          "[onnx][silu]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 4, 5});
  m.input("y", {1, 3, 4, 5});
  const Tensor w = random_tensor({4, 3, 1, 1}, 71);
  m.initializer("w", w.dims, w.v);
  // A SiLU after a convolution (EfficientNet's form), both operand orders.
  m.node("Conv", {"x", "w"}, {"c"}, "conv");
  m.node("Sigmoid", {"c"}, {"c_sig"}, "sig1");
  m.node("Mul", {"c", "c_sig"}, {"silu1"}, "silu1");
  m.node("Sigmoid", {"x"}, {"x_sig"}, "sig2");
  m.node("Mul", {"x_sig", "x"}, {"silu2"}, "silu2");
  // Not SiLU: a gate by another tensor, and a sigmoid that something else also reads.
  m.node("Sigmoid", {"y"}, {"y_sig"}, "sig3");
  m.node("Mul", {"x", "y_sig"}, {"gated"}, "gated");
  m.node("Sigmoid", {"y"}, {"y_sig2"}, "sig4");
  m.node("Mul", {"y", "y_sig2"}, {"silu_kept"}, "silu_kept");
  for (const char* o : {"silu1", "silu2", "gated", "silu_kept", "y_sig2"}) m.output(o);
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "SILU") == 2);
  CHECK(count(c.report.nodes, "SIGMOID") == 2);
  CHECK(count(c.report.nodes, "MUL") == 2);
  auto model = polyhead::Model::from_bytes(c.phm);
  REQUIRE(model.is_ok());
  CHECK(model->format_version_minor() == 4);
  const Tensor x = random_tensor({1, 3, 4, 5}, 72, -6.f, 6.f);
  const Tensor y = random_tensor({1, 3, 4, 5}, 73, -6.f, 6.f);
  const auto outs = run(c.phm, {{"x", x}, {"y", y}});
  auto silu = [](double t) { return t / (1.0 + std::exp(-t)); };
  auto sigmoid = [](double t) { return 1.0 / (1.0 + std::exp(-t)); };
  check_close(outs, "silu2", map(x, silu));
  check_close(outs, "gated",
              broadcast(x, map(y, sigmoid), [](double a, double b) { return a * b; }));
  check_close(outs, "silu_kept", map(y, silu));
  check_close(outs, "y_sig2", map(y, sigmoid));
  // silu1 = silu(conv(x)): the 1x1 convolution by hand.
  Tensor conv{{1, 4, 4, 5}, std::vector<float>(80)};
  for (int o = 0; o < 4; ++o)
    for (int p = 0; p < 20; ++p) {
      double acc = 0;
      for (int i = 0; i < 3; ++i)
        acc += double(w.v[static_cast<size_t>(o * 3 + i)]) * x.v[static_cast<size_t>(i * 20 + p)];
      conv.v[static_cast<size_t>(o * 20 + p)] = static_cast<float>(acc);
    }
  check_close(outs, "silu1", map(conv, silu));
}

TEST_CASE("onnx: Add, Sub, Mul, Div with broadcasting, activations and constants", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 4, 5});
  m.input("g", {1, 3, 1, 1});
  const std::vector<float> k = {0.5f, -2.f, 4.f};
  m.initializer("k", {3, 1, 1}, k);
  m.node("Add", {"x", "g"}, {"add"}, "add");
  m.node("Sub", {"k", "x"}, {"sub"}, "sub");
  m.node("Mul", {"x", "x"}, {"mul"}, "mul");
  m.node("Div", {"x", "k"}, {"div"}, "div");
  for (const char* o : {"add", "sub", "mul", "div"}) m.output(o);
  const Converted c = convert_ok(m);
  const Tensor x = random_tensor({1, 3, 4, 5}, 15), g = random_tensor({1, 3, 1, 1}, 16);
  const Tensor kt{{3, 1, 1}, k};
  const auto outs = run(c.phm, {{"x", x}, {"g", g}});
  check_close(outs, "add", broadcast(x, g, [](double a, double b) { return a + b; }));
  check_close(outs, "sub", broadcast(kt, x, [](double a, double b) { return a - b; }));
  check_close(outs, "mul", broadcast(x, x, [](double a, double b) { return a * b; }));
  check_close(outs, "div", broadcast(x, kt, [](double a, double b) { return a / b; }));
}

TEST_CASE("onnx: Concat on the channel axis of NHWC, NCHW and constant operands", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 2, 4, 5});
  m.input("y", {1, 3, 4, 5});
  const Tensor w = random_tensor({4, 2, 3, 3}, 91);
  const Tensor k = random_tensor({1, 1, 4, 5}, 92);
  m.initializer("w", w.dims, w.v);
  m.initializer("k", k.dims, k.v);
  attr_ints(m.node("Conv", {"x", "w"}, {"a"}, "conv"), "pads", {1, 1, 1, 1});
  attr_int(m.node("Concat", {"a", "y", "k"}, {"mixed"}, "mixed"), "axis", 1);
  attr_int(m.node("Concat", {"x", "y"}, {"inputs"}, "inputs"), "axis", -3);
  attr_int(m.node("Concat", {"a", "a"}, {"wide"}, "wide"), "axis", 3);
  for (const char* o : {"mixed", "inputs", "wide"}) m.output(o);
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "CONCATENATION") == 3);
  const Tensor x = random_tensor({1, 2, 4, 5}, 17), y = random_tensor({1, 3, 4, 5}, 18);
  const Tensor a = conv2d(x, w, {}, Conv{1, 1, 1, 1, 1, 1});
  auto cat = [](const std::vector<const Tensor*>& parts, size_t axis) {
    Tensor out;
    out.dims = parts[0]->dims;
    out.dims[axis] = 0;
    for (const Tensor* p : parts) out.dims[axis] += p->dims[axis];
    size_t outer = 1;
    for (size_t d = 0; d < axis; ++d) outer *= static_cast<size_t>(out.dims[d]);
    for (size_t o = 0; o < outer; ++o)
      for (const Tensor* p : parts) {
        const size_t block = p->size() / outer;
        out.v.insert(out.v.end(), p->v.begin() + static_cast<long>(o * block),
                     p->v.begin() + static_cast<long>((o + 1) * block));
      }
    return out;
  };
  const auto outs = run(c.phm, {{"x", x}, {"y", y}});
  check_close(outs, "mixed", cat({&a, &y, &k}, 1));
  check_close(outs, "inputs", cat({&x, &y}, 1));
  check_close(outs, "wide", cat({&a, &a}, 3));
}

TEST_CASE("onnx: Slice on activations: NHWC channels, any axis, steps, clamped bounds",
          "[onnx][slice]") {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  OnnxModel m(13);
  m.input("x", {1, 3, 7, 6});
  const Tensor w = random_tensor({8, 3, 1, 1}, 201);
  const Tensor w2 = random_tensor({4, 5, 1, 1}, 202);
  m.initializer("w", w.dims, w.v);
  m.initializer("w2", w2.dims, w2.v);
  // starts, ends, axes, steps of each slice (ONNX's defaults where a name is empty).
  struct SliceSpec {
    const char* name;
    const char* input;
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const SliceSpec specs[] = {
      {"channels", "c", {3}, {kMax}, {1}, {}},              // channels 3.. of the NHWC conv output
      {"negative", "c", {-3}, {-1}, {-3}, {}},              // channels 5..6, axis -3
      {"clamped", "c", {-100, 2}, {100, 200}, {2, 3}, {}},  // bounds past both ends clamp
      {"rows_step", "c", {1}, {7}, {2}, {2}},               // rows 1, 3, 5
      {"flip_w", "c", {-1}, {kMin}, {3}, {-1}},             // W reversed
      {"every", "c", {0, 6, 1}, {1, 0, 6}, {0, 1, 3}, {1, -3, 2}},  // channels 6, 3; columns 1,3,5
      {"input", "x", {1}, {3}, {1}, {}},  // a slice of the NCHW input itself
  };
  m.node("Conv", {"x", "w"}, {"c"}, "conv");
  for (const SliceSpec& sp : specs) {
    const std::string n = sp.name;
    m.initializer_i64(n + ".starts", {static_cast<int64_t>(sp.starts.size())}, sp.starts);
    m.initializer_i64(n + ".ends", {static_cast<int64_t>(sp.ends.size())}, sp.ends);
    m.initializer_i64(n + ".axes", {static_cast<int64_t>(sp.axes.size())}, sp.axes);
    std::vector<std::string> inputs = {sp.input, n + ".starts", n + ".ends", n + ".axes"};
    if (!sp.steps.empty()) {
      m.initializer_i64(n + ".steps", {static_cast<int64_t>(sp.steps.size())}, sp.steps);
      inputs.push_back(n + ".steps");
    }
    m.node("Slice", inputs, {n}, n);
  }
  // The channel slice feeds another convolution: both stay NHWC.
  m.node("Conv", {"channels", "w2"}, {"after"}, "conv2");
  for (const char* out : {"after", "negative", "clamped", "rows_step", "flip_w", "every", "input"})
    m.output(out);
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "SLICE") == 7);
  // The input's NHWC copy, and one back to NCHW per 4-D output except the input's own slice.
  CHECK(count(c.report.nodes, "TRANSPOSE") == 1 + 6);

  const Tensor x = random_tensor({1, 3, 7, 6}, 203);
  const Tensor conv = conv2d(x, w, {}, Conv{});
  const auto outs = run(c.phm, {{"x", x}});
  check_close(outs, "after", conv2d(slice_axis(conv, 1, 3, 5), w2, {}, Conv{}));
  check_close(outs, "negative", slice_axis(conv, 1, 5, 2));
  check_close(outs, "clamped", slice_axis(slice_axis(conv, 2, 0, 7), 3, 2, 4));
  check_close(outs, "rows_step", slice_axis(conv, 2, 1, 3, 2));
  check_close(outs, "flip_w", slice_axis(conv, 3, 5, 6, -1));
  check_close(outs, "every", slice_axis(slice_axis(conv, 1, 6, 2, -3), 3, 1, 3, 2));
  check_close(outs, "input", slice_axis(x, 1, 1, 2));
}

TEST_CASE("onnx: Slice on a 3-D activation and a Slice that takes everything", "[onnx][slice]") {
  OnnxModel m(13);
  m.input("x", {2, 5, 6});
  m.initializer_i64("s", {2}, {1, -4});
  m.initializer_i64("e", {2}, {2, 100});
  m.initializer_i64("ax", {2}, {0, 2});
  m.initializer_i64("all_s", {1}, {0});
  m.initializer_i64("all_e", {1}, {std::numeric_limits<int64_t>::max()});
  m.node("Slice", {"x", "s", "e", "ax"}, {"y"}, "part");
  m.node("Slice", {"x", "all_s", "all_e"}, {"same"}, "everything");
  m.node("Relu", {"same"}, {"z"}, "relu");
  m.output("y");
  m.output("z");
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "SLICE") == 1);  // the whole-tensor slice is no node
  const Tensor x = random_tensor({2, 5, 6}, 204);
  const auto outs = run(c.phm, {{"x", x}});
  check_close(outs, "y", slice_axis(slice_axis(x, 0, 1, 1), 2, 2, 4));
  check_close(outs, "z", map(x, [](double v) { return std::max(v, 0.0); }));
  // SLICE needs format 1.5; a model whose only Slice takes everything keeps 1.2.
  auto model = polyhead::Model::from_bytes(c.phm);
  REQUIRE(model.is_ok());
  CHECK(model->format_version_minor() == 5);
  OnnxModel whole(13);
  whole.input("x", {2, 5, 6});
  whole.initializer_i64("all_s", {1}, {0});
  whole.initializer_i64("all_e", {1}, {std::numeric_limits<int64_t>::max()});
  whole.node("Slice", {"x", "all_s", "all_e"}, {"same"}, "everything");
  whole.node("Relu", {"same"}, {"z"}, "relu");
  whole.output("z");
  auto plain = polyhead::Model::from_bytes(convert_ok(whole).phm);
  REQUIRE(plain.is_ok());
  CHECK(plain->format_version_minor() == 2);
}

TEST_CASE("onnx: Split (opset 11 attribute, 13 input, equal parts) and Concat of the halves",
          "[onnx][split]") {
  for (int opset : {11, 13, 17}) {
    for (bool explicit_sizes : {true, false}) {
      INFO("opset " << opset << (explicit_sizes ? ", explicit sizes" : ", equal parts"));
      OnnxModel m(opset);
      m.input("x", {1, 3, 5, 4});
      const Tensor w = random_tensor({6, 3, 1, 1}, 211);
      m.initializer("w", w.dims, w.v);
      m.node("Conv", {"x", "w"}, {"c"}, "conv");
      // Channels [0,2) [2,6) (explicit) or [0,3) [3,6), and a 3-way split of H the last part of
      // which nobody reads.
      std::vector<std::string> split_inputs = {"c"};
      if (explicit_sizes && opset >= 13) {
        m.initializer_i64("sizes", {2}, {2, 4});
        split_inputs.push_back("sizes");
      }
      auto* ch = m.node("Split", split_inputs, {"lo", "hi"}, "split_channels");
      attr_int(ch, "axis", 1);
      if (explicit_sizes && opset < 13) attr_ints(ch, "split", {2, 4});
      std::vector<std::string> h_inputs = {"c"};
      if (opset >= 13) {
        m.initializer_i64("h_sizes", {3}, {1, 3, 1});
        h_inputs.push_back("h_sizes");
      }
      auto* hs = m.node("Split", h_inputs, {"top", "middle", "bottom"}, "split_rows");
      attr_int(hs, "axis", -2);
      if (opset < 13) attr_ints(hs, "split", {1, 3, 1});
      // ShuffleNet's pattern: the halves concatenated back in the other order.
      attr_int(m.node("Concat", {"hi", "lo"}, {"swapped"}, "concat"), "axis", 1);
      m.output("swapped");
      m.output("top");
      m.output("middle");
      const Converted c = convert_ok(m);
      CHECK(count(c.report.nodes, "SLICE") == 4);  // "bottom" is not computed
      CHECK(count(c.report.nodes, "CONCATENATION") == 1);
      // NHWC throughout: the input's copy and one per 4-D output.
      CHECK(count(c.report.nodes, "TRANSPOSE") == 1 + 3);
      const Tensor x = random_tensor({1, 3, 5, 4}, 212);
      const Tensor conv = conv2d(x, w, {}, Conv{});
      const int64_t first = explicit_sizes ? 2 : 3;
      const Tensor lo = slice_axis(conv, 1, 0, first), hi = slice_axis(conv, 1, first, 6 - first);
      const auto outs = run(c.phm, {{"x", x}});
      check_close(outs, "swapped", concat_axis({&hi, &lo}, 1));
      check_close(outs, "top", slice_axis(conv, 2, 0, 1));
      check_close(outs, "middle", slice_axis(conv, 2, 1, 3));
    }
  }
}

TEST_CASE("onnx: Gather with constant indices on activations", "[onnx][gather]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 5, 4});
  const Tensor w = random_tensor({6, 3, 1, 1}, 221);
  const Tensor fc = random_tensor({120, 8}, 222);  // Gemm B [K, N]: the flattened conv to 8
  m.initializer("w", w.dims, w.v);
  m.initializer("fc", fc.dims, fc.v);
  m.node("Conv", {"x", "w"}, {"c"}, "conv");
  m.node("Flatten", {"c"}, {"flat_c"}, "flatten");
  m.node("Gemm", {"flat_c", "fc"}, {"flat"}, "fc");
  struct GatherSpec {
    const char* name;
    const char* input;
    int64_t axis;
    std::vector<int64_t> dims, indices;
  };
  const GatherSpec specs[] = {
      {"channel", "c", 1, {}, {4}},               // a scalar index removes the axis: [1,5,4]
      {"row", "c", 2, {}, {-1}},                  // the last row: [1,6,4]
      {"evens", "c", 1, {3}, {0, 2, 4}},          // one run, step 2
      {"mixed", "c", -3, {5}, {5, 4, 0, 1, -3}},  // runs 5,4 / 0,1 / 3
      {"logits", "flat", 1, {2}, {7, 2}},         // columns of a 2-D activation
  };
  for (const GatherSpec& g : specs) {
    const std::string n = g.name;
    m.initializer_i64(n + ".indices", g.dims, g.indices);
    attr_int(m.node("Gather", {g.input, n + ".indices"}, {n}, n), "axis", g.axis);
    m.output(n);
  }
  const Converted c = convert_ok(m);
  // channel, row: one slice each (and a reshape); evens: one; mixed: three and a concatenation;
  // logits: one (7 then 2 is a run of step -5).
  CHECK(count(c.report.nodes, "SLICE") == 1 + 1 + 1 + 3 + 1);
  CHECK(count(c.report.nodes, "CONCATENATION") == 1);

  const Tensor x = random_tensor({1, 3, 5, 4}, 224);
  const Tensor conv = conv2d(x, w, {}, Conv{});
  Tensor flat = zeros({1, 8});
  for (size_t o = 0; o < 8; ++o) {
    double acc = 0;
    for (size_t k = 0; k < 120; ++k) acc += static_cast<double>(conv.v[k]) * fc.v[k * 8 + o];
    flat.v[o] = static_cast<float>(acc);
  }
  const auto outs = run(c.phm, {{"x", x}});
  check_close(outs, "channel", reshaped(slice_axis(conv, 1, 4, 1), {1, 5, 4}));
  check_close(outs, "row", reshaped(slice_axis(conv, 2, 4, 1), {1, 6, 4}));
  check_close(outs, "evens", slice_axis(conv, 1, 0, 3, 2));
  const Tensor a = slice_axis(conv, 1, 5, 2, -1), b = slice_axis(conv, 1, 0, 2),
               d = slice_axis(conv, 1, 3, 1);
  check_close(outs, "mixed", concat_axis({&a, &b, &d}, 1));
  const Tensor l7 = slice_axis(flat, 1, 7, 1), l2 = slice_axis(flat, 1, 2, 1);
  check_close(outs, "logits", concat_axis({&l7, &l2}, 1));
}

TEST_CASE("onnx: Reshape -> Transpose -> Reshape (channel shuffle) becomes one CHANNEL_SHUFFLE",
          "[onnx][shuffle]") {
  auto build = [](bool from_conv, bool shared_middle) {
    OnnxModel m(13);
    m.input("x", {1, 6, 3, 4});
    const Tensor w = random_tensor({6, 6, 1, 1}, 231);
    m.initializer("w", w.dims, w.v);
    m.initializer_i64("to5", {5}, {1, 3, 2, 3, 4});  // 3 groups of 2 channels
    m.initializer_i64("to4", {4}, {1, -1, 3, 4});
    // Without the first convolution the input has no NHWC copy yet when the Reshape reads it.
    if (from_conv) m.node("Conv", {"x", "w"}, {"c"}, "conv");
    m.node("Reshape", {from_conv ? "c" : "x", "to5"}, {"grouped"}, "reshape");
    attr_ints(m.node("Transpose", {"grouped"}, {"swapped"}, "transpose"), "perm", {0, 2, 1, 3, 4});
    m.node("Reshape", {"swapped", "to4"}, {"shuffled"}, "reshape_back");
    m.node("Conv", {"shuffled", "w"}, {"y"}, "conv2");
    m.output("y");
    if (shared_middle) m.output("swapped");
    return m;
  };
  // ONNX semantics: output channel j * groups + g is input channel g * (C / groups) + j.
  auto shuffle = [](const Tensor& t, int64_t groups) {
    const int64_t per = t.dims[1] / groups;
    Tensor out = t;
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t j = 0; j < per; ++j)
        for (int64_t yy = 0; yy < t.dims[2]; ++yy)
          for (int64_t xx = 0; xx < t.dims[3]; ++xx)
            out.at(0, j * groups + g, yy, xx) = t.at(0, g * per + j, yy, xx);
    return out;
  };
  const Tensor w = random_tensor({6, 6, 1, 1}, 231);
  const Tensor x = random_tensor({1, 6, 3, 4}, 232);
  SECTION("after a convolution (NHWC): one node, no transposes") {
    const Converted c = convert_ok(build(true, false));
    CHECK(count(c.report.nodes, "CHANNEL_SHUFFLE") == 1);
    CHECK(count(c.report.nodes, "TRANSPOSE") == 2);  // the input's and the output's
    CHECK(count(c.report.nodes, "RESHAPE") == 0);
    CHECK(count(c.report.folded, "Reshape, Transpose and Reshape into a channel shuffle") == 1);
    check_close(run(c.phm, {{"x", x}}), "y",
                conv2d(shuffle(conv2d(x, w, {}, Conv{}), 3), w, {}, Conv{}));
  }
  SECTION("of the NCHW input: the general path, same numbers") {
    const Converted c = convert_ok(build(false, false));
    CHECK(count(c.report.nodes, "CHANNEL_SHUFFLE") == 0);
    check_close(run(c.phm, {{"x", x}}), "y", conv2d(shuffle(x, 3), w, {}, Conv{}));
  }
  SECTION("the 5-D value is read elsewhere: no fusion") {
    const Converted c = convert_ok(build(true, true));
    CHECK(count(c.report.nodes, "CHANNEL_SHUFFLE") == 0);
    check_close(run(c.phm, {{"x", x}}), "y",
                conv2d(shuffle(conv2d(x, w, {}, Conv{}), 3), w, {}, Conv{}));
  }
}

TEST_CASE("onnx: Slice, Split and Gather errors name the node and the value", "[onnx][slice]") {
  auto base = [] {
    OnnxModel m(13);
    m.input("x", {1, 4, 3, 3});
    return m;
  };
  {
    OnnxModel m = base();
    m.initializer_i64("i", {}, {5});
    attr_int(m.node("Gather", {"x", "i"}, {"y"}, "pick"), "axis", 1);
    m.output("y");
    polyhead::ErrorCode code{};
    const std::string msg = convert_error(m, {}, &code);
    INFO(msg);
    CHECK(code == polyhead::ErrorCode::kInvalidModel);
    CHECK(contains(msg, "node 'pick' (Gather)"));
    CHECK(contains(msg, "index 5 is out of range for axis 1 of size 4"));
  }
  {
    OnnxModel m = base();
    m.initializer_i64("i", {2}, {0, -5});
    m.node("Gather", {"x", "i"}, {"y"}, "pick_list");
    attr_int(m.graph().mutable_node(0), "axis", 1);
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "node 'pick_list' (Gather)"));
    CHECK(contains(msg, "index -5 is out of range for axis 1 of size 4"));
  }
  {
    OnnxModel m = base();
    m.initializer_i64("i", {2, 2}, {0, 1, 2, 3});
    attr_int(m.node("Gather", {"x", "i"}, {"y"}, "pick_2d"), "axis", 1);
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "node 'pick_2d' (Gather)"));
    CHECK(contains(msg, "indices of shape [2,2]"));
  }
  {
    // Starts computed at run time.
    OnnxModel m = base();
    m.input("s", {1});
    m.initializer_i64("e", {1}, {2});
    m.node("Slice", {"x", "s", "e"}, {"y"}, "dyn_slice");
    m.output("y");
    polyhead::ErrorCode code{};
    const std::string msg = convert_error(m, {}, &code);
    INFO(msg);
    CHECK(code == polyhead::ErrorCode::kUnsupported);
    CHECK(contains(msg, "node 'dyn_slice' (Slice)"));
    CHECK(contains(msg, "its starts 's' must be a constant"));
  }
  {
    OnnxModel m = base();
    m.initializer_i64("s", {1}, {0});
    m.initializer_i64("e", {1}, {2});
    m.initializer_i64("a", {1}, {1});
    m.initializer_i64("st", {1}, {0});
    m.node("Slice", {"x", "s", "e", "a", "st"}, {"y"}, "zero_step");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "node 'zero_step' (Slice)"));
    CHECK(contains(msg, "slice step 0 on axis 1"));
  }
  {
    OnnxModel m = base();
    m.initializer_i64("s", {1}, {3});
    m.initializer_i64("e", {1}, {1});
    m.initializer_i64("a", {1}, {2});
    m.node("Slice", {"x", "s", "e", "a"}, {"y"}, "empty_slice");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "node 'empty_slice' (Slice)"));
    CHECK(contains(msg, "empty along axis 2"));
  }
  {
    OnnxModel m = base();
    m.initializer_i64("s", {1}, {0});
    m.initializer_i64("e", {1}, {2});
    m.initializer_i64("a", {1}, {4});
    m.node("Slice", {"x", "s", "e", "a"}, {"y"}, "bad_axis");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "node 'bad_axis' (Slice)"));
    CHECK(contains(msg, "axis 4 is out of range for rank 4"));
  }
  {
    OnnxModel m = base();
    m.initializer_i64("sizes", {2}, {1, 2});
    attr_int(m.node("Split", {"x", "sizes"}, {"a", "b"}, "bad_split"), "axis", 1);
    m.output("a");
    m.output("b");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "node 'bad_split' (Split)"));
    CHECK(contains(msg, "split [1,2] sums to 3, not the dimension's 4"));
  }
  {
    OnnxModel m = base();
    attr_int(m.node("Split", {"x"}, {"a", "b", "c"}, "uneven"), "axis", 1);
    m.output("a");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "node 'uneven' (Split)"));
    CHECK(contains(msg, "a dimension of 4 does not split into 3 equal parts"));
  }
}

TEST_CASE("onnx: ReduceMean over H and W with keepdims 0 and 1, GlobalAveragePool", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 3, 4, 5});
  auto* keep = m.node("ReduceMean", {"x"}, {"keep"}, "keep");
  attr_ints(keep, "axes", {2, 3});
  attr_int(keep, "keepdims", 1);
  auto* drop = m.node("ReduceMean", {"x"}, {"drop"}, "drop");
  attr_ints(drop, "axes", {-1, -2});
  attr_int(drop, "keepdims", 0);
  attr_ints(m.node("ReduceMean", {"x"}, {"deflt"}, "deflt"), "axes", {3, 2});
  m.node("GlobalAveragePool", {"x"}, {"gap"}, "gap");
  for (const char* o : {"keep", "drop", "deflt", "gap"}) m.output(o);
  const Converted c = convert_ok(m);
  CHECK(count(c.report.nodes, "MEAN") == 4);
  const Tensor x = random_tensor({1, 3, 4, 5}, 19);
  const Tensor mean = mean_hw(x);
  const auto outs = run(c.phm, {{"x", x}});
  check_close(outs, "keep", mean);
  check_close(outs, "drop", reshaped(mean, {1, 3}));
  check_close(outs, "deflt", mean);
  check_close(outs, "gap", mean);

  OnnxModel bad(13);
  bad.input("x", {1, 3, 4, 5});
  attr_ints(bad.node("ReduceMean", {"x"}, {"y"}, "channel_mean"), "axes", {1});
  bad.output("y");
  const std::string msg = convert_error(bad);
  INFO(msg);
  CHECK(contains(msg, "channel_mean"));
  CHECK(contains(msg, "axes [1]"));
}

TEST_CASE("onnx: MaxPool and AveragePool with pads, count_include_pad and ceil_mode", "[onnx]") {
  struct Case {
    const char* name;
    bool average;
    int k, s, pad;
    bool include_pad, ceil_mode;
  };
  const Case cases[] = {
      {"max_3s2p1", false, 3, 2, 1, false, false}, {"max_2s2", false, 2, 2, 0, false, false},
      {"max_ceil", false, 2, 2, 0, false, true},   {"avg_2s2", true, 2, 2, 0, false, false},
      {"avg_excl", true, 3, 1, 1, false, false},   {"avg_incl", true, 3, 1, 1, true, false},
      {"avg_ceil", true, 3, 3, 0, false, true},
  };
  OnnxModel m(13);
  m.input("x", {1, 3, 7, 7});
  for (const Case& k : cases) {
    auto* p = m.node(k.average ? "AveragePool" : "MaxPool", {"x"}, {k.name}, k.name);
    attr_ints(p, "kernel_shape", {k.k, k.k});
    attr_ints(p, "strides", {k.s, k.s});
    if (k.pad) attr_ints(p, "pads", {k.pad, k.pad, k.pad, k.pad});
    if (k.include_pad) attr_int(p, "count_include_pad", 1);
    if (k.ceil_mode) attr_int(p, "ceil_mode", 1);
    m.output(k.name);
  }
  const Converted c = convert_ok(m);
  const Tensor x = random_tensor({1, 3, 7, 7}, 20);
  const auto outs = run(c.phm, {{"x", x}});
  for (const Case& k : cases)
    check_close(outs, k.name,
                pool2d(x, k.average, k.k, k.k, k.s, k.s, k.pad, k.pad, k.pad, k.pad, k.include_pad,
                       k.ceil_mode));
}

TEST_CASE("onnx: Identity, Dropout and Constant nodes fold away", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 4});
  auto* k = m.node("Constant", {}, {"k"}, "k");
  polyhead::testing::attr_tensor(k, "value", {4}, {1.f, 2.f, 3.f, 4.f});
  m.node("Identity", {"x"}, {"i"}, "identity");
  m.node("Dropout", {"i"}, {"d"}, "dropout");
  m.node("Mul", {"d", "k"}, {"y"}, "mul");
  m.output("y");
  const Converted c = convert_ok(m);
  CHECK(count(c.report.folded, "Identity") == 1);
  CHECK(count(c.report.folded, "Dropout") == 1);
  CHECK(count(c.report.folded, "Constant") == 1);
  const Tensor x = random_tensor({1, 4}, 21);
  Tensor want = x;
  for (size_t i = 0; i < 4; ++i) want.v[i] *= static_cast<float>(i + 1);
  check_close(run(c.phm, {{"x", x}}), "y", want);
}

TEST_CASE("onnx: tasks, kinds and the model's metadata", "[onnx]") {
  OnnxModel m = small_model();
  m.proto().set_doc_string("a small test model");
  ConvertOptions o;
  o.tasks = {{"seg", {"prob"}, polyhead::TaskKind::kSegmentation},
             {"cls", {"logits"}, polyhead::TaskKind::kClassification}};
  const Converted c = convert_ok(m, o);
  CHECK(c.report.tasks == std::vector<std::string>{"seg", "cls"});
  auto model = polyhead::Model::from_bytes(c.phm);
  REQUIRE(model.is_ok());
  REQUIRE(model->tasks().size() == 2);
  CHECK(model->tasks()[0].name == "seg");
  CHECK(model->tasks()[0].kind == polyhead::TaskKind::kSegmentation);
  CHECK(model->tasks()[1].kind == polyhead::TaskKind::kClassification);
  REQUIRE(model->tasks()[0].outputs.size() == 1);
  CHECK(model->tasks()[0].outputs[0].shape == polyhead::Shape{1, 5, 8, 8});
  CHECK(model->tasks()[1].outputs[0].shape == polyhead::Shape{1, 2});
  CHECK(model->metadata("source_format") == "onnx");
  CHECK(model->metadata("onnx_opset") == "13");
  CHECK(model->description() == "a small test model");
  REQUIRE(model->inputs().size() == 1);
  // Two channels: not an image, no colour order.
  CHECK(model->inputs()[0].preprocess.color == polyhead::ColorOrder::kNone);

  // Three channels: an NCHW RGB image of the input's size, with the overrides given.
  OnnxModel rgb(13);
  rgb.input("image", {1, 3, 6, 5});
  rgb.node("Relu", {"image"}, {"y"}, "relu");
  rgb.output("y");
  ConvertOptions pre;
  pre.preprocess.mean = {127.5f};
  pre.preprocess.std = {127.5f};
  pre.preprocess.color = polyhead::ColorOrder::kBgr;
  auto image_model = polyhead::Model::from_bytes(convert_ok(rgb, pre).phm);
  REQUIRE(image_model.is_ok());
  const polyhead::Preprocess& p = image_model->inputs()[0].preprocess;
  CHECK(p.layout == polyhead::Layout::kNchw);
  CHECK(p.color == polyhead::ColorOrder::kBgr);
  CHECK(p.height == 6);
  CHECK(p.width == 5);
  REQUIRE_FALSE(p.mean.empty());
  for (float v : p.mean) CHECK(v == 127.5f);
  pre.preprocess.std = {0.f};
  CHECK(contains(convert_error(rgb, pre), "std"));

  o.tasks = {{"seg", {"nope"}, polyhead::TaskKind::kOther}};
  polyhead::ErrorCode code{};
  const std::string msg = convert_error(m, o, &code);
  INFO(msg);
  CHECK(code == polyhead::ErrorCode::kNotFound);
  CHECK(contains(msg, "'nope'"));
  CHECK(contains(msg, "prob"));
}

// ---- errors ----------------------------------------------------------------------------------

TEST_CASE("onnx: unsupported operators are listed with counts and first nodes", "[onnx]") {
  OnnxModel m(13);
  m.input("x", {1, 2, 4, 4});
  m.node("Erf", {"x"}, {"e1"}, "a");
  m.node("Erf", {"e1"}, {"e2"}, "b");
  m.node("Cos", {"e2"}, {"e3"}, "c");
  auto* custom = m.node("FusedThing", {"e3"}, {"e4"}, "f");
  custom->set_domain("com.example");
  m.node("Relu", {"e4"}, {"y"}, "relu");
  m.output("y");
  polyhead::ErrorCode code{};
  const std::string msg = convert_error(m, {}, &code);
  INFO(msg);
  CHECK(code == polyhead::ErrorCode::kUnsupported);
  CHECK(msg ==
        "unsupported operators: Erf x2 (first: 'a'), Cos x1 (first: 'c'), "
        "com.example.FusedThing x1 (first: 'f')");

  // A fold-only operator on a runtime value names the node. (Gather, which this test used
  // before, now runs on activations: see the Gather tests.)
  OnnxModel g(13);
  g.input("x", {1, 4});
  g.initializer("zero", {1}, {0.f});
  g.node("Equal", {"x", "zero"}, {"y"}, "runtime_equal");
  g.output("y");
  const std::string gmsg = convert_error(g);
  INFO(gmsg);
  CHECK(contains(gmsg, "'runtime_equal' (Equal)"));
  CHECK(contains(gmsg, "constant inputs"));
}

TEST_CASE("onnx: unsupported attributes and shapes name the node and the value", "[onnx]") {
  {
    OnnxModel m(13);
    m.input("x", {1, 2, 4, 4});
    m.initializer_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
    attr_string(m.node("Pad", {"x", "pads"}, {"y"}, "reflect_pad"), "mode", "reflect");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "'reflect_pad' (Pad)"));
    CHECK(contains(msg, "mode = reflect"));
  }
  {
    OnnxModel m(13);
    m.input("x", {1, 2, 8});
    m.initializer("w", {3, 2, 3}, values(1, 18, -1.f, 1.f));
    m.node("Conv", {"x", "w"}, {"y"}, "conv1d");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "'conv1d' (Conv)"));
    CHECK(contains(msg, "2-D"));
  }
  {
    OnnxModel m(13);
    m.input("x", {1, 2, 4, 4});
    m.initializer("w", {3, 2, 1, 1}, values(1, 6, -1.f, 1.f));
    attr_string(m.node("Conv", {"x", "w"}, {"y"}, "odd_conv"), "frobnicate", "yes");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "'odd_conv' (Conv)"));
    CHECK(contains(msg, "'frobnicate'"));
  }
  {
    // Weights computed at run time.
    OnnxModel m(13);
    m.input("x", {1, 2, 4, 4});
    m.input("w", {3, 2, 1, 1});
    m.node("Conv", {"x", "w"}, {"y"}, "dynamic_conv");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "'dynamic_conv' (Conv)"));
    CHECK(contains(msg, "'w' must be a constant"));
  }
  {
    OnnxModel m(13);
    m.input("x", {1, 2, 4, 4});
    m.initializer("w", {3, 2, 1, 1}, values(1, 6, -1.f, 1.f));
    m.node("Conv", {"x", "w"}, {"c"}, "conv");
    m.node("Relu", {"c"}, {"y"}, "relu");
    // An output nothing computes at run time.
    m.output("w");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "'w'"));
  }
}

TEST_CASE("onnx: opsets outside 11..17 are refused with the supported range", "[onnx]") {
  for (int opset : {10, 18, 1, 9999}) {
    INFO("opset " << opset);
    OnnxModel m(opset);
    m.input("x", {1, 4});
    m.node("Relu", {"x"}, {"y"}, "relu");
    m.output("y");
    polyhead::ErrorCode code{};
    const std::string msg = convert_error(m, {}, &code);
    INFO(msg);
    CHECK(code == polyhead::ErrorCode::kUnsupported);
    CHECK(contains(msg, "opset " + std::to_string(opset) + " is not supported"));
    CHECK(contains(msg, "11 to 17"));
  }
  for (int opset : {11, 17}) {
    OnnxModel m(opset);
    m.input("x", {1, 4});
    m.node("Relu", {"x"}, {"y"}, "relu");
    m.output("y");
    CHECK(convert_ok(m).report.opset == opset);
  }
  // Only a custom domain: no default opset at all.
  OnnxModel m(13);
  m.proto().mutable_opset_import(0)->set_domain("com.example");
  m.input("x", {1, 4});
  m.node("Relu", {"x"}, {"y"}, "relu");
  m.output("y");
  CHECK(contains(convert_error(m), "imports no opset of the default domain"));
}

TEST_CASE("onnx: a symbolic input dimension needs --input-shape", "[onnx]") {
  OnnxModel m(13);
  m.input("images", {"batch", 3, "height", 8});
  const Tensor w = random_tensor({2, 3, 3, 3}, 101);
  m.initializer("w", w.dims, w.v);
  attr_ints(m.node("Conv", {"images", "w"}, {"y"}, "conv"), "pads", {1, 1, 1, 1});
  m.output("y");

  polyhead::ErrorCode code{};
  std::string msg = convert_error(m, {}, &code);
  INFO(msg);
  CHECK(code == polyhead::ErrorCode::kUnsupported);
  CHECK(contains(msg, "input 'images'"));
  CHECK(contains(msg, "'batch'"));
  CHECK(contains(msg, "--input-shape images="));

  ConvertOptions o;
  o.input_shapes["images"] = {1, 3, 6, 8};
  const Converted c = convert_ok(m, o);
  const Tensor x = random_tensor({1, 3, 6, 8}, 22);
  check_close(run(c.phm, {{"images", x}}), "y", conv2d(x, w, {}, Conv{1, 1, 1, 1, 1, 1}));

  o.input_shapes["w"] = {2, 3, 3, 3};  // an initializer, not an input
  msg = convert_error(m, o, &code);
  CHECK(code == polyhead::ErrorCode::kNotFound);
  CHECK(contains(msg, "--input-shape names 'w'"));
  o.input_shapes.erase("w");
  o.input_shapes["nope"] = {1};
  msg = convert_error(m, o, &code);
  CHECK(code == polyhead::ErrorCode::kNotFound);
  CHECK(contains(msg, "'nope'"));
  o.input_shapes.erase("nope");
  o.input_shapes["images"] = {1, 3, 0, 8};
  msg = convert_error(m, o);
  CHECK(contains(msg, "input 'images'"));
  CHECK(contains(msg, "[1,3,0,8]"));
}

TEST_CASE("onnx: bad files: empty, garbage, external data, wrong sizes, unsorted graphs",
          "[onnx]") {
  polyhead::ErrorCode code{};
  {
    auto r = convert({}, {});
    REQUIRE_FALSE(r.is_ok());
    CHECK(contains(r.status().message(), "empty"));
  }
  {
    const std::vector<uint8_t> garbage = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03};
    auto r = convert(garbage, {});
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == polyhead::ErrorCode::kInvalidModel);
    CHECK(contains(r.status().message(), "not a valid ONNX model"));
    const std::string text = "hello, this is a text file and not a model\n";
    r = convert(std::vector<uint8_t>(text.begin(), text.end()), {});
    REQUIRE_FALSE(r.is_ok());
    CHECK_FALSE(r.status().message().empty());
  }
  {
    // A .phm is no .onnx.
    const Converted c = convert_ok(small_model());
    auto r = convert(c.phm, {});
    REQUIRE_FALSE(r.is_ok());
    CHECK_FALSE(r.status().message().empty());
  }
  {
    OnnxModel m = small_model();
    for (auto& init : *m.graph().mutable_initializer()) {
      if (init.name() != "w") continue;
      init.clear_float_data();
      init.set_data_location(onnx::TensorProto::EXTERNAL);
      auto* e = init.add_external_data();
      e->set_key("location");
      e->set_value("weights.bin");
    }
    const std::string msg = convert_error(m, {}, &code);
    INFO(msg);
    CHECK(code == polyhead::ErrorCode::kUnsupported);
    CHECK(contains(msg, "initializer 'w'"));
    CHECK(contains(msg, "external"));
  }
  {
    OnnxModel m = small_model();
    for (auto& init : *m.graph().mutable_initializer())
      if (init.name() == "w") init.mutable_float_data()->Truncate(10);
    const std::string msg = convert_error(m, {}, &code);
    INFO(msg);
    CHECK(code == polyhead::ErrorCode::kInvalidModel);
    CHECK(contains(msg, "initializer 'w'"));
    CHECK(contains(msg, "[3,2,3,3] (54 values) but holds 10"));
  }
  {
    OnnxModel m = small_model();
    for (auto& init : *m.graph().mutable_initializer())
      if (init.name() == "b") {
        init.clear_float_data();
        init.set_raw_data(std::string(13, '\0'));  // 3 floats are 12 bytes
      }
    const std::string msg = convert_error(m, {}, &code);
    INFO(msg);
    CHECK(contains(msg, "initializer 'b'"));
    CHECK(contains(msg, "declares [3]"));
  }
  {
    OnnxModel m = small_model();
    for (auto& init : *m.graph().mutable_initializer())
      if (init.name() == "w") init.set_dims(0, -3);
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "initializer 'w'"));
    CHECK(contains(msg, "negative"));
  }
  {
    OnnxModel m = small_model();
    for (auto& init : *m.graph().mutable_initializer())
      if (init.name() == "w") {
        init.set_dims(0, int64_t{1} << 40);
        init.set_dims(1, int64_t{1} << 40);
      }
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "initializer 'w'"));
    CHECK(contains(msg, "too large"));
  }
  {
    OnnxModel m = small_model();
    for (auto& init : *m.graph().mutable_initializer())
      if (init.name() == "w") init.set_data_type(onnx::TensorProto::STRING);
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "initializer 'w'"));
    CHECK(contains(msg, "data type"));
  }
  {
    // The Relu comes before the Conv that produces its input.
    OnnxModel m(13);
    m.input("x", {1, 2, 4, 4});
    m.initializer("w", {3, 2, 1, 1}, values(1, 6, -1.f, 1.f));
    m.node("Sigmoid", {"c"}, {"y"}, "early");
    m.node("Conv", {"x", "w"}, {"c"}, "conv");
    m.output("y");
    const std::string msg = convert_error(m, {}, &code);
    INFO(msg);
    CHECK(code == polyhead::ErrorCode::kInvalidModel);
    CHECK(contains(msg, "'early'"));
    CHECK(contains(msg, "value 'c' is used before any node produces it"));
  }
  {
    OnnxModel m(13);
    m.input("x", {1, 4});
    m.node("Relu", {"missing"}, {"y"}, "relu");
    m.output("y");
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "'missing'"));
  }
  {
    OnnxModel m(13);
    m.input("x", {1, 4});
    m.output("x");
    CHECK(contains(convert_error(m), "no graph"));
  }
  {
    OnnxModel m(13);
    m.input("x", {1, 4});
    m.node("Relu", {"x"}, {"y"}, "relu");
    m.output("y");
    m.graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::INT64);
    const std::string msg = convert_error(m);
    INFO(msg);
    CHECK(contains(msg, "input 'x'"));
    CHECK(contains(msg, "float32"));
  }
}

TEST_CASE("onnx: error messages name unnamed nodes by their op and output", "[onnx]") {
  // Exporters often leave node names empty; messages must still say which node.
  OnnxModel m(13);
  m.input("x", {1, 2, 4, 4});
  m.initializer_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
  attr_string(m.node("Pad", {"x", "pads"}, {"padded"}), "mode", "edge");
  m.output("padded");
  std::string msg = convert_error(m);
  INFO(msg);
  CHECK(contains(msg, "node 'Pad:padded' (Pad)"));

  OnnxModel u(13);
  u.input("x", {1, 4});
  u.node("Erf", {"x"}, {"erf_out"});
  u.output("erf_out");
  msg = convert_error(u);
  INFO(msg);
  CHECK(msg == "unsupported operators: Erf x1 (first: 'Erf:erf_out')");
}

// ---- hostile files ---------------------------------------------------------------------------

namespace {

// Converts `bytes`; on success the model must load, prepare and run on zeros.
void convert_and_maybe_run(const std::vector<uint8_t>& bytes, int* ok, int* failed) {
  ConvertReport report;
  std::optional<polyhead::Result<std::vector<uint8_t>>> converted;
  try {
    converted.emplace(convert(bytes, {}, &report));
  } catch (const std::exception& e) {
    // libprotobuf's range checks throw: convert() promises a Status, never an exception.
    ++*failed;
    FAIL_CHECK("the importer threw: " << e.what());
    return;
  }
  const auto& r = *converted;
  if (!r.is_ok()) {
    ++*failed;
    CHECK_FALSE(r.status().message().empty());
    return;
  }
  ++*ok;
  auto model = polyhead::Model::from_bytes(*r);
  REQUIRE(model.is_ok());
  // A mutated Resize scale can ask for a valid but huge image: that would test the machine's
  // memory, not the importer's robustness, so such models are converted and loaded, not run.
  uint64_t elements = 0;
  for (const auto* t : *polyhead::schema::GetModel(r->data())->tensors()) {
    uint64_t n = 1;
    for (int d : *t->shape()) n *= static_cast<uint64_t>(d);
    elements += n;
  }
  if (elements > (uint64_t{1} << 22)) return;
  auto engine = polyhead::Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  if (!plan.is_ok()) return;  // a Status, not a crash, is all we ask of odd shapes here
  for (const polyhead::InputInfo& in : model->inputs()) {
    const std::vector<float> zero(static_cast<size_t>(in.shape.elements()), 0.f);
    REQUIRE(plan->set_input(in.name, zero.data(), zero.size()).is_ok());
  }
  CHECK(plan->run().is_ok());
}

}  // namespace

TEST_CASE("onnx: every truncated prefix of a model is an error or a model, never a crash",
          "[onnx][fuzz]") {
  const std::vector<uint8_t> bytes = small_model().bytes();
  REQUIRE(bytes.size() > 100);
  int ok = 0, failed = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix of " << n << " bytes out of " << bytes.size());
    convert_and_maybe_run(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(n)),
                          &ok, &failed);
  }
  INFO("converted " << ok << ", rejected " << failed);
  CHECK(failed > 0);
  CHECK(ok + failed == static_cast<int>(bytes.size()));
  // The whole file converts.
  convert_and_maybe_run(bytes, &ok, &failed);
  CHECK(ok >= 1);
}

TEST_CASE("onnx: seeded random mutations are errors or models, never crashes", "[onnx][fuzz]") {
  const std::vector<uint8_t> bytes = small_model().bytes();
  std::mt19937 rng(20240611);
  int ok = 0, failed = 0;
  const int iterations = 3000;
  for (int iter = 0; iter < iterations; ++iter) {
    std::vector<uint8_t> m = bytes;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % m.size();
      switch (rng() % 6) {
        case 0:  // flip a bit
        case 1:
          m[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 2:  // any byte
          m[pos] = static_cast<uint8_t>(rng());
          break;
        case 3:  // a small value (field numbers, lengths, dimensions, enum values)
          m[pos] = static_cast<uint8_t>(rng() % 16);
          break;
        case 4:  // drop a byte
          m.erase(m.begin() + static_cast<long>(pos));
          break;
        default:  // insert a byte
          m.insert(m.begin() + static_cast<long>(pos), static_cast<uint8_t>(rng()));
          break;
      }
      if (m.empty()) m.push_back(0);
    }
    INFO("iteration " << iter);
    convert_and_maybe_run(m, &ok, &failed);
  }
  INFO("converted " << ok << ", rejected " << failed);
  CHECK(ok + failed == iterations);
  CHECK(ok > 0);
  CHECK(failed > 0);
}

TEST_CASE("onnx: nodes without inputs are errors, never crashes", "[onnx]") {
  // Every operator the importer maps or folds, given no input at all.
  const char* const ops[] = {"Conv",
                             "ConvTranspose",
                             "Gemm",
                             "MatMul",
                             "Add",
                             "Sub",
                             "Mul",
                             "Div",
                             "Relu",
                             "Clip",
                             "LeakyRelu",
                             "PRelu",
                             "Sigmoid",
                             "Tanh",
                             "HardSigmoid",
                             "HardSwish",
                             "Softmax",
                             "MaxPool",
                             "AveragePool",
                             "GlobalAveragePool",
                             "ReduceMean",
                             "Pad",
                             "Concat",
                             "Reshape",
                             "Flatten",
                             "Transpose",
                             "Resize",
                             "Identity",
                             "Dropout",
                             "BatchNormalization",
                             "Squeeze",
                             "Unsqueeze",
                             "Shape",
                             "Cast",
                             "Gather",
                             "Slice",
                             "Split",
                             "ConstantOfShape",
                             "Equal",
                             "Where",
                             "Neg",
                             "Sqrt"};
  for (const char* op : ops) {
    INFO(op);
    OnnxModel m(13);
    m.input("x", {1, 2, 4, 4});
    m.node(op, {}, {"y"}, "no_inputs");
    m.node("Relu", {"x"}, {"z"}, "relu");
    m.output("z");
    m.output("y");
    std::optional<polyhead::Result<std::vector<uint8_t>>> r;
    try {
      r.emplace(convert(m.bytes(), {}));
    } catch (const std::exception& e) {
      FAIL_CHECK("the importer threw: " << e.what());
      continue;
    }
    INFO((r->is_ok() ? std::string("converted") : r->status().message()));
    CHECK_FALSE(r->is_ok());
  }
}

TEST_CASE("onnx: seeded structural mutations of the graph are errors or models, never crashes",
          "[onnx][fuzz]") {
  // Byte mutations mostly break the protobuf framing; these edit the parsed graph instead, so every
  // case reaches the converter: inputs dropped, renamed or added, operators swapped, attributes
  // and dimensions set to edge values, data types changed, nodes reordered.
  const OnnxModel base = small_model();
  std::vector<std::string> names = {""};
  for (const auto& n : base.proto().graph().node())
    for (const auto& o : n.output()) names.push_back(o);
  for (const auto& t : base.proto().graph().initializer()) names.push_back(t.name());
  names.push_back("x");
  const char* const ops[] = {"Conv",
                             "ConvTranspose",
                             "Gemm",
                             "MatMul",
                             "Add",
                             "Sub",
                             "Mul",
                             "Div",
                             "Relu",
                             "Clip",
                             "LeakyRelu",
                             "PRelu",
                             "Sigmoid",
                             "Tanh",
                             "HardSigmoid",
                             "HardSwish",
                             "Softmax",
                             "MaxPool",
                             "AveragePool",
                             "GlobalAveragePool",
                             "ReduceMean",
                             "Pad",
                             "Concat",
                             "Reshape",
                             "Flatten",
                             "Transpose",
                             "Resize",
                             "Upsample",
                             "Identity",
                             "Dropout",
                             "Constant",
                             "BatchNormalization",
                             "Squeeze",
                             "Unsqueeze",
                             "Shape",
                             "Cast",
                             "Gather",
                             "Slice",
                             "Split",
                             "ConstantOfShape",
                             "Equal",
                             "Where",
                             "Neg",
                             "Sqrt",
                             "Erf"};
  const int64_t ints[] = {-3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 100, 1 << 20, INT64_MAX, INT64_MIN};
  const float floats[] = {0.f, -1.f, 0.5f, 2.f, 3.f, 1e30f, -1e30f, 65536.f, NAN, INFINITY};
  const char* const strings[] = {"",           "nearest",       "linear", "cubic", "asymmetric",
                                 "half_pixel", "align_corners", "floor",  "ceil",  "reflect",
                                 "SAME_UPPER", "SAME_LOWER",    "VALID"};
  std::mt19937 rng(4242);
  auto pick = [&](size_t n) { return static_cast<int>(rng() % n); };
  int ok = 0, failed = 0;
  const int iterations = 3000;
  for (int iter = 0; iter < iterations; ++iter) {
    onnx::ModelProto m = base.proto();
    onnx::GraphProto& g = *m.mutable_graph();
    const int edits = 1 + pick(3);
    for (int e = 0; e < edits; ++e) {
      onnx::NodeProto& node = *g.mutable_node(pick(static_cast<size_t>(g.node_size())));
      switch (pick(10)) {
        case 0:  // drop an input
          if (node.input_size() > 0)
            node.mutable_input()->DeleteSubrange(pick(node.input_size()), 1);
          break;
        case 1:  // another value as input
          if (node.input_size() > 0)
            *node.mutable_input(pick(node.input_size())) =
                names[static_cast<size_t>(pick(names.size()))];
          break;
        case 2:  // another operator
          node.set_op_type(ops[pick(std::size(ops))]);
          break;
        case 3: {  // an edge value for an attribute
          if (node.attribute_size() == 0) break;
          onnx::AttributeProto& a = *node.mutable_attribute(pick(node.attribute_size()));
          if (a.type() == onnx::AttributeProto::INT) a.set_i(ints[pick(std::size(ints))]);
          if (a.type() == onnx::AttributeProto::FLOAT) a.set_f(floats[pick(std::size(floats))]);
          if (a.type() == onnx::AttributeProto::STRING) a.set_s(strings[pick(std::size(strings))]);
          if (a.type() == onnx::AttributeProto::INTS) {
            a.clear_ints();
            for (int k = pick(6); k > 0; --k) a.add_ints(ints[pick(std::size(ints))]);
          }
          break;
        }
        case 4:  // an attribute dropped, or one of another type added
          if (node.attribute_size() > 0 && rng() % 2) {
            node.mutable_attribute()->DeleteSubrange(pick(node.attribute_size()), 1);
          } else {
            const char* attr[] = {"axis", "axes", "perm", "pads", "kernel_shape", "mode", "to"};
            if (rng() % 2)
              attr_int(&node, attr[pick(std::size(attr))], ints[pick(std::size(ints))]);
            else
              attr_ints(&node, attr[pick(std::size(attr))], {ints[pick(std::size(ints))], 2});
          }
          break;
        case 5: {  // an initializer's dimension
          onnx::TensorProto& t =
              *g.mutable_initializer(pick(static_cast<size_t>(g.initializer_size())));
          if (t.dims_size() > 0)
            t.set_dims(pick(t.dims_size()), ints[pick(std::size(ints))]);
          else
            t.add_dims(ints[pick(std::size(ints))]);
          break;
        }
        case 6: {  // an initializer's type or data
          onnx::TensorProto& t =
              *g.mutable_initializer(pick(static_cast<size_t>(g.initializer_size())));
          if (rng() % 2) {
            t.set_data_type(pick(17));
          } else if (t.float_data_size() > 0) {
            t.set_float_data(pick(t.float_data_size()), floats[pick(std::size(floats))]);
          } else if (t.int64_data_size() > 0) {
            t.set_int64_data(pick(t.int64_data_size()), ints[pick(std::size(ints))]);
          }
          break;
        }
        case 7: {  // the graph input's shape
          auto* shape = g.mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
          auto* d = shape->mutable_dim(pick(static_cast<size_t>(shape->dim_size())));
          if (rng() % 4 == 0)
            d->set_dim_param("n");
          else
            d->set_dim_value(std::clamp<int64_t>(ints[pick(std::size(ints))], -1, 9));
          break;
        }
        case 8:  // two nodes swapped
          g.mutable_node()->SwapElements(pick(static_cast<size_t>(g.node_size())),
                                         pick(static_cast<size_t>(g.node_size())));
          break;
        default:  // an extra input or output
          if (rng() % 2)
            node.add_input(names[static_cast<size_t>(pick(names.size()))]);
          else
            node.add_output(names[static_cast<size_t>(pick(names.size()))]);
          break;
      }
    }
    std::string bytes;
    REQUIRE(m.SerializeToString(&bytes));
    INFO("iteration " << iter);
    convert_and_maybe_run(std::vector<uint8_t>(bytes.begin(), bytes.end()), &ok, &failed);
  }
  INFO("converted " << ok << ", rejected " << failed);
  CHECK(ok + failed == iterations);
  CHECK(ok > 0);
  CHECK(failed > 0);
}
