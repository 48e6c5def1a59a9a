// TRANSPOSE_CONV_2D in int8 (kernels/src/own_int8_transpose_conv.cc, docs/int8.md) against an
// independent integer reference that scatters every input pixel's taps (the kernel gathers them):
// accumulators in int32, then the GEMM's requantization nearbyint(clamp(float(acc) * m)) with
// m = in_scale * weight_scale / out_scale in float32, so the comparison is bit for bit. A double
// version of the same result checks that float32 requantization stays within half an LSB plus
// rounding noise of the real value.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"

using namespace polyhead;

namespace {

struct Case {
  const char* label;
  Shape input;  // NHWC
  int out_channels, kh, kw;
  TransposeConv2DParams p;
  bool bias;
  bool per_channel;
};

TransposeConv2DParams params(int sh, int sw, std::array<int, 4> tlbr, std::array<int, 2> adj,
                             Activation act = {}) {
  TransposeConv2DParams p;
  p.stride_h = sh, p.stride_w = sw;
  p.pad_top = tlbr[0], p.pad_left = tlbr[1], p.pad_bottom = tlbr[2], p.pad_right = tlbr[3];
  p.adjustment_h = adj[0], p.adjustment_w = adj[1];
  p.activation = act;
  return p;
}

std::vector<int8_t> random_s8(size_t n, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

// Everything the model and the reference share.
struct Data {
  Shape out_shape;
  float in_scale = 0.05f;
  int32_t in_zero = -7;
  float out_scale = 0.f;
  int32_t out_zero = 5;
  std::vector<int8_t> x, w;
  std::vector<float> w_scale;
  std::vector<int32_t> bias;
  int32_t lo = -128, hi = 127;
};

int64_t out_size(int64_t in, int64_t k, int stride, int adj, int pad_a, int pad_b) {
  return stride * (in - 1) + k + adj - pad_a - pad_b;
}

// The int32 accumulators of the reference, by scattering: input (iy, ix) tap (ky, kx) adds to
// output (iy * sh + ky - pad_top, ix * sw + kx - pad_left) when that lies inside.
std::vector<int32_t> scatter_accumulators(const Case& c, const Data& d) {
  const Shape& x = c.input;
  const Shape& y = d.out_shape;
  std::vector<int32_t> acc(static_cast<size_t>(y.elements()), 0);
  for (int64_t n = 0; n < x[0]; ++n)
    for (int64_t i = 0; i < y[1] * y[2]; ++i)
      for (int64_t o = 0; o < y[3]; ++o)
        acc[static_cast<size_t>((n * y[1] * y[2] + i) * y[3] + o)] =
            d.bias.empty() ? 0 : d.bias[static_cast<size_t>(o)];
  for (int64_t n = 0; n < x[0]; ++n)
    for (int64_t iy = 0; iy < x[1]; ++iy)
      for (int64_t ix = 0; ix < x[2]; ++ix)
        for (int64_t ky = 0; ky < c.kh; ++ky)
          for (int64_t kx = 0; kx < c.kw; ++kx) {
            const int64_t oy = iy * c.p.stride_h + ky - c.p.pad_top;
            const int64_t ox = ix * c.p.stride_w + kx - c.p.pad_left;
            if (oy < 0 || oy >= y[1] || ox < 0 || ox >= y[2]) continue;
            for (int64_t o = 0; o < y[3]; ++o) {
              int32_t sum = 0;
              for (int64_t ch = 0; ch < x[3]; ++ch) {
                const int32_t xv =
                    d.x[static_cast<size_t>(((n * x[1] + iy) * x[2] + ix) * x[3] + ch)] - d.in_zero;
                const int32_t wv =
                    d.w[static_cast<size_t>(((o * c.kh + ky) * c.kw + kx) * x[3] + ch)];
                sum += xv * wv;
              }
              acc[static_cast<size_t>(((n * y[1] + oy) * y[2] + ox) * y[3] + o)] += sum;
            }
          }
  return acc;
}

Data make_data(const Case& c, uint32_t seed) {
  Data d;
  const auto oh =
      out_size(c.input[1], c.kh, c.p.stride_h, c.p.adjustment_h, c.p.pad_top, c.p.pad_bottom);
  const auto ow =
      out_size(c.input[2], c.kw, c.p.stride_w, c.p.adjustment_w, c.p.pad_left, c.p.pad_right);
  d.out_shape = Shape{c.input[0], oh, ow, c.out_channels};
  d.x = random_s8(static_cast<size_t>(c.input.elements()), seed);
  const int64_t k = c.kh * c.kw * c.input[3];
  d.w = random_s8(static_cast<size_t>(c.out_channels * k), seed + 1, -127, 127);
  for (int o = 0; o < c.out_channels; ++o)
    d.w_scale.push_back(c.per_channel ? 0.002f * static_cast<float>(o + 1) : 0.003f);
  if (c.bias) {
    std::mt19937 rng(seed + 2);
    std::uniform_int_distribution<int32_t> b(-20000, 20000);
    for (int o = 0; o < c.out_channels; ++o) d.bias.push_back(b(rng));
  }
  // An output scale that covers most results and saturates a few at both ends.
  const std::vector<int32_t> acc = scatter_accumulators(c, d);
  double range = 1e-6;
  for (size_t i = 0; i < acc.size(); ++i)
    range = std::max(range, std::fabs(acc[i] * static_cast<double>(d.in_scale) *
                                      d.w_scale[i % d.w_scale.size()]));
  d.out_scale = static_cast<float>(range / 110.0);
  const Activation& a = c.p.activation;
  d.lo = std::max<int32_t>(-128,
                           static_cast<int32_t>(std::nearbyint(a.min / d.out_scale)) + d.out_zero);
  d.hi = std::min<int32_t>(127,
                           static_cast<int32_t>(std::nearbyint(a.max / d.out_scale)) + d.out_zero);
  if (std::isinf(a.min)) d.lo = -128;
  if (std::isinf(a.max)) d.hi = 127;
  return d;
}

// The reference bytes (float32 requantization, as docs/int8.md defines it for the GEMM), and the
// double value of each before rounding.
std::vector<int8_t> reference(const Case& c, const Data& d, std::vector<double>* real) {
  const std::vector<int32_t> acc = scatter_accumulators(c, d);
  std::vector<int8_t> r(acc.size());
  real->resize(acc.size());
  const auto lo = static_cast<float>(d.lo - d.out_zero);
  const auto hi = static_cast<float>(d.hi - d.out_zero);
  for (size_t i = 0; i < acc.size(); ++i) {
    const size_t o = i % static_cast<size_t>(c.out_channels);
    const float m = d.in_scale * d.w_scale[o] / d.out_scale;
    const float v = std::min(std::max(static_cast<float>(acc[i]) * m, lo), hi);
    r[i] = static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(v)) + d.out_zero);
    (*real)[i] = acc[i] * (static_cast<double>(d.in_scale) * d.w_scale[o] / d.out_scale);
  }
  return r;
}

// F32 input -> QUANTIZE -> TRANSPOSE_CONV_2D (int8) -> I8 task output "t"/"y".
std::unique_ptr<ModelBuilder> build(const Case& c, const Data& d, bool float_bias = false,
                                    int weight_zero = 0, int axis = 0,
                                    float bias_scale_factor = 1.f) {
  auto owned = std::make_unique<ModelBuilder>();
  ModelBuilder& b = *owned;
  const int f = b.add_input("x", c.input);
  const int x = *b.quantize("x_q", f, Quantization::per_tensor(d.in_scale, d.in_zero));
  Quantization wq;
  if (c.per_channel) {
    wq = {d.w_scale, std::vector<int32_t>(d.w_scale.size(), weight_zero), axis};
  } else {
    wq = Quantization::per_tensor(d.w_scale[0], weight_zero);
  }
  const Shape ws{c.out_channels, c.kh, c.kw, c.input[3]};
  const int w = b.add_constant_i8("w", ws, d.w, wq);
  int bias = -1;
  if (!d.bias.empty()) {
    if (float_bias) {
      bias = b.add_constant("b", Shape{c.out_channels},
                            std::vector<float>(static_cast<size_t>(c.out_channels), 0.5f));
    } else {
      Quantization bq;
      for (float s : d.w_scale) bq.scale.push_back(d.in_scale * s * bias_scale_factor);
      bq.zero_point.assign(d.w_scale.size(), 0);
      bq.axis = 0;
      bias = b.add_constant_i32("b", Shape{c.out_channels}, d.bias, bq);
    }
  }
  const auto y = b.transpose_conv2d("deconv", x, w, bias, c.p);
  REQUIRE(y.is_ok());
  REQUIRE(b.set_quantization(*y, Quantization::per_tensor(d.out_scale, d.out_zero)).is_ok());
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", *y}}).is_ok());
  return owned;
}

std::vector<float> dequantized_input(const Data& d) {
  std::vector<float> f(d.x.size());
  for (size_t i = 0; i < f.size(); ++i) f[i] = d.in_scale * static_cast<float>(d.x[i] - d.in_zero);
  return f;
}

std::vector<int8_t> run(const Case& c, const Data& d, size_t threads) {
  const auto bytes = build(c, d)->finish();
  REQUIRE(bytes.is_ok());
  const auto model = Model::from_bytes(*bytes);
  INFO(model.status().message());
  REQUIRE(model.is_ok());
  EngineOptions eo;
  eo.threads = threads;
  auto engine = Engine::create(*model, eo);
  INFO(engine.status().message());
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO(plan.status().message());
  REQUIRE(plan.is_ok());
  const std::vector<float> in = dequantized_input(d);
  REQUIRE(plan->set_input("x", in.data(), in.size()).is_ok());
  const Status s = plan->run();
  INFO(s.message());
  REQUIRE(s.is_ok());
  const TensorView out = *plan->output("t", "y");
  REQUIRE(out.type == ElementType::kI8);
  std::vector<int8_t> r(static_cast<size_t>(out.shape.elements()));
  std::memcpy(r.data(), out.data, r.size());
  return r;
}

Status prepare_status(const ModelBuilder& b) {
  const auto bytes = b.finish();
  if (!bytes.is_ok()) return bytes.status();
  const auto model = Model::from_bytes(*bytes);
  if (!model.is_ok()) return model.status();
  auto engine = Engine::create(*model);
  if (!engine.is_ok()) return engine.status();
  return engine->prepare().status();
}

// clang-format off
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"2x2 stride 2, 16 -> 1 (selfie's decoder)", Shape{1, 9, 7, 16}, 1, 2, 2, params(2, 2, {0, 0, 0, 0}, {0, 0}), true, true},
      {"3x3 stride 3 tiles the output, 5 -> 2 (a partial channel group)", Shape{1, 6, 7, 5}, 2, 3, 3, params(3, 3, {0, 0, 0, 0}, {0, 0}), true, true},
      {"2x2 stride 2 tiles the output, 16 -> 4, batch 2, relu6", Shape{2, 5, 19, 16}, 4, 2, 2, params(2, 2, {0, 0, 0, 0}, {0, 0}, Activation::relu6()), true, true},
      {"4x4 stride 2 pad 1, 8 -> 8, batch 2", Shape{2, 5, 4, 8}, 8, 4, 4, params(2, 2, {1, 1, 1, 1}, {0, 0}), true, true},
      {"3x3 stride 2, pad 1, adjustment 1, relu", Shape{1, 4, 5, 3}, 5, 3, 3, params(2, 2, {1, 1, 1, 1}, {1, 1}, Activation::relu()), true, true},
      {"3x3 stride 1, asymmetric pad, clamp [-0.5, 0.5]", Shape{1, 5, 4, 5}, 3, 3, 3, params(1, 1, {0, 1, 2, 0}, {0, 0}, {-0.5f, 0.5f}), true, true},
      {"4x3 stride 2x3, adjustment 1x2, relu6, per tensor", Shape{1, 3, 4, 2}, 4, 4, 3, params(2, 3, {1, 0, 1, 1}, {1, 2}, Activation::relu6()), true, false},
      {"1x1 stride 2, adjustment 1, no bias (empty output pixels)", Shape{1, 3, 3, 3}, 2, 1, 1, params(2, 2, {0, 0, 0, 0}, {1, 1}), false, true},
      {"odd channels 17 -> 3, 5x5 stride 3, no bias", Shape{1, 3, 2, 17}, 3, 5, 5, params(3, 3, {2, 1, 0, 2}, {0, 1}), false, true},
  };
  return c;
}
// clang-format on

}  // namespace

TEST_CASE("int8 TRANSPOSE_CONV_2D matches the integer reference bit for bit", "[int8][deconv]") {
  for (size_t i = 0; i < cases().size(); ++i) {
    const Case& c = cases()[i];
    INFO(c.label);
    const Data d = make_data(c, 100 + static_cast<uint32_t>(i) * 7);
    std::vector<double> real;
    const std::vector<int8_t> want = reference(c, d, &real);
    const std::vector<int8_t> got = run(c, d, 1);
    REQUIRE(got.size() == want.size());
    size_t wrong = 0, first = got.size(), saturated = 0;
    for (size_t k = 0; k < got.size(); ++k) {
      if (got[k] != want[k] && first == got.size()) first = k;
      wrong += got[k] != want[k];
      saturated += want[k] == d.lo || want[k] == d.hi;
      // float32 requantization agrees with the real value within half an LSB (plus float noise).
      const double r =
          std::min(std::max(real[k], double(d.lo - d.out_zero)), double(d.hi - d.out_zero));
      CHECK(std::fabs(want[k] - d.out_zero - r) <= 0.5 + 1e-3);
    }
    INFO("first difference at " << first);
    CHECK(wrong == 0);
    CHECK(saturated < got.size());  // the output scale leaves most values inside
  }
}

TEST_CASE("int8 TRANSPOSE_CONV_2D gives the same bytes on 1 and 3 threads", "[int8][deconv]") {
  const Case c = {"4x4 stride 2 pad 1, 16 -> 4",
                  Shape{1, 16, 13, 16},
                  4,
                  4,
                  4,
                  params(2, 2, {1, 1, 1, 1}, {0, 0}),
                  true,
                  true};
  const Data d = make_data(c, 7);
  CHECK(run(c, d, 1) == run(c, d, 3));
}

TEST_CASE("int8 TRANSPOSE_CONV_2D refuses operands outside docs/int8.md's conventions",
          "[int8][deconv]") {
  // 8 -> 8 channels: per-channel scales along axis 3 have the right count, so the file is valid
  // and the kernel is the one to refuse them.
  const Case c = {"4x4 stride 2 pad 1, 8 -> 8",
                  Shape{1, 5, 4, 8},
                  8,
                  4,
                  4,
                  params(2, 2, {1, 1, 1, 1}, {0, 0}),
                  true,
                  true};
  const Data d = make_data(c, 3);
  auto rejected = [](const std::unique_ptr<ModelBuilder>& b, const std::string& what) {
    const Status s = prepare_status(*b);
    INFO(s.message());
    CHECK_FALSE(s.is_ok());
    CHECK(s.message().find("deconv") != std::string::npos);
    CHECK(s.message().find(what) != std::string::npos);
  };
  SECTION("weights with a non-zero zero point") {
    rejected(build(c, d, false, 3), "zero point 3");
  }
  SECTION("per-channel weights along another axis") {
    rejected(build(c, d, false, 0, 3), "axis 3");
  }
  SECTION("a float bias") {
    rejected(build(c, d, true), "i32");
  }
  SECTION("a bias whose scale is not input scale x weight scale") {
    rejected(build(c, d, false, 0, 0, 2.f), "bias");
  }
}
