// Polyhead's own int8 ADD / SUB / MUL, bilinear RESIZE and PAD (docs/int8.md "Elementwise
// arithmetic", "Bilinear resize"):
//  - every instruction-set variant the running CPU offers computes exactly the integer definition
//    of kernel_variant.h, written again here with int64 and double arithmetic (odd lengths,
//    broadcast rows, clamps, the extreme shifts);
//  - through the engine, the results are the real (double) results rounded half away from zero,
//    except within 1e-3 LSB of a tie (ADD/SUB/MUL), and within 1 LSB of the float resize of the
//    dequantized input (RESIZE); PAD moves bytes exactly;
//  - two threads give the same bytes as one;
//  - scale ratios outside the fixed-point range are refused with the node and the value named.
#include <catch2/catch.hpp>

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "int8_dispatch.h"
#include "polyhead/engine.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/reference.h"
#include "polyhead/model_builder.h"

using namespace polyhead;
using kernels::Int8AddParams;
using kernels::Int8Elementwise;
using kernels::Int8MulParams;
using kernels::Isa;

namespace {

std::vector<int8_t> random_bytes(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<const Int8Elementwise*> available_tables() {
  std::vector<const Int8Elementwise*> t;
  for (Isa isa : kernels::kAllIsas) {
    if (!kernels::isa_available(isa)) continue;
    const kernels::KernelVariant* v = kernels::kernel_variant(isa);
    if (v && v->int8_elementwise) t.push_back(v->int8_elementwise);
  }
  return t;
}

// Round half away from zero of acc / 2^shift, from the exact quotient.
int64_t divide_round_away(int64_t acc, int shift) {
  const double q = std::ldexp(static_cast<double>(acc), -shift);  // exact: |acc| < 2^53
  return static_cast<int64_t>(q < 0 ? -std::floor(-q + 0.5) : std::floor(q + 0.5));
}

int8_t expected_add(int8_t a, int8_t b, const Int8AddParams& p) {
  const int64_t acc =
      int64_t{a - p.a_zero} * p.a_multiplier + int64_t{b - p.b_zero} * p.b_multiplier;
  const int64_t q = divide_round_away(acc, p.shift) + p.out_zero;
  return static_cast<int8_t>(std::min<int64_t>(std::max<int64_t>(q, p.min), p.max));
}

int8_t expected_mul(int8_t a, int8_t b, const Int8MulParams& p) {
  const float v = static_cast<float>((a - p.a_zero) * (b - p.b_zero)) * p.scale;
  const double q = std::round(static_cast<double>(v)) + p.out_zero;  // half away from zero
  return static_cast<int8_t>(std::min<double>(std::max<double>(q, p.min), p.max));
}

int8_t expected_bilinear(int t0, int t1, int b0, int b1, int wx, int wy) {
  const int64_t acc = (int64_t{t0} * (2048 - wx) + int64_t{t1} * wx) * (2048 - wy) +
                      (int64_t{b0} * (2048 - wx) + int64_t{b1} * wx) * wy;
  return static_cast<int8_t>(std::nearbyint(std::ldexp(static_cast<double>(acc), -22)));
}

}  // namespace

TEST_CASE("int8 elementwise: every variant computes the integer definition exactly",
          "[int8][elementwise][variants]") {
  const auto tables = available_tables();
  REQUIRE(!tables.empty());
  std::mt19937 rng(1405);
  std::uniform_int_distribution<int> zero(-128, 127);
  for (int trial = 0; trial < 60; ++trial) {
    const size_t inner = 1 + rng() % 67;
    const size_t rows = 1 + rng() % 5;
    const bool broadcast = trial % 2 == 1;
    const auto a = random_bytes(rows * inner, rng);
    const auto b = random_bytes(broadcast ? inner : rows * inner, rng);
    const size_t b_stride = broadcast ? 0 : inner;
    Int8AddParams ap;
    ap.a_zero = zero(rng), ap.b_zero = zero(rng), ap.out_zero = zero(rng);
    ap.shift = trial % 3 == 0 ? 1 + static_cast<int32_t>(rng() % 31) : (trial % 6 == 1 ? 31 : 1);
    const int32_t big = (int32_t{1} << 21);
    ap.a_multiplier = static_cast<int32_t>(rng() % (big + 1)) * (trial % 4 == 3 ? -1 : 1);
    ap.b_multiplier = static_cast<int32_t>(rng() % (big + 1)) * (trial % 5 == 4 ? -1 : 1);
    if (trial % 7 == 0) ap.a_multiplier = big, ap.b_multiplier = -big;  // the largest allowed
    ap.min = trial % 3 == 2 ? -20 : -128;
    ap.max = trial % 3 == 2 ? 90 : 127;
    Int8MulParams mp;
    mp.a_zero = zero(rng), mp.b_zero = zero(rng), mp.out_zero = zero(rng);
    mp.scale = std::ldexp(0.5f + 0.5f * static_cast<float>(rng() % 1000) / 1000.f,
                          -static_cast<int>(rng() % 16));
    if (trial % 9 == 0) mp.scale = 0.25f;  // products land on ties
    mp.min = ap.min, mp.max = ap.max;
    std::vector<int8_t> want_add(rows * inner), want_mul(rows * inner);
    for (size_t r = 0; r < rows; ++r)
      for (size_t i = 0; i < inner; ++i) {
        want_add[r * inner + i] = expected_add(a[r * inner + i], b[r * b_stride + i], ap);
        want_mul[r * inner + i] = expected_mul(a[r * inner + i], b[r * b_stride + i], mp);
      }
    for (const Int8Elementwise* t : tables) {
      INFO("trial " << trial << " rows " << rows << " inner " << inner << " shift " << ap.shift);
      std::vector<int8_t> got(rows * inner);
      t->add(rows, inner, a.data(), b.data(), b_stride, ap, got.data());
      CHECK(got == want_add);
      t->mul(rows, inner, a.data(), b.data(), b_stride, mp, got.data());
      CHECK(got == want_mul);
    }
  }
}

TEST_CASE("int8 bilinear rows: every variant computes the integer definition exactly",
          "[int8][resize][variants]") {
  const auto tables = available_tables();
  REQUIRE(!tables.empty());
  std::mt19937 rng(77);
  for (size_t channels : {1u, 3u, 8u, 16u, 24u, 32u, 64u, 128u, 40u}) {
    const size_t in_w = 1 + rng() % 19;
    const auto top = random_bytes(in_w * channels, rng);
    const auto bottom = random_bytes(in_w * channels, rng);
    // General rows: random taps and weights, including 0 and 2048.
    const size_t out_w = 1 + rng() % 23;
    std::vector<int32_t> x0(out_w), x1(out_w);
    std::vector<int16_t> wx(out_w);
    for (size_t x = 0; x < out_w; ++x) {
      x0[x] = static_cast<int32_t>(rng() % in_w * channels);
      x1[x] = static_cast<int32_t>(rng() % in_w * channels);
      wx[x] = static_cast<int16_t>(x % 5 == 0 ? (x % 2 ? 2048 : 0) : rng() % 2049);
    }
    const int32_t wy = static_cast<int32_t>(rng() % 2049);
    std::vector<int8_t> want(out_w * channels);
    for (size_t x = 0; x < out_w; ++x)
      for (size_t c = 0; c < channels; ++c)
        want[x * channels + c] = expected_bilinear(top[x0[x] + c], top[x1[x] + c],
                                                   bottom[x0[x] + c], bottom[x1[x] + c], wx[x], wy);
    // The 2x rows (half-pixel: 3/4 and 1/4; asymmetric: 1, or 1/2 and 1/2), as the general
    // definition with the same weights in 1/2048 (top = far, bottom = near; x1 = this pixel).
    const int16_t kWeights[][6] = {{3, 1, 3, 1, 3, 1}, {4, 0, 4, 0, 2, 2}, {2, 2, 4, 0, 2, 2}};
    std::vector<std::vector<int8_t>> want_2x;
    for (const auto& w : kWeights) {
      std::vector<int8_t> v(2 * in_w * channels);
      for (size_t j = 0; j < in_w; ++j)
        for (int side = 0; side < 2; ++side) {
          const size_t n = side == 0 ? (j == 0 ? 0 : j - 1) : std::min(j + 1, in_w - 1);
          const int wx = 512 * (side == 0 ? w[2] : w[4]);
          for (size_t c = 0; c < channels; ++c)
            v[(2 * j + side) * channels + c] =
                expected_bilinear(bottom[n * channels + c], bottom[j * channels + c],
                                  top[n * channels + c], top[j * channels + c], wx, 512 * w[0]);
        }
      want_2x.push_back(v);
    }
    for (const Int8Elementwise* t : tables) {
      INFO("channels " << channels << " in_w " << in_w << " out_w " << out_w);
      std::vector<int8_t> got(out_w * channels);
      t->resize_bilinear_row(top.data(), bottom.data(), out_w, channels, x0.data(), x1.data(),
                             wx.data(), wy, got.data());
      CHECK(got == want);
      for (size_t k = 0; k < want_2x.size(); ++k) {
        std::vector<int8_t> got_2x(2 * in_w * channels);
        t->resize_2x_row(top.data(), bottom.data(), in_w, channels, kWeights[k], got_2x.data());
        CHECK(got_2x == want_2x[k]);
      }
    }
  }
}

namespace {

struct Q {
  float scale;
  int32_t zero;
};

Quantization per_tensor(const Q& q) {
  return Quantization::per_tensor(q.scale, q.zero);
}

// A one-node int8 model: inputs quantized from floats that dequantize exactly, the node, its I8
// output as task "t" output "y".
struct Net {
  ModelBuilder b;
  std::vector<std::pair<std::string, std::vector<float>>> feeds;
  int input(const std::string& name, const Shape& s, const std::vector<int8_t>& v, const Q& q) {
    const int f = b.add_input(name, s);
    std::vector<float> real(v.size());
    for (size_t i = 0; i < v.size(); ++i) real[i] = q.scale * static_cast<float>(v[i] - q.zero);
    feeds.emplace_back(name, real);
    return *b.quantize(name + "_q", f, per_tensor(q));
  }
  void output(Result<int> y, const Q& q) {
    REQUIRE(y.is_ok());
    REQUIRE(b.set_quantization(*y, per_tensor(q)).is_ok());
    REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", *y}}).is_ok());
  }
  std::vector<int8_t> run(size_t threads) {
    const auto bytes = b.finish();
    REQUIRE(bytes.is_ok());
    const auto model = Model::from_bytes(*bytes);
    REQUIRE(model.is_ok());
    EngineOptions options;
    options.threads = threads;
    auto engine = Engine::create(*model, options);
    INFO(engine.status().message());
    REQUIRE(engine.is_ok());
    auto plan = engine->prepare();
    INFO(plan.status().message());
    REQUIRE(plan.is_ok());
    for (const auto& [name, values] : feeds)
      REQUIRE(plan->set_input(name, values.data(), values.size()).is_ok());
    REQUIRE(plan->run().is_ok());
    const TensorView out = *plan->output("t", "y");
    REQUIRE(out.type == ElementType::kI8);
    std::vector<int8_t> r(out.bytes());
    std::memcpy(r.data(), out.data, r.size());
    return r;
  }
};

// Index into an operand of shape s (right-aligned, size-1 dimensions broadcast) for output index i.
size_t broadcast_index(size_t i, const Shape& out, const Shape& s) {
  size_t index = 0, stride = 1;
  for (size_t k = 0; k < out.rank(); ++k) {
    const size_t d = out.rank() - 1 - k;
    const auto coord = static_cast<int64_t>(i % static_cast<size_t>(out[d]));
    i /= static_cast<size_t>(out[d]);
    if (k < s.rank()) {
      const int64_t dim = s[s.rank() - 1 - k];
      if (dim != 1) index += static_cast<size_t>(coord) * stride;
      stride *= static_cast<size_t>(dim);
    }
  }
  return index;
}

}  // namespace

TEST_CASE("int8 add, sub and mul with a scalar operand round the real result, clamp, thread",
          "[int8][elementwise]") {
  struct Case {
    Shape a, b, out;
  };
  // The layouts Polyhead's kernel takes in the engine: one operand a single value (a table).
  const Case cases[] = {
      {Shape{1, 9, 4, 3}, Shape{1}, Shape{1, 9, 4, 3}},
      {Shape{1, 6, 7, 5}, Shape{1, 1, 1, 1}, Shape{1, 6, 7, 5}},
      {Shape{1}, Shape{2, 5, 11}, Shape{2, 5, 11}},  // the scalar first
      {Shape{1, 1, 1, 1}, Shape{1, 4, 4, 7}, Shape{1, 4, 4, 7}},
      {Shape{1, 64, 33, 16}, Shape{1}, Shape{1, 64, 33, 16}},  // several thread-pool blocks
  };
  const Q scales[][3] = {{{0.05f, 10}, {0.03f, -17}, {0.07f, 3}},
                         {{0.5f, 0}, {0.25f, 0}, {0.5f, 0}},  // ratios on ties
                         {{0.001f, -128}, {0.2f, 127}, {0.011f, -5}},
                         {{0.3f, 40}, {0.3f, -40}, {0.002f, 0}}};  // saturating
  std::mt19937 rng(2024);
  for (const BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul})
    for (const Case& c : cases)
      for (const auto& s : scales)
        for (const Activation act : {Activation::none(), Activation::relu6()}) {
          INFO("op " << static_cast<int>(op) << " " << c.a.to_string() << " with "
                     << c.b.to_string() << " scales " << s[0].scale << " " << s[1].scale << " "
                     << s[2].scale << (std::isfinite(act.max) ? " ReLU6" : ""));
          const auto a = random_bytes(static_cast<size_t>(c.a.elements()), rng);
          const auto b = random_bytes(static_cast<size_t>(c.b.elements()), rng);
          std::vector<int8_t> got[2];
          for (size_t threads : {1, 2}) {
            Net n;
            const int ai = n.input("a", c.a, a, s[0]);
            const int bi = n.input("b", c.b, b, s[1]);
            n.output(n.b.binary("op", op, ai, bi, act), s[2]);
            got[threads - 1] = n.run(threads);
          }
          CHECK(got[0] == got[1]);
          const std::vector<int8_t>& y = got[0];
          REQUIRE(static_cast<int64_t>(y.size()) == c.out.elements());
          const double lo_real = std::isfinite(act.min) ? act.min : -1e30;
          const double hi_real = std::isfinite(act.max) ? act.max : 1e30;
          const double lo = std::max(-128.0, std::nearbyint(lo_real / s[2].scale) + s[2].zero);
          const double hi = std::min(127.0, std::nearbyint(hi_real / s[2].scale) + s[2].zero);
          size_t bad = 0;
          for (size_t i = 0; i < y.size(); ++i) {
            const double x = s[0].scale * double(a[broadcast_index(i, c.out, c.a)] - s[0].zero);
            const double z = s[1].scale * double(b[broadcast_index(i, c.out, c.b)] - s[1].zero);
            const double real = op == BinaryOp::kAdd ? x + z : op == BinaryOp::kSub ? x - z : x * z;
            const double v = std::min(std::max(real / s[2].scale + s[2].zero, lo), hi);
            // Half away from zero, of the value without its zero point.
            const double centred = v - s[2].zero;
            const double want = std::round(centred) + s[2].zero;
            const bool tie = std::fabs(std::fabs(centred - std::trunc(centred)) - 0.5) < 1e-3;
            const bool ok = y[i] == want || (tie && std::fabs(y[i] - v) <= 0.5 + 1e-3);
            bad += !ok;
            if (!ok && bad < 4) UNSCOPED_INFO("value " << i << ": " << int(y[i]) << " for " << v);
          }
          CHECK(bad == 0);
        }
}

TEST_CASE("int8 add refuses scale ratios outside its fixed-point range, naming node and value",
          "[int8][elementwise]") {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::CreateNodeDirect(fbb, "residual", schema::OpKind::ADD));
  const auto* node = flatbuffers::GetRoot<schema::Node>(fbb.GetBufferPointer());
  const kernels::QParams out{1e-3f, 0};
  // 1e-3 / 1e-10: a ratio of 1e7 > 2^20.
  auto huge = kernels::int8_add_params(*node, {1.f, 0}, false, {1e-3f, 0}, false, {1e-7f, 0}, {});
  REQUIRE(!huge.is_ok());
  CHECK(huge.status().code() == ErrorCode::kUnsupported);
  CHECK_THAT(huge.status().message(), Catch::Contains("ADD node 'residual'") &&
                                          Catch::Contains("1e+07") &&
                                          Catch::Contains("[2^-11, 2^20)"));
  auto tiny = kernels::int8_add_params(*node, {1e-7f, 0}, false, {1e-7f, 0}, true, out, {});
  REQUIRE(!tiny.is_ok());
  CHECK_THAT(tiny.status().message(),
             Catch::Contains("ADD node 'residual'") && Catch::Contains("0.0001"));
  // Both ends of the range are accepted, with the shifts they need.
  auto top =
      kernels::int8_add_params(*node, {1.f, 0}, false, {0.5f, 0}, true, {1.f / 1048000.f, 0}, {});
  REQUIRE(top.is_ok());
  CHECK(top->shift == 1);
  CHECK(top->b_multiplier < 0);
  auto bottom = kernels::int8_add_params(*node, {1.f, 0}, false, {1.f, 0}, false, {2048.f, 0}, {});
  REQUIRE(bottom.is_ok());
  CHECK(bottom->shift == 31);
  CHECK(bottom->a_multiplier == (1 << 20));
  // Models with such ratios still run, on the portable kernel.
  Net n;
  std::mt19937 rng(5);
  const auto a = random_bytes(12, rng);
  const int ai = n.input("a", Shape{1, 12}, a, {1.f, 0});
  const int bi = n.input("b", Shape{1, 12}, a, {1.f, 0});
  n.output(n.b.binary("op", BinaryOp::kAdd, ai, bi), {1e-7f, 0});
  const auto y = n.run(1);
  for (size_t i = 0; i < y.size(); ++i) CHECK(int(y[i]) == (a[i] > 0 ? 127 : a[i] < 0 ? -128 : 0));
}

TEST_CASE("int8 bilinear resize is within 1 LSB of the float resize, the same on 2 threads",
          "[int8][resize]") {
  struct Case {
    Shape in;
    int h, w;
    ResizeCoordinates mode;
  };
  const Case cases[] = {
      {Shape{1, 16, 16, 8}, 32, 32, ResizeCoordinates::kHalfPixel},  // the 2x row kernel
      {Shape{1, 5, 7, 16}, 10, 14, ResizeCoordinates::kHalfPixel},
      {Shape{2, 3, 1, 3}, 6, 2, ResizeCoordinates::kHalfPixel},
      {Shape{1, 6, 5, 8}, 12, 10, ResizeCoordinates::kAlignCorners},
      {Shape{1, 6, 5, 5}, 12, 10, ResizeCoordinates::kAsymmetric},
      {Shape{1, 7, 9, 24}, 14, 18, ResizeCoordinates::kAsymmetric},
      {Shape{1, 4, 4, 128}, 8, 8, ResizeCoordinates::kAsymmetric},
      {Shape{1, 5, 3, 8}, 7, 6, ResizeCoordinates::kAsymmetric},
      {Shape{1, 9, 11, 16}, 4, 5, ResizeCoordinates::kHalfPixel},  // downsampling
      {Shape{1, 4, 6, 1}, 7, 13, ResizeCoordinates::kAlignCorners},
      {Shape{1, 4, 6, 24}, 11, 9, ResizeCoordinates::kHalfPixel},
  };
  const Q q{0.04f, -7};
  std::mt19937 rng(9);
  for (const Case& c : cases) {
    INFO(c.in.to_string() << " -> " << c.h << "x" << c.w << " mode " << static_cast<int>(c.mode));
    const auto x = random_bytes(static_cast<size_t>(c.in.elements()), rng);
    std::vector<int8_t> got[2];
    for (size_t threads : {1, 2}) {
      Net n;
      const int xi = n.input("x", c.in, x, q);
      n.output(n.b.resize("r", xi, c.h, c.w, ResizeMode::kBilinear, c.mode), q);
      got[threads - 1] = n.run(threads);
    }
    CHECK(got[0] == got[1]);
    // The float reference on the dequantized input, requantized.
    std::vector<float> real(x.size());
    for (size_t i = 0; i < x.size(); ++i) real[i] = q.scale * float(x[i] - q.zero);
    std::vector<float> want(static_cast<size_t>(c.in[0] * c.h * c.w * c.in[3]));
    const auto mode = c.mode == ResizeCoordinates::kHalfPixel
                          ? kernels::reference::Coordinates::kHalfPixel
                      : c.mode == ResizeCoordinates::kAlignCorners
                          ? kernels::reference::Coordinates::kAlignCorners
                          : kernels::reference::Coordinates::kAsymmetric;
    kernels::reference::resize_bilinear(real.data(), c.in, c.h, c.w, mode, want.data());
    REQUIRE(got[0].size() == want.size());
    double worst = 0;
    size_t exact = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      const double v = want[i] / q.scale + q.zero;
      worst = std::max(worst, std::fabs(got[0][i] - v));
      // A value at a tie of the float result (frequent: weights 1/4, 1/2) matches either side.
      const bool tie = std::fabs(std::fabs(v - std::floor(v)) - 0.5) < 1e-3;
      exact += got[0][i] == std::nearbyint(v) || (tie && std::fabs(got[0][i] - v) < 0.5 + 1e-3);
    }
    CHECK(worst <= 0.5 + 2.0 / 2048 * 255);  // rounding plus the 11-bit weights' error
    CHECK(exact >= want.size() * 95 / 100);
  }
}

TEST_CASE("int8 pad moves bytes exactly in any rank, with the quantized pad value", "[int8][pad]") {
  struct Case {
    Shape in;
    std::vector<int> before, after;
    float value;
  };
  const Case cases[] = {
      {Shape{1, 13, 11, 3}, {0, 1, 1, 0}, {0, 1, 1, 0}, 0.f},
      {Shape{1, 6, 5, 24}, {0, 0, 0, 0}, {0, 0, 0, 4}, 0.f},  // channel padding
      // Channel pads of every copy shape: under, at and past one 16-byte piece, with a lead.
      {Shape{1, 4, 3, 3}, {0, 0, 0, 0}, {0, 0, 0, 1}, 0.f},
      {Shape{1, 5, 7, 16}, {0, 0, 0, 0}, {0, 0, 0, 2}, 0.f},
      {Shape{1, 5, 7, 17}, {0, 0, 0, 3}, {0, 0, 0, 0}, 1.f},
      {Shape{1, 9, 4, 28}, {0, 0, 0, 0}, {0, 0, 0, 4}, 0.f},
      {Shape{1, 3, 5, 36}, {0, 0, 0, 2}, {0, 0, 0, 4}, -0.5f},
      {Shape{2, 3, 3, 64}, {0, 0, 0, 0}, {0, 0, 0, 8}, 0.f},
      {Shape{5, 33}, {0, 7}, {0, 9}, 0.f},
      {Shape{2, 3, 4, 5}, {1, 0, 2, 1}, {0, 3, 0, 2}, 0.5f},
      {Shape{7}, {3}, {2}, -1.f},
      {Shape{3, 4, 2, 2, 3}, {0, 1, 0, 1, 0}, {1, 0, 2, 0, 1}, 2.f},
  };
  const Q q{0.05f, 12};
  std::mt19937 rng(31);
  for (const Case& c : cases) {
    INFO(c.in.to_string());
    const auto x = random_bytes(static_cast<size_t>(c.in.elements()), rng);
    Net n;
    const int xi = n.input("x", c.in, x, q);
    n.output(n.b.pad("p", xi, c.before, c.after, c.value), q);
    const auto got = n.run(1);
    const auto value = static_cast<int8_t>(
        std::min(127.0, std::max(-128.0, std::nearbyint(double(c.value / q.scale)) + q.zero)));
    Shape out = c.in;
    for (size_t k = 0; k < c.in.rank(); ++k) out[k] = c.in[k] + c.before[k] + c.after[k];
    REQUIRE(static_cast<int64_t>(got.size()) == out.elements());
    size_t wrong = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      size_t rest = i, source = 0, stride = 1;
      bool inside = true;
      for (size_t k = c.in.rank(); k-- > 0;) {
        const int64_t coord =
            static_cast<int64_t>(rest % static_cast<size_t>(out[k])) - c.before[k];
        rest /= static_cast<size_t>(out[k]);
        inside = inside && coord >= 0 && coord < c.in[k];
        source += static_cast<size_t>(std::max<int64_t>(coord, 0)) * stride;
        stride *= static_cast<size_t>(c.in[k]);
      }
      wrong += got[i] != (inside ? x[source] : value);
    }
    CHECK(wrong == 0);
  }
}
