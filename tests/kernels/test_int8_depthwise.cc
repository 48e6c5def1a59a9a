// Polyhead's int8 depthwise convolution (own_int8_depthwise.cc, kernel_variant.h Qc8Depthwise):
// every variant the running CPU offers, bit for bit against the reference variant and against an
// integer reference written here (int64 sums, the documented float32 requantization); then
// through the engine: exact against support/int8_reference, the same bytes on two threads as on
// one, and the layers the kernel declines (dilation, stride 3) still running through XNNPACK.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/model_builder.h"
#include "support/int8_reference.h"
#include "support/test_models.h"

using namespace polyhead;
using kernels::Isa;
using kernels::Qc8Depthwise;
namespace ref = testing::int8;

namespace {

struct Geometry {
  int64_t h, w, c, kh, kw, stride, pt, pl, pb, pr;
  int64_t oh() const { return (h + pt + pb - kh) / stride + 1; }
  int64_t ow() const { return (w + pl + pr - kw) / stride + 1; }
  std::string label() const {
    return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c) + " kernel " +
           std::to_string(kh) + "x" + std::to_string(kw) + " stride " + std::to_string(stride) +
           " padding " + std::to_string(pt) + "," + std::to_string(pl) + "," + std::to_string(pb) +
           "," + std::to_string(pr);
  }
};

struct Problem {
  Geometry g;
  std::vector<int8_t> x;      // h x w x c
  std::vector<int8_t> w;      // c x kh x kw
  std::vector<int32_t> bias;  // c values, or empty
  std::vector<float> scale;   // c values
  int32_t x_zero = 0, y_zero = 0, y_min = -128, y_max = 127;
};

Problem random_problem(const Geometry& g, uint32_t seed, bool per_channel, bool bias) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127);
  Problem p;
  p.g = g;
  p.x.resize(static_cast<size_t>(g.h * g.w * g.c));
  for (int8_t& v : p.x) v = static_cast<int8_t>(byte(rng));
  p.w.resize(static_cast<size_t>(g.c * g.kh * g.kw));
  for (int8_t& v : p.w) v = static_cast<int8_t>(std::max(-127, byte(rng)));
  if (bias) {
    std::uniform_int_distribution<int32_t> b(-40000, 40000);
    for (int64_t i = 0; i < g.c; ++i) p.bias.push_back(b(rng));
  }
  std::uniform_real_distribution<float> s(0.5f, 2.f);
  const float base = 1.f / static_cast<float>(300 * g.kh * g.kw);
  const float shared = base * s(rng);
  for (int64_t i = 0; i < g.c; ++i) p.scale.push_back(per_channel ? base * s(rng) : shared);
  p.x_zero = byte(rng);
  p.y_zero = byte(rng) / 2;
  // Sometimes a fused activation's bounds, sometimes the whole int8 range.
  if (seed % 3 == 0) {
    p.y_min = p.y_zero;
    p.y_max = std::min(127, p.y_zero + 100);
  } else if (seed % 3 == 1) {
    p.y_min = -100;
    p.y_max = 90;
  }
  return p;
}

// The definition, independently: int64 sums of (x - x_zero) * w over the taps inside the image,
// then the float32 requantization of docs/int8.md (one rounding of the product, clamp, half to
// even).
std::vector<int8_t> expected(const Problem& p) {
  const Geometry& g = p.g;
  std::vector<int8_t> y(static_cast<size_t>(g.oh() * g.ow() * g.c));
  for (int64_t oy = 0; oy < g.oh(); ++oy)
    for (int64_t ox = 0; ox < g.ow(); ++ox)
      for (int64_t c = 0; c < g.c; ++c) {
        int64_t acc = p.bias.empty() ? 0 : p.bias[c];
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t iy = oy * g.stride - g.pt + ky, ix = ox * g.stride - g.pl + kx;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            acc += (int64_t{p.x[(iy * g.w + ix) * g.c + c]} - p.x_zero) *
                   p.w[(c * g.kh + ky) * g.kw + kx];
          }
        REQUIRE(acc == static_cast<int32_t>(acc));  // no wrapping with these magnitudes
        const float v = static_cast<float>(acc) * p.scale[c];
        const double real = static_cast<double>(acc) * p.scale[c];
        CHECK(std::fabs(static_cast<double>(v) - real) <= std::fabs(real) * 1e-7);
        const auto lo = static_cast<float>(p.y_min - p.y_zero);
        const auto hi = static_cast<float>(p.y_max - p.y_zero);
        const float clamped = std::min(std::max(v, lo), hi);
        y[(oy * g.ow() + ox) * g.c + c] =
            static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(clamped)) + p.y_zero);
      }
  return y;
}

// The convolution through a variant: the input copied into a frame of its zero point, each
// output row one call (tap pointers stepping by stride * c), and, when `per_pixel`, every pixel a
// call of its own instead (the kernel's border columns).
std::vector<int8_t> run_variant(const Qc8Depthwise& dw, const Problem& p, bool per_pixel) {
  const Geometry& g = p.g;
  const int64_t fh = g.h + g.pt + g.pb + g.stride, fw = g.w + g.pl + g.pr + g.stride;
  std::vector<int8_t> frame(static_cast<size_t>(fh * fw * g.c), static_cast<int8_t>(p.x_zero));
  for (int64_t y = 0; y < g.h; ++y)
    std::memcpy(&frame[((y + g.pt) * fw + g.pl) * g.c], &p.x[y * g.w * g.c],
                static_cast<size_t>(g.w * g.c));
  const auto c = static_cast<size_t>(g.c);
  const auto taps = static_cast<size_t>(g.kh * g.kw);
  std::vector<uint8_t> packed(dw.packed_bytes(c, taps) + 64);
  uint8_t* aligned = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
  dw.pack(p.w.data(), c, taps, p.bias.empty() ? nullptr : p.bias.data(), p.x_zero, p.scale.data(),
          aligned);
  std::vector<int8_t> y(static_cast<size_t>(g.oh() * g.ow() * g.c), 0x55);
  std::vector<const int8_t*> pointers(taps);
  for (int64_t oy = 0; oy < g.oh(); ++oy) {
    const int64_t pixels = per_pixel ? 1 : g.ow();
    for (int64_t ox = 0; ox < g.ow(); ox += pixels) {
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx)
          pointers[ky * g.kw + kx] = &frame[((oy * g.stride + ky) * fw + ox * g.stride + kx) * g.c];
      dw.run(static_cast<size_t>(pixels), c, taps, pointers.data(),
             per_pixel ? 0 : static_cast<size_t>(g.stride * g.c), aligned, p.y_zero, p.y_min,
             p.y_max, &y[(oy * g.ow() + ox) * g.c]);
    }
  }
  return y;
}

// The convolution through a variant's row form: each output row one call, its window rows
// pointing into the input, and the rows above, below or past kh at a zero-point row (step 0).
// in_range: tell the kernel reference::qc8_sums_in_range holds (the caller checks it does).
std::vector<int8_t> run_variant_rows(const Qc8Depthwise& dw, const Problem& p, bool in_range) {
  const Geometry& g = p.g;
  const auto c = static_cast<size_t>(g.c);
  const auto kh = static_cast<size_t>(g.kh), kw = static_cast<size_t>(g.kw);
  std::vector<uint8_t> packed(dw.rows_packed_bytes(c, kh, kw) + 64);
  uint8_t* aligned = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
  dw.rows_pack(p.w.data(), c, kh, kw, p.bias.empty() ? nullptr : p.bias.data(), p.x_zero,
               p.scale.data(), aligned);
  const std::vector<int8_t> zeros(std::max<size_t>(c, 64), static_cast<int8_t>(p.x_zero));
  std::vector<int8_t> y(static_cast<size_t>(g.oh() * g.ow() * g.c), 0x55);
  for (int64_t oy = 0; oy < g.oh(); ++oy) {
    std::vector<const int8_t*> rows(8);
    std::vector<size_t> steps(8);
    for (int64_t k = 0; k < 8; ++k) {
      const int64_t iy = oy * g.stride - g.pt + k;
      const bool inside = k < g.kh && iy >= 0 && iy < g.h;
      rows[k] = inside ? &p.x[static_cast<size_t>(iy * g.w * g.c)] : zeros.data();
      steps[k] = inside ? c : 0;
    }
    kernels::Qc8DepthwiseRow row;
    row.rows = rows.data(), row.row_steps = steps.data();
    row.width = static_cast<size_t>(g.w), row.channels = c, row.kh = kh, row.kw = kw;
    row.stride_w = static_cast<size_t>(g.stride), row.pad_left = static_cast<size_t>(g.pl);
    row.out_width = static_cast<size_t>(g.ow());
    row.packed = aligned;
    row.a_zero_point = p.x_zero;
    row.c_zero_point = p.y_zero, row.c_min = p.y_min, row.c_max = p.y_max;
    row.out = &y[static_cast<size_t>(oy * g.ow() * g.c)];
    row.sums_in_range = in_range;
    dw.run_row(row);
  }
  return y;
}

size_t first_difference(const std::vector<int8_t>& a, const std::vector<int8_t>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return i;
  return a.size();
}

std::vector<Geometry> geometries() {
  std::vector<Geometry> v;
  const int64_t channels[] = {1, 3, 8, 16, 24, 40, 72, 144};
  size_t i = 0;
  for (int64_t c : channels)
    for (int64_t k : {3, 5})
      for (int64_t s : {1, 2}) {
        ++i;
        const int64_t h = 5 + static_cast<int64_t>(i * 7 % 9),
                      w = 4 + static_cast<int64_t>(i * 5 % 11);
        const int64_t same = k / 2;
        switch (i % 3) {
          case 0:  // same
            v.push_back({h, w, c, k, k, s, same, same, same, same});
            break;
          case 1:  // valid
            v.push_back({h + k, w + k, c, k, k, s, 0, 0, 0, 0});
            break;
          default:  // asymmetric, as TensorFlow pads stride 2
            v.push_back({h, w, c, k, k, s, same - 1, same - 1, same, same});
            break;
        }
      }
  v.push_back({7, 9, 5, 3, 5, 1, 1, 2, 1, 2});    // kh != kw
  v.push_back({6, 13, 19, 1, 3, 2, 0, 1, 0, 1});  // one kernel row
  v.push_back({2, 2, 33, 3, 3, 1, 1, 1, 1, 1});   // every pixel a border pixel
  return v;
}

std::vector<Isa> variants() {
  std::vector<Isa> v = kernels::available_isas();
  REQUIRE(std::find(v.begin(), v.end(), Isa::kReference) != v.end());
  return v;
}

}  // namespace

TEST_CASE("int8 depthwise variants match the integer reference bit for bit",
          "[int8][depthwise][variants]") {
  uint32_t seed = 1;
  for (const Geometry& g : geometries())
    for (bool per_channel : {true, false}) {
      ++seed;
      INFO(g.label() << (per_channel ? ", per channel" : ", per tensor") << ", seed " << seed);
      const Problem p = random_problem(g, seed, per_channel, seed % 4 != 0);
      const std::vector<int8_t> want = expected(p);
      const Qc8Depthwise* reference = kernels::kernel_variant(Isa::kReference)->qc8_depthwise;
      REQUIRE(reference);
      const std::vector<int8_t> by_reference = run_variant(*reference, p, false);
      CHECK(first_difference(by_reference, want) == want.size());
      for (Isa isa : variants()) {
        INFO("variant " << kernels::isa_name(isa));
        const kernels::KernelVariant* v = kernels::kernel_variant(isa);
        REQUIRE(v);
        if (!v->qc8_depthwise) continue;
        for (bool per_pixel : {false, true}) {
          INFO((per_pixel ? "a call per pixel" : "a call per row"));
          const std::vector<int8_t> got = run_variant(*v->qc8_depthwise, p, per_pixel);
          const size_t at = first_difference(got, by_reference);
          INFO("first difference at " << at << " of " << got.size());
          CHECK(at == got.size());
        }
      }
    }
}

TEST_CASE("int8 depthwise row forms match the integer reference bit for bit",
          "[int8][depthwise][variants]") {
  std::vector<Geometry> shapes = geometries();
  // Rows long enough for the 8- and 4-pixel steps and their remainders, every channel remainder
  // of a 16-channel block, and kernels 4 to 8 rows tall (two groups of four rows).
  shapes.push_back({6, 37, 24, 3, 3, 2, 0, 0, 1, 1});
  shapes.push_back({5, 40, 16, 3, 3, 1, 1, 1, 1, 1});
  shapes.push_back({4, 29, 57, 5, 5, 1, 2, 2, 2, 2});
  shapes.push_back({9, 23, 9, 5, 5, 2, 1, 1, 2, 2});
  shapes.push_back({9, 19, 20, 4, 3, 1, 1, 1, 2, 1});
  shapes.push_back({11, 15, 18, 7, 5, 2, 3, 2, 3, 2});
  shapes.push_back({12, 13, 8, 8, 3, 1, 4, 1, 3, 1});
  shapes.push_back({3, 4, 31, 3, 5, 1, 1, 2, 1, 2});  // no column clear of the padding
  // Quads of 64 channels (kernels of at most four rows) with their 4-, 2- and 1-pixel steps, and
  // blocks after them.
  shapes.push_back({7, 11, 64, 4, 3, 1, 2, 1, 1, 1});   // a quad of four kernel rows
  shapes.push_back({6, 9, 130, 2, 3, 2, 1, 1, 0, 1});   // two quads, two kernel rows, 2 channels
  shapes.push_back({5, 7, 200, 1, 5, 1, 0, 2, 0, 2});   // one kernel row, three quads and 8
  shapes.push_back({9, 14, 96, 3, 3, 2, 0, 0, 1, 1});   // a quad and two blocks at stride 2
  shapes.push_back({4, 23, 192, 3, 3, 1, 1, 1, 1, 1});  // MobileNetV2's 3x3 on three quads
  size_t covered = 0, in_range = 0;
  uint32_t seed = 500;
  for (const Geometry& g : shapes) {
    ++seed;
    INFO(g.label() << ", seed " << seed);
    const Problem p = random_problem(g, seed, seed % 5 != 0, seed % 4 != 0);
    const std::vector<int8_t> want = expected(p);
    for (Isa isa : variants()) {
      const kernels::KernelVariant* v = kernels::kernel_variant(isa);
      if (!v->qc8_depthwise || !v->qc8_depthwise->run_row) continue;
      INFO("variant " << kernels::isa_name(isa));
      const Qc8Depthwise& dw = *v->qc8_depthwise;
      REQUIRE(dw.row_supported);
      REQUIRE(dw.rows_packed_bytes);
      REQUIRE(dw.rows_pack);
      if (!dw.row_supported(static_cast<size_t>(g.c), static_cast<size_t>(g.kh),
                            static_cast<size_t>(g.kw), static_cast<size_t>(g.stride)))
        continue;
      ++covered;
      const std::vector<int8_t> got = run_variant_rows(dw, p, false);
      const size_t at = first_difference(got, want);
      INFO("first difference at " << at << " of " << got.size());
      CHECK(at == got.size());
      // The cheaper epilogue for sums known to stay in range gives the same bytes.
      if (kernels::reference::qc8_sums_in_range(
              static_cast<size_t>(g.c), static_cast<size_t>(g.kh * g.kw), p.w.data(),
              p.bias.empty() ? nullptr : p.bias.data(), p.scale.data())) {
        ++in_range;
        const std::vector<int8_t> fast = run_variant_rows(dw, p, true);
        CHECK(first_difference(fast, want) == fast.size());
      }
    }
  }
  // Where the CPU has a row form, it took most of these shapes.
  bool any = false;
  for (Isa isa : variants()) {
    const kernels::KernelVariant* v = kernels::kernel_variant(isa);
    any = any || (v->qc8_depthwise && v->qc8_depthwise->run_row);
  }
  if (any) CHECK(covered >= shapes.size() / 2);
  if (any) CHECK(in_range >= covered / 2);  // real layers' sums are in range
}

TEST_CASE("every variant has an int8 depthwise convolution", "[int8][depthwise][variants]") {
  for (Isa isa : variants()) {
    INFO("variant " << kernels::isa_name(isa));
    CHECK(kernels::kernel_variant(isa)->qc8_depthwise != nullptr);
  }
}

namespace {

Quantization per_tensor(const ref::QParams& q) {
  return Quantization::per_tensor(q.scale, q.zero_point);
}

struct Layer {
  Shape in;
  int kh, kw;
  Conv2DParams p;
  bool per_channel;
};

// The depthwise layer as a model (F32 input -> QUANTIZE -> CONV_2D int8 -> I8 output), run on
// `threads`; its output bytes, and in *want the reference's real results.
std::vector<int8_t> run_layer(const Layer& l, uint32_t seed, size_t threads,
                              ref::Requantized* want) {
  const ref::QParams xq{0.03f, -7};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127);
  ref::QTensor x{l.in, std::vector<int8_t>(static_cast<size_t>(l.in.elements())), xq};
  for (int8_t& v : x.values) v = static_cast<int8_t>(byte(rng));
  const int64_t c = l.in[3];
  const Shape ws{c, l.kh, l.kw, 1};
  const ref::QWeights w = ref::quantize_weights(
      testing::random_values(static_cast<size_t>(ws.elements()), seed + 1, 0.5f), ws,
      l.per_channel);
  std::vector<int32_t> bias(static_cast<size_t>(c));
  std::uniform_int_distribution<int32_t> b(-3000, 3000);
  for (int32_t& v : bias) v = b(rng);
  const ref::QParams out{0.02f, 5};
  *want = ref::conv2d(x, w, bias, l.p, out);

  ModelBuilder mb;
  const int f = mb.add_input("x", l.in);
  const int xi = *mb.quantize("x_q", f, per_tensor(xq));
  Quantization wq = l.per_channel
                        ? Quantization{w.scales, std::vector<int32_t>(w.scales.size(), 0), 0}
                        : Quantization::per_tensor(w.scales[0], 0);
  const int wi = mb.add_constant_i8("w", ws, w.values, wq);
  Quantization bq;
  for (float s : w.scales) bq.scale.push_back(xq.scale * s);
  bq.zero_point.assign(w.scales.size(), 0);
  bq.axis = 0;
  if (!l.per_channel) bq = Quantization::per_tensor(xq.scale * w.scales[0], 0);
  const int bi = mb.add_constant_i32("b", Shape{c}, bias, bq);
  const Result<int> y = mb.conv2d("dw", xi, wi, bi, l.p);
  REQUIRE(y.is_ok());
  REQUIRE(mb.set_quantization(*y, per_tensor(out)).is_ok());
  REQUIRE(mb.add_task("t", TaskKind::kOther, {{"y", *y}}).is_ok());
  const auto bytes = mb.finish();
  REQUIRE(bytes.is_ok());
  const auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  EngineOptions options;
  options.threads = threads;
  options.choose_threads_per_node = false;
  auto engine = Engine::create(*model, options);
  INFO(engine.status().message());
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO(plan.status().message());
  REQUIRE(plan.is_ok());
  const std::vector<float> feed = ref::dequantize(x);
  REQUIRE(plan->set_input("x", feed.data(), feed.size()).is_ok());
  const Status s = plan->run();
  INFO(s.message());
  REQUIRE(s.is_ok());
  const TensorView o = *plan->output("t", "y");
  REQUIRE(o.type == ElementType::kI8);
  std::vector<int8_t> r(static_cast<size_t>(o.shape.elements()));
  std::memcpy(r.data(), o.data, r.size());
  return r;
}

Conv2DParams conv_params(int stride, int dilation, int pt, int pl, int pb, int pr, int groups,
                         Activation a) {
  Conv2DParams p;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = dilation;
  p.pad_top = pt, p.pad_left = pl, p.pad_bottom = pb, p.pad_right = pr;
  p.groups = groups;
  p.activation = a;
  return p;
}

// |got - reference| <= 1 everywhere; `exact`: equal to the reference rounded half to even except
// at a rounding tie of the real result.
void check(const std::vector<int8_t>& got, const ref::Requantized& want, bool exact) {
  REQUIRE(got.size() == want.value.size());
  const std::vector<int8_t> rounded = want.rounded();
  size_t wrong = 0, worst_at = 0;
  int worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const int d = std::abs(got[i] - rounded[i]);
    const double frac = std::fabs(want.value[i] - std::floor(want.value[i]));
    const bool tie = std::fabs(frac - 0.5) < 1e-3;
    if (d != 0 && !(d == 1 && tie)) ++wrong;
    if (d > worst) worst = d, worst_at = i;
  }
  INFO("worst at " << worst_at << ": got " << int(got[worst_at]) << ", reference "
                   << want.value[worst_at] << "; " << wrong << " of " << got.size()
                   << " off the reference");
  CHECK(worst <= 1);
  if (exact)
    CHECK(wrong == 0);
  else
    CHECK(wrong * 100 <= got.size() * 5);
}

}  // namespace

TEST_CASE("int8 depthwise layers run exactly, the same on two threads as on one",
          "[int8][depthwise]") {
  const Layer layers[] = {
      {Shape{1, 17, 19, 24}, 3, 3, conv_params(1, 1, 1, 1, 1, 1, 24, Activation::relu6()), true},
      {Shape{2, 16, 15, 40}, 3, 3, conv_params(2, 1, 0, 0, 1, 1, 40, Activation::none()), true},
      {Shape{1, 21, 20, 8}, 5, 5, conv_params(1, 1, 2, 2, 2, 2, 8, Activation::relu()), false},
      {Shape{1, 23, 18, 72}, 5, 5, conv_params(2, 1, 1, 1, 2, 2, 72, Activation::none()), true},
      {Shape{1, 33, 9, 3}, 3, 3, conv_params(1, 1, 0, 0, 0, 0, 3, Activation::relu6()), false},
  };
  uint32_t seed = 500;
  for (const Layer& l : layers) {
    INFO("input " << l.in.to_string() << " kernel " << l.kh << "x" << l.kw << " stride "
                  << l.p.stride_h);
    ++seed;
    ref::Requantized want;
    const std::vector<int8_t> one = run_layer(l, seed, 1, &want);
    check(one, want, true);
    const std::vector<int8_t> two = run_layer(l, seed, 2, &want);
    CHECK(first_difference(two, one) == one.size());
  }
}

TEST_CASE("int8 depthwise layers the kernel declines run through XNNPACK", "[int8][depthwise]") {
  const Layer layers[] = {
      {Shape{1, 13, 14, 16}, 3, 3, conv_params(1, 2, 2, 2, 2, 2, 16, Activation::none()), true},
      {Shape{1, 16, 17, 24}, 3, 3, conv_params(3, 1, 1, 1, 1, 1, 24, Activation::relu6()), true},
      {Shape{1, 12, 12, 8}, 9, 9, conv_params(1, 1, 4, 4, 4, 4, 8, Activation::none()), false},
  };
  uint32_t seed = 900;
  for (const Layer& l : layers) {
    INFO("input " << l.in.to_string() << " kernel " << l.kh << "x" << l.kw << " stride "
                  << l.p.stride_h << " dilation " << l.p.dilation_h);
    ++seed;
    ref::Requantized want;
    check(run_layer(l, seed, 1, &want), want, false);
  }
}
