// The int8 convolution vectorized over output pixels (kernels/src/own_int8_pixel_conv.cc,
// reference::qs8_pixel_conv): every variant's qs8_pixel_conv bit for bit against the reference
// on random rows, and CONV_2D nodes of the shapes it takes (3-channel stems, few output channels,
// odd sizes, padding, clamps) through the engine against an independent integer reference
// (int32 sums over the unpadded input, the GEMM's float32 requantization), on 1 and 3 threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/model_builder.h"

using namespace polyhead;
namespace reference = polyhead::kernels::reference;

namespace {

std::vector<int8_t> random_s8(size_t n, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

struct Case {
  const char* label;
  Shape input;  // NHWC
  int out_channels, kh, kw;
  Conv2DParams p;
};

Conv2DParams conv(int stride, std::array<int, 4> tlbr, Activation act = {}) {
  Conv2DParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_top = tlbr[0], p.pad_left = tlbr[1], p.pad_bottom = tlbr[2], p.pad_right = tlbr[3];
  p.activation = act;
  return p;
}

struct Data {
  Shape out_shape;
  float in_scale = 0.0078125f;  // 1/128: image pixels
  int32_t in_zero = -3;
  float out_scale = 0.f;
  int32_t out_zero = -9;
  std::vector<int8_t> x, w;
  std::vector<float> w_scale;
  std::vector<int32_t> bias;
  int32_t lo = -128, hi = 127;
};

std::vector<int32_t> accumulators(const Case& c, const Data& d) {
  const Shape& x = c.input;
  const Shape& y = d.out_shape;
  std::vector<int32_t> acc(static_cast<size_t>(y.elements()));
  size_t i = 0;
  for (int64_t n = 0; n < y[0]; ++n)
    for (int64_t oy = 0; oy < y[1]; ++oy)
      for (int64_t ox = 0; ox < y[2]; ++ox)
        for (int64_t o = 0; o < y[3]; ++o) {
          int32_t a = d.bias[static_cast<size_t>(o)];
          for (int64_t ky = 0; ky < c.kh; ++ky)
            for (int64_t kx = 0; kx < c.kw; ++kx) {
              const int64_t iy = oy * c.p.stride_h - c.p.pad_top + ky;
              const int64_t ix = ox * c.p.stride_w - c.p.pad_left + kx;
              if (iy < 0 || iy >= x[1] || ix < 0 || ix >= x[2]) continue;  // adds 0
              for (int64_t ch = 0; ch < x[3]; ++ch)
                a += (d.x[static_cast<size_t>(((n * x[1] + iy) * x[2] + ix) * x[3] + ch)] -
                      d.in_zero) *
                     d.w[static_cast<size_t>(((o * c.kh + ky) * c.kw + kx) * x[3] + ch)];
            }
          acc[i++] = a;
        }
  return acc;
}

Data make_data(const Case& c, uint32_t seed) {
  Data d;
  const int64_t oh = (c.input[1] + c.p.pad_top + c.p.pad_bottom - c.kh) / c.p.stride_h + 1;
  const int64_t ow = (c.input[2] + c.p.pad_left + c.p.pad_right - c.kw) / c.p.stride_w + 1;
  d.out_shape = Shape{c.input[0], oh, ow, c.out_channels};
  d.x = random_s8(static_cast<size_t>(c.input.elements()), seed);
  d.w = random_s8(static_cast<size_t>(c.out_channels * c.kh * c.kw * c.input[3]), seed + 1, -127,
                  127);
  std::mt19937 rng(seed + 2);
  std::uniform_int_distribution<int32_t> b(-30000, 30000);
  for (int o = 0; o < c.out_channels; ++o) {
    d.w_scale.push_back(0.004f + 0.001f * static_cast<float>(o % 5));
    d.bias.push_back(b(rng));
  }
  const std::vector<int32_t> acc = accumulators(c, d);
  double range = 1e-6;
  for (size_t i = 0; i < acc.size(); ++i)
    range = std::max(range, std::fabs(acc[i] * static_cast<double>(d.in_scale) *
                                      d.w_scale[i % d.w_scale.size()]));
  d.out_scale = static_cast<float>(range / 120.0);
  const Activation& a = c.p.activation;
  if (!std::isinf(a.min))
    d.lo = std::max<int32_t>(
        -128, static_cast<int32_t>(std::nearbyint(a.min / d.out_scale)) + d.out_zero);
  if (!std::isinf(a.max))
    d.hi = std::min<int32_t>(
        127, static_cast<int32_t>(std::nearbyint(a.max / d.out_scale)) + d.out_zero);
  return d;
}

std::vector<int8_t> reference_bytes(const Case& c, const Data& d) {
  const std::vector<int32_t> acc = accumulators(c, d);
  std::vector<int8_t> r(acc.size());
  const auto lo = static_cast<float>(d.lo - d.out_zero);
  const auto hi = static_cast<float>(d.hi - d.out_zero);
  for (size_t i = 0; i < acc.size(); ++i) {
    const size_t o = i % static_cast<size_t>(c.out_channels);
    const float m = d.in_scale * d.w_scale[o] / d.out_scale;
    const float v = std::min(std::max(static_cast<float>(acc[i]) * m, lo), hi);
    r[i] = static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(v)) + d.out_zero);
  }
  return r;
}

std::unique_ptr<ModelBuilder> build(const Case& c, const Data& d, int weight_zero = 0) {
  auto owned = std::make_unique<ModelBuilder>();
  ModelBuilder& b = *owned;
  const int f = b.add_input("x", c.input);
  const int x = *b.quantize("x_q", f, Quantization::per_tensor(d.in_scale, d.in_zero));
  const Quantization wq{d.w_scale, std::vector<int32_t>(d.w_scale.size(), weight_zero), 0};
  const int w = b.add_constant_i8("w", Shape{c.out_channels, c.kh, c.kw, c.input[3]}, d.w, wq);
  Quantization bq;
  for (float s : d.w_scale) bq.scale.push_back(d.in_scale * s);
  bq.zero_point.assign(d.w_scale.size(), 0);
  bq.axis = 0;
  const int bias = b.add_constant_i32("b", Shape{c.out_channels}, d.bias, bq);
  const auto y = b.conv2d("small_conv", x, w, bias, c.p);
  REQUIRE(y.is_ok());
  REQUIRE(b.set_quantization(*y, Quantization::per_tensor(d.out_scale, d.out_zero)).is_ok());
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", *y}}).is_ok());
  return owned;
}

std::vector<int8_t> run(const Case& c, const Data& d, size_t threads) {
  const auto bytes = build(c, d)->finish();
  REQUIRE(bytes.is_ok());
  const auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  EngineOptions eo;
  eo.threads = threads;
  auto engine = Engine::create(*model, eo);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO(plan.status().message());
  REQUIRE(plan.is_ok());
  std::vector<float> in(d.x.size());
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = d.in_scale * static_cast<float>(d.x[i] - d.in_zero);
  REQUIRE(plan->set_input("x", in.data(), in.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  const TensorView out = *plan->output("t", "y");
  REQUIRE(out.type == ElementType::kI8);
  std::vector<int8_t> r(static_cast<size_t>(out.shape.elements()));
  std::memcpy(r.data(), out.data, r.size());
  return r;
}

// clang-format off
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"3x3 8 -> 1, pad 1 (pose's Identity_2)", Shape{1, 19, 37, 8}, 1, 3, 3, conv(1, {1, 1, 1, 1})},
      {"3x3 stride 2 3 -> 16, SAME (selfie's stem)", Shape{1, 33, 34, 3}, 16, 3, 3, conv(2, {0, 0, 1, 1}, Activation::relu())},
      {"5x5 stride 2 3 -> 24, pad 1/2 (face's stem)", Shape{1, 20, 21, 3}, 24, 5, 5, conv(2, {1, 1, 2, 2})},
      {"3x3 stride 2 3 -> 24, no pad (pose's stem after its PAD), relu6", Shape{1, 17, 17, 3}, 24, 3, 3, conv(2, {0, 0, 0, 0}, Activation::relu6())},
      {"odd: 1 channel in, 7 out, 2x4 kernel, batch 2, clamp", Shape{2, 9, 11, 1}, 7, 2, 4, conv(1, {1, 2, 0, 1}, {-0.3f, 0.4f})},
      {"odd: 5 -> 3 (two channel groups, the second partial), stride 3", Shape{1, 14, 13, 5}, 3, 3, 3, conv(3, {1, 1, 1, 1})},
      {"17 pixels wide -> 2 channels (a 16-pixel block and a tail)", Shape{1, 4, 17, 2}, 2, 1, 1, conv(1, {0, 0, 0, 0})},
  };
  return c;
}
// clang-format on

}  // namespace

TEST_CASE("qs8_pixel_conv: every variant equals the reference bit for bit", "[int8][pixel_conv]") {
  struct Shape2 {
    size_t count, n, taps;
  };
  // Output channels in blocks of 16 and 8 (pixel-major stores) and 4 (scatter) and single ones,
  // with whole and partial groups of 16 pixels.
  for (const Shape2 s :
       {Shape2{1, 1, 1}, Shape2{16, 1, 18}, Shape2{37, 4, 9}, Shape2{33, 24, 25}, Shape2{5, 7, 3},
        Shape2{64, 16, 27}, Shape2{17, 2, 128}, Shape2{35, 32, 9}, Shape2{13, 16, 7},
        Shape2{48, 8, 9}, Shape2{3, 8, 2}, Shape2{50, 29, 9}, Shape2{16, 48, 27}}) {
    INFO("count " << s.count << ", n " << s.n << ", taps " << s.taps);
    std::vector<std::vector<uint32_t>> columns(s.taps);
    std::vector<const uint32_t*> x(s.taps);
    std::mt19937 rng(static_cast<uint32_t>(s.count * 131 + s.n * 7 + s.taps));
    for (size_t t = 0; t < s.taps; ++t) {
      columns[t].resize(s.count);
      for (uint32_t& v : columns[t]) v = static_cast<uint32_t>(rng());
      x[t] = columns[t].data();
    }
    std::vector<uint32_t> w(s.n * s.taps);
    for (uint32_t& v : w) v = static_cast<uint32_t>(rng()) & 0x7f7f7f7fu;  // int8 in [0, 127] ...
    for (size_t i = 0; i < w.size(); i += 3) w[i] ^= 0x80808080u;          // ... and negatives
    std::vector<int32_t> bias(s.n);
    std::vector<float> scale(s.n);
    for (size_t o = 0; o < s.n; ++o) {
      bias[o] = static_cast<int32_t>(rng() % 2000001) - 1000000;
      scale[o] = 1e-5f * static_cast<float>(1 + o % 7);
    }
    // A narrow clamp with most values inside it, then the full range with a zero point at its
    // lower end and scales that push many sums far past both ends (saturating packs).
    for (const int clamp : {0, 1}) {
      INFO("clamp " << clamp);
      std::vector<float> scales = scale;
      if (clamp == 1)
        for (float& f : scales) f *= 40.f;
      reference::Qs8PixelConvRow row;
      row.count = s.count, row.n = s.n, row.taps = s.taps;
      row.x = x.data(), row.w = w.data(), row.bias = bias.data(), row.scale = scales.data();
      if (clamp == 0)
        row.zero = 3, row.min = -100, row.max = 120;
      else
        row.zero = -128, row.min = -128, row.max = 127;
      std::vector<int8_t> want(s.count * s.n), got(s.count * s.n, 0);
      row.out = want.data();
      reference::qs8_pixel_conv(row);
      size_t inside = 0;
      for (int8_t v : want) inside += v > row.min && v < row.max;
      if (clamp == 0) CHECK(inside > want.size() / 4);  // most values unclamped
      for (const kernels::Isa isa : kernels::available_isas()) {
        const kernels::KernelVariant* v = kernels::kernel_variant(isa);
        if (!v || !v->qs8_pixel_conv) continue;
        INFO(kernels::isa_name(isa));
        std::fill(got.begin(), got.end(), int8_t{0});
        row.out = got.data();
        v->qs8_pixel_conv(row);
        CHECK(got == want);
        // The cheaper epilogue for sums known to stay in range: the same bytes (these are).
        REQUIRE(reference::qc8_sums_in_range(s.n, 4 * s.taps,
                                             reinterpret_cast<const int8_t*>(w.data()), bias.data(),
                                             scales.data()));
        std::fill(got.begin(), got.end(), int8_t{0});
        row.sums_in_range = true;
        v->qs8_pixel_conv(row);
        row.sums_in_range = false;
        CHECK(got == want);
      }
    }
  }
}

TEST_CASE("qs8_pixel_regroup: the definition, and every variant bit for bit",
          "[int8][pixel_conv]") {
  const uint32_t pad = 0x85858585u;  // a flipped zero point of 5
  for (size_t bytes = 1; bytes <= 4; ++bytes)
    for (size_t step : {1, 2, 3, 4, 6, 8, 9, 12})
      for (size_t count : {0, 1, 5, 15, 16, 17, 31, 33, 70}) {
        if (count > 0 && step < bytes) continue;  // pixels do not overlap in a real row
        INFO("bytes " << bytes << ", step " << step << ", count " << count);
        // The source ends exactly at the last pixel's last byte, so an over-read past it is
        // outside the vector (AddressSanitizer builds catch it).
        const size_t used = count ? (count - 1) * step + bytes : 0;
        const std::vector<int8_t> src = random_s8(
            std::max<size_t>(used, 1), static_cast<uint32_t>(bytes * 1000 + step * 100 + count));
        std::vector<uint32_t> want(count + 1, 0xdeadbeefu);
        reference::qs8_pixel_regroup(src.data(), count, step, bytes, pad, want.data());
        for (size_t j = 0; j < count; ++j)
          for (size_t b = 0; b < 4; ++b) {
            const auto got = static_cast<uint8_t>(want[j] >> (8 * b));
            const auto expect = b < bytes ? static_cast<uint8_t>(src[j * step + b] ^ 0x80) : 0x85;
            REQUIRE(got == expect);
          }
        CHECK(want[count] == 0xdeadbeefu);  // nothing past `count`
        for (const kernels::Isa isa : kernels::available_isas()) {
          const kernels::KernelVariant* v = kernels::kernel_variant(isa);
          if (!v || !v->qs8_pixel_regroup) continue;
          INFO(kernels::isa_name(isa));
          std::vector<uint32_t> got(count + 1, 0xdeadbeefu);
          v->qs8_pixel_regroup(src.data(), count, step, bytes, pad, got.data());
          CHECK(got == want);
        }
      }
}

TEST_CASE("int8 small convolutions match the integer reference bit for bit", "[int8][pixel_conv]") {
  for (size_t i = 0; i < cases().size(); ++i) {
    const Case& c = cases()[i];
    INFO(c.label);
    const Data d = make_data(c, 300 + static_cast<uint32_t>(i) * 11);
    const std::vector<int8_t> want = reference_bytes(c, d);
    const std::vector<int8_t> one = run(c, d, 1);
    REQUIRE(one.size() == want.size());
    size_t wrong = 0, first = one.size();
    for (size_t k = 0; k < one.size(); ++k)
      if (one[k] != want[k]) {
        if (first == one.size()) first = k;
        ++wrong;
      }
    INFO("first difference at " << first << " of " << one.size());
    CHECK(wrong == 0);
    CHECK(run(c, d, 3) == one);
  }
}

TEST_CASE("int8 small convolutions refuse weights outside docs/int8.md's conventions",
          "[int8][pixel_conv]") {
  const Case c = cases()[1];
  const Data d = make_data(c, 5);
  const auto bytes = build(c, d, 2)->finish();
  REQUIRE(bytes.is_ok());
  const auto model = Model::from_bytes(*bytes);
  Status s = model.status();
  if (model.is_ok()) {
    auto engine = Engine::create(*model);
    s = engine.is_ok() ? engine->prepare().status() : engine.status();
  }
  INFO(s.message());
  CHECK_FALSE(s.is_ok());
  CHECK(s.message().find("small_conv") != std::string::npos);
  CHECK(s.message().find("zero point 2") != std::string::npos);
}
