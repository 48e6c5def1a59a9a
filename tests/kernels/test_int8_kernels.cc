// Every int8 kernel (docs/int8.md) against the integer reference of support/int8_reference, through
// the engine: each model is F32 input -> QUANTIZE -> the operator in int8 -> I8 task output, fed
// with dequantized int8 values so that QUANTIZE reproduces them and the operator's input is known.
//
// Exact: the operators that move bytes (nearest resize, transpose, depth-to-space, reshape, pad,
// max pooling) and Polyhead's own requantizing kernels (lookup tables, concatenation, average
// pooling with a window), whose definition is "round half to even of the real result". Those own
// kernels compute in float32 (the multiplier in_scale / out_scale, the dequantized input of a
// table), so where the real result lies within kTie (1e-3 LSB) of a rounding tie either neighbour
// is accepted: float32 rounding of the multiplier decides such points, e.g. 0.05f / 0.04f is 1.25
// in float32 but 1.2500000419 in double, so (q - zp) = 2 gives 2.5 (-> 2) against 2.50000008
// (-> 3). Anything else must match.
//
// Within 1 LSB: XNNPACK's quantized operators (convolution, fully connected, add, sub, mul, global
// average, bilinear resize, QUANTIZE), which requantize in fp32 or fixed point with a multiplier of
// 24 or fewer significant bits (and bilinear weights in 11-bit fixed point, rounding halves up)
// where the reference uses exact integers and a double multiplier: near a half the two may round
// apart. At least 95% of the values must still match exactly (a value at a tie matches either
// neighbour), so a systematic error cannot hide inside the tolerance.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "support/int8_reference.h"
#include "support/reference_interpreter.h"
#include "support/test_models.h"

using namespace polyhead;
using testing::random_values;
using testing::int8::QParams;
using testing::int8::QTensor;
using testing::int8::QWeights;
using testing::int8::Requantized;
namespace ref = testing::int8;
using Coordinates = kernels::reference::Coordinates;

namespace {

constexpr double kTie = 1e-3;  // distance from a rounding tie (in LSB) where both sides are right

std::vector<int8_t> random_q(size_t n, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

QTensor random_tensor(const Shape& s, uint32_t seed, QParams q) {
  return QTensor{s, random_q(static_cast<size_t>(s.elements()), seed), q};
}

Quantization per_tensor(const QParams& q) {
  return Quantization::per_tensor(q.scale, q.zero_point);
}

// Output parameters that cover the reference's real results with some saturation at both ends:
// `compute` is evaluated once with unit scale to find the range.
QParams fitted_output(const std::function<Requantized(const QParams&)>& compute) {
  const Requantized unit = compute(QParams{1.f, 0});
  double lo = 0.0, hi = 0.0;
  for (double v : unit.value) lo = std::min(lo, v), hi = std::max(hi, v);
  const double scale = std::max(1e-6, (hi - lo) / 255.0 * 0.85);
  const auto zp = static_cast<int32_t>(std::clamp(
      std::nearbyint(-128.0 - lo / scale * 0.95 - (hi - lo) / scale * 0.02), -128.0, 127.0));
  return QParams{static_cast<float>(scale), zp};
}

// A model under construction: F32 inputs quantized in the model, fed with dequantized values.
struct Int8Model {
  ModelBuilder b;
  std::vector<std::pair<std::string, std::vector<float>>> feeds;

  int input(const std::string& name, const QTensor& x) {
    const int f = b.add_input(name, x.shape);
    feeds.emplace_back(name, ref::dequantize(x));
    return *b.quantize(name + "_q", f, per_tensor(x.q));
  }
  int weights(const std::string& name, const QWeights& w, bool per_channel) {
    Quantization q;
    if (per_channel) {
      q = {w.scales, std::vector<int32_t>(w.scales.size(), 0), 0};
    } else {
      q = Quantization::per_tensor(w.scales[0], 0);
    }
    return b.add_constant_i8(name, w.shape, w.values, q);
  }
  int bias(const std::string& name, const std::vector<int32_t>& values, const QParams& in,
           const QWeights& w, bool per_channel) {
    if (values.empty()) return -1;
    Quantization q;
    if (per_channel) {
      for (float s : w.scales) q.scale.push_back(in.scale * s);
      q.zero_point.assign(w.scales.size(), 0);
      q.axis = 0;
    } else {
      q = Quantization::per_tensor(in.scale * w.scales[0], 0);
    }
    return b.add_constant_i32(name, Shape{static_cast<int64_t>(values.size())}, values, q);
  }
  // Makes `tensor` I8 with `q` and returns it (for chaining operator calls).
  int out(Result<int> tensor, const QParams& q) {
    REQUIRE(tensor.is_ok());
    REQUIRE(b.set_quantization(*tensor, per_tensor(q)).is_ok());
    return *tensor;
  }
};

// Everything from finish() to a prepared plan; the first failure's status.
Status prepare_status(const ModelBuilder& b) {
  const auto bytes = b.finish();
  if (!bytes.is_ok()) return bytes.status();
  const auto model = Model::from_bytes(*bytes);
  if (!model.is_ok()) return model.status();
  auto engine = Engine::create(*model);
  if (!engine.is_ok()) return engine.status();
  auto plan = engine->prepare();
  if (!plan.is_ok()) return plan.status();
  return Status::ok();
}

// Runs the model with output `tensor` as task "t" output "y".
TensorView run_model(Int8Model& m, int tensor, std::vector<uint8_t>* storage, size_t threads = 1) {
  REQUIRE(m.b.add_task("t", TaskKind::kOther, {{"y", tensor}}).is_ok());
  const auto bytes = m.b.finish();
  REQUIRE(bytes.is_ok());
  const auto model = Model::from_bytes(*bytes);
  INFO(model.status().message());
  REQUIRE(model.is_ok());
  EngineOptions options;
  options.threads = threads;
  options.choose_threads_per_node = false;  // every node on all the threads
  auto engine = Engine::create(*model, options);
  INFO(engine.status().message());
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO(plan.status().message());
  REQUIRE(plan.is_ok());
  for (const auto& [name, values] : m.feeds)
    REQUIRE(plan->set_input(name, values.data(), values.size()).is_ok());
  const Status s = plan->run();
  INFO(s.message());
  REQUIRE(s.is_ok());
  const TensorView out = *plan->output("t", "y");
  storage->assign(static_cast<const uint8_t*>(out.data),
                  static_cast<const uint8_t*>(out.data) + out.bytes());
  TensorView copy = out;
  copy.data = storage->data();
  return copy;
}

std::vector<int8_t> run_int8(Int8Model& m, int tensor, size_t threads = 1) {
  std::vector<uint8_t> storage;
  const TensorView out = run_model(m, tensor, &storage, threads);
  REQUIRE(out.type == ElementType::kI8);
  std::vector<int8_t> r(storage.size());
  if (!r.empty()) std::memcpy(r.data(), storage.data(), r.size());
  return r;
}

std::vector<float> run_f32(Int8Model& m, int tensor) {
  std::vector<uint8_t> storage;
  const TensorView out = run_model(m, tensor, &storage);
  REQUIRE(out.type == ElementType::kF32);
  std::vector<float> r(storage.size() / sizeof(float));
  if (!r.empty()) std::memcpy(r.data(), storage.data(), storage.size());
  return r;
}

bool near_tie(double v) {
  return std::fabs(std::fabs(v - std::floor(v)) - 0.5) < kTie;
}

// Every value equal to the reference rounded half to even, except at rounding ties (see the top).
void check_exact(const std::vector<int8_t>& got, const Requantized& want) {
  REQUIRE(got.size() == want.value.size());
  const std::vector<int8_t> rounded = want.rounded();
  size_t ties = 0, wrong = 0, first = got.size();
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == rounded[i]) continue;
    const bool tie = near_tie(want.value[i]) && std::abs(got[i] - rounded[i]) == 1 &&
                     got[i] >= want.min && got[i] <= want.max;
    if (tie) {
      ++ties;
    } else {
      ++wrong;
      if (first == got.size()) first = i;
    }
  }
  INFO("first wrong at " << first << ": got " << (first < got.size() ? int(got[first]) : 0)
                         << ", reference " << (first < got.size() ? want.value[first] : 0.0));
  INFO(ties << " of " << got.size() << " values at a rounding tie took the other neighbour");
  CHECK(wrong == 0);
}

// |got - reference| <= 1 LSB everywhere and at least 95% exact (see the top for why).
void check_within_one(const std::vector<int8_t>& got, const Requantized& want) {
  REQUIRE(got.size() == want.value.size());
  const std::vector<int8_t> rounded = want.rounded();
  size_t exact = 0, worst_at = 0;
  int worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const int d = std::abs(got[i] - rounded[i]);
    // At a tie either neighbour is exact (XNNPACK's fixed point rounds halves up, not to even).
    if (d == 0 || (d == 1 && near_tie(want.value[i]))) ++exact;
    if (d > worst) worst = d, worst_at = i;
  }
  INFO("worst at " << worst_at << ": got " << (got.empty() ? 0 : int(got[worst_at]))
                   << ", reference " << (got.empty() ? 0.0 : want.value[worst_at]) << "; exact "
                   << exact << " of " << got.size());
  CHECK(worst <= 1);
  CHECK(exact * 100 >= got.size() * 95);
}

void check_bytes(const std::vector<int8_t>& got, const QTensor& want) {
  REQUIRE(got.size() == want.values.size());
  size_t first = got.size();
  for (size_t i = 0; i < got.size() && first == got.size(); ++i)
    if (got[i] != want.values[i]) first = i;
  INFO("first difference at " << first);
  CHECK(first == got.size());
}

std::vector<int32_t> random_bias(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(-3000, 3000);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("int8 convolution matches the integer reference", "[int8][conv]") {
  struct Case {
    const char* what;
    Shape in;
    int out_channels, kh, kw;
    Conv2DParams p;
    bool per_channel, bias;
    QParams in_q;
  };
  auto params = [](int s, int d, int pt, int pl, int pb, int pr, int groups, Activation a) {
    Conv2DParams p;
    p.stride_h = p.stride_w = s;
    p.dilation_h = p.dilation_w = d;
    p.pad_top = pt, p.pad_left = pl, p.pad_bottom = pb, p.pad_right = pr;
    p.groups = groups;
    p.activation = a;
    return p;
  };
  const Case cases[] = {
      {"3x3 stride 2, ReLU6",
       Shape{1, 9, 11, 3},
       5,
       3,
       3,
       params(2, 1, 1, 1, 1, 1, 1, Activation::relu6()),
       true,
       true,
       {0.05f, 7}},
      {"3x3 dilation 2, asymmetric padding",
       Shape{2, 8, 7, 5},
       17,
       3,
       3,
       params(1, 2, 0, 1, 2, 1, 1, Activation::none()),
       false,
       false,
       {0.03f, -20}},
      {"1x1 pointwise",
       Shape{2, 4, 5, 17},
       3,
       1,
       1,
       params(1, 1, 0, 0, 0, 0, 1, {}),
       true,
       true,
       {0.1f, 0}},
      {"depthwise 3x3 stride 2",
       Shape{1, 9, 9, 17},
       17,
       3,
       3,
       params(2, 1, 1, 1, 1, 1, 17, Activation::relu6()),
       true,
       true,
       {0.02f, -5}},
      {"depthwise with multiplier 2",
       Shape{1, 6, 7, 5},
       10,
       3,
       3,
       params(1, 1, 1, 1, 1, 1, 5, Activation::relu()),
       false,
       true,
       {0.04f, 12}},
      {"grouped, 3 groups",
       Shape{1, 7, 6, 6},
       9,
       3,
       3,
       params(1, 1, 1, 0, 1, 0, 3, Activation::none()),
       true,
       false,
       {0.06f, 3}},
      {"5x5 stride 2 with dilation",
       Shape{1, 13, 12, 3},
       4,
       5,
       5,
       params(2, 2, 2, 2, 2, 2, 1, Activation::none()),
       true,
       true,
       {0.01f, -128}},
  };
  uint32_t seed = 100;
  for (const Case& c : cases) {
    INFO(c.what);
    ++seed;
    const QTensor x = random_tensor(c.in, seed, c.in_q);
    const Shape ws{c.out_channels, c.kh, c.kw, c.in[3] / c.p.groups};
    const QWeights w = ref::quantize_weights(
        random_values(static_cast<size_t>(ws.elements()), seed + 1, 0.5f), ws, c.per_channel);
    const std::vector<int32_t> bias =
        c.bias ? random_bias(static_cast<size_t>(c.out_channels), seed + 2)
               : std::vector<int32_t>{};
    const QParams out =
        fitted_output([&](const QParams& q) { return ref::conv2d(x, w, bias, c.p, q); });
    Int8Model m;
    const int xi = m.input("x", x);
    const int wi = m.weights("w", w, c.per_channel);
    const int bi = m.bias("b", bias, x.q, w, c.per_channel);
    const int y = m.out(m.b.conv2d("conv", xi, wi, bi, c.p), out);
    check_within_one(run_int8(m, y), ref::conv2d(x, w, bias, c.p, out));
  }
}

TEST_CASE("int8 fully connected matches the integer reference", "[int8][fc]") {
  for (bool per_channel : {true, false})
    for (bool with_bias : {true, false})
      for (const Shape& in : {Shape{3, 17}, Shape{2, 2, 33}, Shape{1, 5}}) {
        INFO("input " << in.to_string() << (per_channel ? " per channel" : " per tensor")
                      << (with_bias ? " with bias" : ""));
        const uint32_t seed = static_cast<uint32_t>(in.elements()) + (per_channel ? 1 : 0);
        const QTensor x = random_tensor(in, seed, QParams{0.07f, -9});
        const Shape ws{7, in[in.rank() - 1]};
        const QWeights w = ref::quantize_weights(
            random_values(static_cast<size_t>(ws.elements()), seed + 3, 1.f), ws, per_channel);
        const std::vector<int32_t> bias = with_bias ? random_bias(7, seed) : std::vector<int32_t>{};
        const Activation act = with_bias ? Activation::relu6() : Activation::none();
        const QParams out = fitted_output(
            [&](const QParams& q) { return ref::fully_connected(x, w, bias, act, q); });
        Int8Model m;
        const int xi = m.input("x", x);
        const int wi = m.weights("w", w, per_channel);
        const int bi = m.bias("b", bias, x.q, w, per_channel);
        const int y = m.out(m.b.fully_connected("fc", xi, wi, bi, act), out);
        check_within_one(run_int8(m, y), ref::fully_connected(x, w, bias, act, out));
      }
}

TEST_CASE("int8 GEMMs with few rows split their output channels across threads exactly",
          "[int8][conv][fc]") {
  // MobileNetV2's 7x7 layers have 49 rows and a classifier has one: fewer row tasks than
  // threads, so the output channels are split too (channel counts that leave a partial block).
  struct Case {
    const char* what;
    Shape in;
    int out_channels;
    bool conv;
  };
  const Case cases[] = {{"1x1 on 7x7, 200 outputs", Shape{1, 7, 7, 96}, 200, true},
                        {"1x1 on 3x5, 40 outputs", Shape{1, 3, 5, 20}, 40, true},
                        {"fully connected, 1 row, 250 outputs", Shape{1, 130}, 250, false},
                        {"fully connected, 2 rows, 33 outputs", Shape{2, 64}, 33, false}};
  uint32_t seed = 900;
  for (const Case& c : cases) {
    INFO(c.what);
    ++seed;
    const QTensor x = random_tensor(c.in, seed, QParams{0.05f, 3});
    const int k = static_cast<int>(c.in[c.in.rank() - 1]);
    const Shape ws = c.conv ? Shape{c.out_channels, 1, 1, k} : Shape{c.out_channels, k};
    const QWeights w = ref::quantize_weights(
        random_values(static_cast<size_t>(ws.elements()), seed + 1, 0.5f), ws, true);
    const std::vector<int32_t> bias = random_bias(static_cast<size_t>(c.out_channels), seed + 2);
    Conv2DParams p;
    p.activation = Activation::relu6();
    const auto compute = [&](const QParams& q) {
      return c.conv ? ref::conv2d(x, w, bias, p, q)
                    : ref::fully_connected(x, w, bias, Activation::relu6(), q);
    };
    const QParams out = fitted_output(compute);
    std::vector<int8_t> by_threads[2];
    for (size_t t = 0; t < 2; ++t) {
      Int8Model m;
      const int xi = m.input("x", x);
      const int wi = m.weights("w", w, true);
      const int bi = m.bias("b", bias, x.q, w, true);
      const int y = m.out(c.conv ? m.b.conv2d("layer", xi, wi, bi, p)
                                 : m.b.fully_connected("layer", xi, wi, bi, Activation::relu6()),
                          out);
      by_threads[t] = run_int8(m, y, t == 0 ? 1 : 3);
    }
    check_within_one(by_threads[0], compute(out));
    CHECK(by_threads[1] == by_threads[0]);
  }
}

TEST_CASE("int8 add, sub and mul match the reference, with broadcasting", "[int8][binary]") {
  struct Case {
    Shape a, b;
  };
  const Case cases[] = {{Shape{1, 4, 5, 3}, Shape{1, 4, 5, 3}},
                        {Shape{1, 4, 5, 3}, Shape{3}},
                        {Shape{2, 1, 5, 1}, Shape{1, 4, 1, 17}},
                        {Shape{1, 3, 3, 5}, Shape{1, 1, 1, 1}}};
  const std::pair<BinaryOp, ref::Binary> ops[] = {{BinaryOp::kAdd, ref::Binary::kAdd},
                                                  {BinaryOp::kSub, ref::Binary::kSub},
                                                  {BinaryOp::kMul, ref::Binary::kMul}};
  uint32_t seed = 300;
  for (const auto& [op, rop] : ops)
    for (const Case& c : cases)
      for (Activation act : {Activation::none(), Activation::relu6()}) {
        INFO("op " << static_cast<int>(op) << " " << c.a.to_string() << " with " << c.b.to_string()
                   << (std::isfinite(act.max) ? " ReLU6" : ""));
        ++seed;
        const QTensor a = random_tensor(c.a, seed, QParams{0.05f, 10});
        const QTensor b = random_tensor(c.b, seed + 7, QParams{0.03f, -17});
        const QParams out =
            fitted_output([&](const QParams& q) { return ref::binary(rop, a, b, act, q); });
        Int8Model m;
        const int ai = m.input("a", a);
        const int bi = m.input("b", b);
        const int y = m.out(m.b.binary("op", op, ai, bi, act), out);
        check_within_one(run_int8(m, y), ref::binary(rop, a, b, act, out));
      }
  SECTION("a constant I8 operand") {
    const QTensor a = random_tensor(Shape{1, 3, 4, 5}, 9, QParams{0.05f, 0});
    const QTensor k = random_tensor(Shape{5}, 10, QParams{0.02f, 4});
    const QParams out = fitted_output(
        [&](const QParams& q) { return ref::binary(ref::Binary::kMul, a, k, {}, q); });
    Int8Model m;
    const int ai = m.input("a", a);
    const int ki = m.b.add_constant_i8("k", k.shape, k.values, per_tensor(k.q));
    const int y = m.out(m.b.binary("mul", BinaryOp::kMul, ai, ki), out);
    check_within_one(run_int8(m, y), ref::binary(ref::Binary::kMul, a, k, {}, out));
  }
}

TEST_CASE("int8 mean and global average pooling match the reference", "[int8][mean]") {
  for (const Shape& s : {Shape{1, 5, 7, 17}, Shape{2, 3, 3, 3}, Shape{1, 1, 1, 5}})
    for (bool keep_dims : {true, false}) {
      INFO(s.to_string() << " keep_dims " << keep_dims);
      const QTensor x = random_tensor(s, static_cast<uint32_t>(s.elements()), QParams{0.1f, 5});
      // A narrower output scale than the input's, as averages span less.
      const QParams out{0.04f, -3};
      Int8Model m;
      const int xi = m.input("x", x);
      const int y = m.out(m.b.mean("mean", xi, keep_dims), out);
      check_within_one(run_int8(m, y), ref::mean_hw(x, out));
    }
  SECTION("AVERAGE_POOL_2D whose window is the whole input") {
    const QTensor x = random_tensor(Shape{1, 4, 6, 5}, 4, QParams{0.1f, -30});
    Pool2DParams p;
    p.filter_h = 4, p.filter_w = 6;
    const QParams out{0.05f, 2};
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = m.out(m.b.pool2d("pool", PoolOp::kAverage, xi, p), out);
    check_within_one(run_int8(m, y), ref::average_pool(x, p, out));
  }
}

TEST_CASE("int8 pooling with a window matches the reference", "[int8][pool]") {
  auto params = [](int f, int s, int pad, Activation a) {
    Pool2DParams p;
    p.filter_h = p.filter_w = f;
    p.stride_h = p.stride_w = s;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
    p.activation = a;
    return p;
  };
  const Pool2DParams cases[] = {params(3, 2, 1, {}), params(2, 2, 0, {}),
                                params(3, 1, 1, {}), params(3, 2, 1, Activation::relu6()),
                                params(1, 2, 0, {}), params(2, 1, 1, Activation::relu())};
  uint32_t seed = 500;
  for (const Pool2DParams& p : cases) {
    INFO("filter " << p.filter_h << " stride " << p.stride_h << " pad " << p.pad_top
                   << (std::isfinite(p.activation.min) ? " with activation" : ""));
    ++seed;
    const QTensor x = random_tensor(Shape{2, 7, 9, 5}, seed, QParams{0.05f, -7});
    {
      INFO("average, requantizing (Polyhead's kernel: exact)");
      const QParams out{0.03f, 11};
      Int8Model m;
      const int xi = m.input("x", x);
      const int y = m.out(m.b.pool2d("avg", PoolOp::kAverage, xi, p), out);
      check_exact(run_int8(m, y), ref::average_pool(x, p, out));
    }
    {
      INFO("maximum (bytes)");
      Int8Model m;
      const int xi = m.input("x", x);
      const int y = m.out(m.b.pool2d("max", PoolOp::kMax, xi, p), x.q);
      check_bytes(run_int8(m, y), ref::max_pool(x, p));
    }
  }
}

TEST_CASE("int8 average pooling saturates when the scales' ratio is huge", "[int8][pool]") {
  // Found by fuzz_phm_model: an input scale 10^12 times the output's made the scaled average a
  // float beyond int32, converted anyway (undefined behaviour). It saturates to the bounds.
  Pool2DParams p;
  p.filter_h = p.filter_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const QTensor x = random_tensor(Shape{1, 7, 9, 5}, 640, QParams{1e6f, -7});
  const QParams out{1e-6f, 3};
  Int8Model m;
  const int xi = m.input("x", x);
  const int y = m.out(m.b.pool2d("avg", PoolOp::kAverage, xi, p), out);
  const std::vector<int8_t> got = run_int8(m, y);
  check_exact(got, ref::average_pool(x, p, out));
  CHECK(std::count(got.begin(), got.end(), int8_t{127}) > 0);
  CHECK(std::count(got.begin(), got.end(), int8_t{-128}) > 0);
}

TEST_CASE("int8 resize matches the reference in every coordinate mode", "[int8][resize]") {
  struct Case {
    Shape in;
    int h, w;
  };
  const Case cases[] = {
      {Shape{1, 5, 7, 3}, 10, 14}, {Shape{2, 4, 4, 5}, 7, 3}, {Shape{1, 3, 2, 17}, 8, 5}};
  const std::pair<ResizeCoordinates, Coordinates> modes[] = {
      {ResizeCoordinates::kHalfPixel, Coordinates::kHalfPixel},
      {ResizeCoordinates::kAlignCorners, Coordinates::kAlignCorners},
      {ResizeCoordinates::kAsymmetric, Coordinates::kAsymmetric}};
  uint32_t seed = 600;
  for (const Case& c : cases)
    for (const auto& [mode, rmode] : modes) {
      INFO(c.in.to_string() << " -> " << c.h << "x" << c.w << " mode " << static_cast<int>(mode));
      const QTensor x = random_tensor(c.in, ++seed, QParams{0.02f, 9});
      {
        INFO("bilinear");
        Int8Model m;
        const int xi = m.input("x", x);
        const int y = m.out(m.b.resize("r", xi, c.h, c.w, ResizeMode::kBilinear, mode), x.q);
        check_within_one(run_int8(m, y), ref::resize_bilinear(x, c.h, c.w, rmode));
      }
      {
        INFO("nearest");
        Int8Model m;
        const int xi = m.input("x", x);
        const int y = m.out(m.b.resize("r", xi, c.h, c.w, ResizeMode::kNearest, mode), x.q);
        check_bytes(run_int8(m, y), ref::resize_nearest(x, c.h, c.w, rmode));
      }
    }
}

TEST_CASE("int8 transpose, depth-to-space, reshape and pad move bytes exactly", "[int8][bytes]") {
  const QParams q{0.05f, -3};
  SECTION("transpose") {
    const QTensor x = random_tensor(Shape{2, 3, 5, 7}, 1, q);
    std::vector<int> perm = {0, 1, 2, 3};
    do {
      INFO("perm " << ::Catch::Detail::stringify(perm));
      Int8Model m;
      const int xi = m.input("x", x);
      const int y = m.out(m.b.transpose("t", xi, perm), q);
      check_bytes(run_int8(m, y), ref::transpose(x, perm));
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
  SECTION("depth to space") {
    for (const auto& [s, block] :
         {std::pair{Shape{1, 3, 4, 8}, 2}, std::pair{Shape{2, 2, 3, 18}, 3},
          std::pair{Shape{1, 1, 1, 4}, 2}}) {
      INFO(s.to_string() << " block " << block);
      const QTensor x = random_tensor(s, 2, q);
      Int8Model m;
      const int xi = m.input("x", x);
      const int y = m.out(m.b.depth_to_space("d2s", xi, block), q);
      check_bytes(run_int8(m, y), ref::depth_to_space(x, block));
    }
  }
  SECTION("reshape") {
    const QTensor x = random_tensor(Shape{1, 4, 5, 3}, 3, q);
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = m.out(m.b.reshape("r", xi, Shape{1, 60}), q);
    check_bytes(run_int8(m, y), ref::reshape(x, Shape{1, 60}));
  }
  SECTION("pad") {
    for (float value : {0.f, 1.5f, -100.f}) {
      INFO("value " << value);
      const QTensor x = random_tensor(Shape{1, 3, 4, 5}, 4, q);
      const std::vector<int> before = {0, 1, 2, 0}, after = {1, 2, 0, 3};
      Int8Model m;
      const int xi = m.input("x", x);
      const int y = m.out(m.b.pad("p", xi, before, after, value), q);
      check_bytes(run_int8(m, y), ref::pad(x, before, after, value));
    }
  }
}

TEST_CASE("int8 slice and channel shuffle move bytes exactly (format 1.5)", "[int8][bytes]") {
  const QParams q{0.05f, -3};
  const QTensor x = random_tensor(Shape{2, 5, 6, 12}, 5, q);
  struct Window {
    std::vector<int> begin, size, step;
  };
  const Window windows[] = {
      {{0, 0, 0, 4}, {2, 5, 6, 8}, {}},                // channels 4..11 (an NHWC channel slice)
      {{1, 1, 0, 0}, {1, 3, 6, 12}, {}},               // whole rows
      {{0, 4, 5, 11}, {2, 3, 3, 6}, {1, -2, -2, -2}},  // backwards, every other index
      {{1, 2, 3, 5}, {1, 1, 1, 1}, {}},                // one value
  };
  for (const Window& w : windows) {
    INFO("begin " << ::Catch::Detail::stringify(w.begin) << " size "
                  << ::Catch::Detail::stringify(w.size));
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = m.out(m.b.slice("s", xi, w.begin, w.size, w.step), q);
    check_bytes(run_int8(m, y), ref::slice(x, w.begin, w.size, w.step));
  }
  for (int groups : {2, 3, 4, 6}) {
    INFO("groups " << groups);
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = m.out(m.b.channel_shuffle("shuffle", xi, groups), q);
    check_bytes(run_int8(m, y), ref::channel_shuffle(x, groups));
  }
}

TEST_CASE("int8 concatenation requantizes each input exactly", "[int8][concat]") {
  const QParams out{0.04f, -2};
  struct Case {
    int axis;
    std::vector<QParams> q;
    Activation act;
  };
  const Case cases[] = {
      {3, {{0.05f, 3}, {0.02f, -40}, {0.11f, 0}}, {}},
      {3, {out, out}, {}},  // plain copies
      {1, {out, {0.5f, 100}}, Activation::relu6()},
      {-1, {{0.01f, 1}, out}, Activation::relu()},
      {0, {{0.03f, 0}, {0.07f, -1}}, {}},
  };
  uint32_t seed = 700;
  for (const Case& c : cases) {
    INFO("axis " << c.axis << ", " << c.q.size() << " inputs");
    std::vector<QTensor> xs;
    Int8Model m;
    std::vector<int> ids;
    for (size_t i = 0; i < c.q.size(); ++i) {
      Shape s{2, 3, 4, 5};
      const size_t axis = static_cast<size_t>(c.axis < 0 ? c.axis + 4 : c.axis);
      s[axis] = static_cast<int64_t>(i + 1) * (axis == 3 ? 3 : 1);
      xs.push_back(random_tensor(s, ++seed, c.q[i]));
      ids.push_back(m.input("x" + std::to_string(i), xs.back()));
    }
    const int y = m.out(m.b.concatenation("cat", ids, c.axis, c.act), out);
    check_exact(run_int8(m, y), ref::concatenation(xs, c.axis, c.act, out));
  }
}

TEST_CASE("int8 unary lookups match the reference on every input value", "[int8][unary]") {
  // Every int8 value, twice, in an odd shape.
  std::vector<int8_t> all;
  for (int r = 0; r < 2; ++r)
    for (int v = -128; v <= 127; ++v) all.push_back(static_cast<int8_t>(v));
  all.push_back(0);
  struct Case {
    const char* what;
    QParams in, out;
    std::function<Result<int>(ModelBuilder&, int)> add;
    ref::Unary op;
    double a, b;
  };
  const Case cases[] = {
      {"clamp",
       {0.05f, 3},
       {0.03f, -20},
       [](ModelBuilder& b, int x) { return b.clamp("f", x, -1.f, 2.5f); },
       ref::Unary::kClamp,
       -1.0,
       2.5},
      {"sigmoid",
       {0.06f, 0},
       {1.f / 256, -128},
       [](ModelBuilder& b, int x) { return b.unary("f", UnaryOp::kSigmoid, x); },
       ref::Unary::kSigmoid,
       0,
       0},
      {"tanh",
       {0.02f, 20},
       {1.f / 128, 0},
       [](ModelBuilder& b, int x) { return b.unary("f", UnaryOp::kTanh, x); },
       ref::Unary::kTanh,
       0,
       0},
      {"leaky relu 0.1",
       {0.05f, -5},
       {0.045f, 30},
       [](ModelBuilder& b, int x) { return b.leaky_relu("f", x, 0.1f); },
       ref::Unary::kLeakyRelu,
       0.1,
       0},
      // 0.05 / 0.03 = 5/3: no input lands on a rounding tie.
      {"abs",
       {0.05f, -7},
       {0.03f, -128},
       [](ModelBuilder& b, int x) { return b.abs("f", x); },
       ref::Unary::kAbs,
       0,
       0},
      {"silu",
       {0.05f, -7},
       {0.03f, -100},
       [](ModelBuilder& b, int x) { return b.silu("f", x); },
       ref::Unary::kSilu,
       0,
       0},
      // Slope 0.5 and equal scales: odd inputs land on exact ties of the real function; the table
      // is computed in float32, whose rounding of the dequantized input decides those.
      {"leaky relu 0.5",
       {0.1f, 0},
       {0.1f, 0},
       [](ModelBuilder& b, int x) { return b.leaky_relu("f", x, 0.5f); },
       ref::Unary::kLeakyRelu,
       0.5,
       0},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const QTensor x{Shape{1, 1, 1, static_cast<int64_t>(all.size())}, all, c.in};
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = m.out(c.add(m.b, xi), c.out);
    check_exact(run_int8(m, y), ref::unary(c.op, x, c.out, c.a, c.b));
  }
}

// HARD_SWISH follows TFLite's 16-bit fixed-point definition rather than the exact function
// (docs/int8.md, "Rounding"): equal to an independent implementation of those steps on every
// input code, and within 1 LSB of the exact function, over many parameter pairs.
TEST_CASE("int8 HARD_SWISH follows TFLite's fixed-point definition", "[int8][unary]") {
  std::vector<int8_t> all;
  for (int v = -128; v <= 127; ++v) all.push_back(static_cast<int8_t>(v));
  std::vector<std::pair<QParams, QParams>> pairs = {
      {{0.04f, -10}, {0.025f, -100}}, {{0.05f, 0}, {0.05f, 0}},  {{0.1f, 127}, {0.003f, -128}},
      {{0.002f, -128}, {0.0016f, 0}}, {{0.5f, 3}, {0.4f, -120}},
  };
  std::mt19937 rng(1414);
  std::uniform_real_distribution<double> log_scale(std::log(0.002), std::log(1.0));
  std::uniform_real_distribution<double> log_ratio(std::log(0.05), std::log(20.0));
  std::uniform_int_distribution<int> zero_point(-128, 127);
  while (pairs.size() < 300) {
    const auto in_scale = static_cast<float>(std::exp(log_scale(rng)));
    const auto out_scale = static_cast<float>(in_scale / std::exp(log_ratio(rng)));
    pairs.push_back({{in_scale, zero_point(rng)}, {out_scale, zero_point(rng)}});
  }
  size_t codes = 0, off_by_one = 0;
  for (const auto& [in, out] : pairs) {
    INFO("input scale " << in.scale << " zero point " << in.zero_point << ", output scale "
                        << out.scale << " zero point " << out.zero_point);
    const QTensor x{Shape{1, 1, 1, static_cast<int64_t>(all.size())}, all, in};
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = m.out(m.b.unary("f", UnaryOp::kHardSwish, xi), out);
    const std::vector<int8_t> got = run_int8(m, y);
    CHECK(got == ref::hard_swish_fixed_point(x, out));
    const std::vector<int8_t> exact = ref::unary(ref::Unary::kHardSwish, x, out).rounded();
    for (size_t i = 0; i < got.size(); ++i) {
      const int d = std::abs(got[i] - exact[i]);
      CHECK(d <= 1);
      off_by_one += d == 1;
    }
    codes += got.size();
  }
  // Measured: 115 of 76800 codes (0.15 %) 1 LSB off the exact function, none further.
  INFO(off_by_one << " of " << codes << " codes 1 LSB from the exact function");
  CHECK(off_by_one * 100 < codes);
}

TEST_CASE("int8 HARD_SWISH outside TFLite's definition is the exact function", "[int8][unary]") {
  // Input scale / output scale >= 128, which TFLite refuses.
  std::vector<int8_t> all;
  for (int v = -128; v <= 127; ++v) all.push_back(static_cast<int8_t>(v));
  for (const auto& [in, out] : {std::pair<QParams, QParams>{{0.5f, 0}, {0.002f, -128}},
                                std::pair<QParams, QParams>{{0.3f, -20}, {0.0023f, 10}}}) {
    INFO("input scale " << in.scale << ", output scale " << out.scale);
    const QTensor x{Shape{1, static_cast<int64_t>(all.size())}, all, in};
    Int8Model m;
    const int y = m.out(m.b.unary("f", UnaryOp::kHardSwish, m.input("x", x)), out);
    check_exact(run_int8(m, y), ref::unary(ref::Unary::kHardSwish, x, out));
  }
}

TEST_CASE("int8 QUANTIZE and DEQUANTIZE match the reference", "[int8][convert]") {
  for (const QParams& q : {QParams{0.05f, 0}, QParams{0.013f, -77}, QParams{0.3f, 127}}) {
    INFO("scale " << q.scale << " zero point " << q.zero_point);
    // Wide enough to saturate at both ends; plus values on exact halves of a step.
    std::vector<float> x = random_values(301, 17, 300.f * q.scale);
    for (int k = -6; k <= 6; ++k) x.push_back((static_cast<float>(k) + 0.5f) * q.scale);
    const Shape s{1, static_cast<int64_t>(x.size())};
    {
      INFO("QUANTIZE (XNNPACK multiplies by the reciprocal of the scale in fp32)");
      Int8Model m;
      const int xi = m.b.add_input("x", s);
      m.feeds.emplace_back("x", x);
      const int y = *m.b.quantize("q", xi, per_tensor(q));
      check_within_one(run_int8(m, y), ref::quantize(x, s, q));
    }
    {
      INFO("DEQUANTIZE: one fp32 rounding of scale x (q - zp), bit-exact");
      const QTensor qx = random_tensor(s, 18, q);
      Int8Model m;
      const int xi = m.input("x", qx);
      const int y = *m.b.dequantize("dq", xi);
      const std::vector<float> got = run_f32(m, y);
      const std::vector<float> want = ref::dequantize(qx);
      REQUIRE(got.size() == want.size());
      CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
    }
  }
}

// --- Errors -----------------------------------------------------------------------------------

namespace {

// The status of preparing `m` after adding task output `tensor`.
Status status_with_output(Int8Model& m, int tensor) {
  REQUIRE(m.b.add_task("t", TaskKind::kOther, {{"y", tensor}}).is_ok());
  return prepare_status(m.b);
}

void check_rejected(const Status& s, const std::string& node, const std::string& why) {
  INFO(s.message());
  CHECK((s.code() == ErrorCode::kUnsupported || s.code() == ErrorCode::kInvalidArgument));
  CHECK_THAT(s.message(), Catch::Contains("'" + node + "'") && Catch::Contains(why));
}

}  // namespace

TEST_CASE("int8 models with unsupported quantization are rejected naming the node",
          "[int8][errors]") {
  const QParams q{0.05f, 0};
  const QTensor x = random_tensor(Shape{1, 4, 4, 3}, 1, q);
  const Shape ws{2, 3, 3, 3};
  const QWeights w = ref::quantize_weights(random_values(54, 2, 1.f), ws, true);

  SECTION("per-channel activation quantization") {
    Int8Model m;
    const int xi = m.input("x", x);
    const int k = m.b.add_constant_i8("k", Shape{1, 1, 1, 3}, {1, 2, 3},
                                      Quantization{{0.1f, 0.2f, 0.3f}, {0, 0, 0}, 3});
    const int y = m.out(m.b.binary("per_channel_add", BinaryOp::kAdd, xi, k), q);
    check_rejected(status_with_output(m, y), "per_channel_add", "per-channel");
  }
  SECTION("an i8 input to a float-only operator") {
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = *m.b.softmax("soft", xi);
    check_rejected(status_with_output(m, y), "soft", "float only");
  }
  SECTION("weights with a non-zero zero point") {
    Int8Model m;
    const int xi = m.input("x", x);
    const int wi = m.b.add_constant_i8("w", ws, w.values, Quantization::per_tensor(0.01f, 3));
    const int y = m.out(m.b.conv2d("zp_conv", xi, wi, -1, {}), q);
    check_rejected(status_with_output(m, y), "zp_conv", "zero point");
  }
  SECTION("a float bias") {
    Int8Model m;
    const int xi = m.input("x", x);
    const int wi = m.weights("w", w, true);
    const int bi = m.b.add_constant("b", Shape{2}, {0.5f, 1.f});
    const int y = m.out(m.b.conv2d("f32_bias", xi, wi, bi, {}), q);
    check_rejected(status_with_output(m, y), "f32_bias", "i32");
  }
  SECTION("a bias whose scale is not input scale x weight scale") {
    Int8Model m;
    const int xi = m.input("x", x);
    const int wi = m.weights("w", w, true);
    const int bi = m.b.add_constant_i32("b", Shape{2}, {5, 6},
                                        Quantization::per_tensor(q.scale * w.scales[0] * 2, 0));
    const int y = m.out(m.b.conv2d("bias_scale", xi, wi, bi, {}), q);
    check_rejected(status_with_output(m, y), "bias_scale", "bias scale");
  }
  SECTION("byte-moving operators whose output quantization differs from the input's") {
    const QParams other{0.06f, 0};
    for (int which = 0; which < 4; ++which) {
      INFO("operator " << which);
      Int8Model m;
      const int xi = m.input("x", x);
      Pool2DParams p;
      p.filter_h = p.filter_w = 2;
      const Result<int> r = which == 0   ? m.b.pool2d("moved", PoolOp::kMax, xi, p)
                            : which == 1 ? m.b.reshape("moved", xi, Shape{1, 48})
                            : which == 2 ? m.b.pad("moved", xi, {0, 1, 1, 0}, {0, 1, 1, 0})
                                         : m.b.transpose("moved", xi, {0, 2, 1, 3});
      const int y = m.out(r, other);
      check_rejected(status_with_output(m, y), "moved", "differs from the output");
    }
  }
  SECTION("QUANTIZE of an i8 tensor") {
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = *m.b.quantize("twice", xi, per_tensor(q));
    check_rejected(status_with_output(m, y), "twice", "reads f32");
  }
  SECTION("DEQUANTIZE to i8") {
    Int8Model m;
    const int xi = m.input("x", x);
    const int y = m.out(m.b.dequantize("back", xi), q);
    check_rejected(status_with_output(m, y), "back", "writes f32");
  }
  SECTION("concatenation with a scale ratio out of range") {
    Int8Model m;
    const int xi = m.input("x", x);
    const QTensor x2 = random_tensor(Shape{1, 4, 4, 3}, 2, QParams{1000.f, 0});
    const int x2i = m.input("x2", x2);
    const int y = m.out(m.b.concatenation("ratio", {xi, x2i}, 3), QParams{0.01f, 0});
    check_rejected(status_with_output(m, y), "ratio", "scale ratio");
  }
}

TEST_CASE("int8: ModelBuilder::set_quantization refuses constants and per-channel parameters",
          "[int8][errors]") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4});
  const int k = b.add_constant("weights_f32", Shape{4}, {1, 2, 3, 4});
  const Status on_constant = b.set_quantization(k, Quantization::per_tensor(0.1f, 0));
  CHECK(on_constant.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(on_constant.message(), Catch::Contains("'weights_f32'"));
  const int y = *b.clamp("act", x, 0.f, 1.f);
  const Status per_channel =
      b.set_quantization(y, Quantization{{0.1f, 0.2f, 0.3f, 0.4f}, {0, 0, 0, 0}, 1});
  CHECK(per_channel.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(per_channel.message(), Catch::Contains("'act'") && Catch::Contains("per-tensor"));
}

TEST_CASE("int8: the loader rejects zero points out of range of the element type",
          "[int8][errors]") {
  SECTION("an i8 activation's zero point") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 4});
    const int y = *b.quantize("wide_zero", x, Quantization::per_tensor(0.1f, 1000));
    REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", y}}).is_ok());
    const auto bytes = b.finish();
    REQUIRE(bytes.is_ok());
    const auto model = Model::from_bytes(*bytes);
    REQUIRE_FALSE(model.is_ok());
    CHECK(model.status().code() == ErrorCode::kInvalidModel);
    CHECK_THAT(model.status().message(),
               Catch::Contains("wide_zero") && Catch::Contains("zero point 1000"));
  }
  SECTION("an i32 bias zero point beyond int32 (patched into the file)") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 4});
    const int xq = *b.quantize("xq", x, Quantization::per_tensor(0.1f, 0));
    const int w = b.add_constant_i8("w", Shape{2, 4}, std::vector<int8_t>(8, 1),
                                    Quantization::per_tensor(0.01f, 0));
    // A marker zero point, replaced below by one that int32 cannot hold (the file stores int64).
    constexpr int32_t kMarker = 0x5A17C0DE;
    const int bias = b.add_constant_i32("huge_bias_zero", Shape{2}, {1, 2},
                                        Quantization::per_tensor(0.001f, kMarker));
    const int y = *b.fully_connected("fc", xq, w, bias);
    REQUIRE(b.set_quantization(y, Quantization::per_tensor(0.1f, 0)).is_ok());
    REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", y}}).is_ok());
    auto bytes = b.finish();
    REQUIRE(bytes.is_ok());
    REQUIRE(Model::from_bytes(*bytes).is_ok());  // the marker itself is a valid int32
    const int64_t marker = kMarker, huge = int64_t{1} << 33;
    uint8_t pattern[8];
    std::memcpy(pattern, &marker, 8);
    auto at = std::search(bytes->begin(), bytes->end(), pattern, pattern + 8);
    REQUIRE(at != bytes->end());
    REQUIRE(std::search(at + 1, bytes->end(), pattern, pattern + 8) == bytes->end());
    std::memcpy(&*at, &huge, 8);
    const auto model = Model::from_bytes(*bytes);
    REQUIRE_FALSE(model.is_ok());
    CHECK(model.status().code() == ErrorCode::kInvalidModel);
    CHECK_THAT(model.status().message(),
               Catch::Contains("huge_bias_zero") && Catch::Contains(std::to_string(huge)));
  }
}

// --- End to end -------------------------------------------------------------------------------

namespace {

// A MobileNet-like block: conv 3x3 stride 2 + ReLU6 -> depthwise 3x3 + ReLU6 -> pointwise 1x1 ->
// add the conv's output -> global mean -> fully connected.
struct Block {
  Shape in{1, 9, 9, 3};
  static constexpr int kC = 8, kClasses = 5;
  std::vector<float> conv_w = random_values(kC * 3 * 3 * 3, 1, 0.5f);
  std::vector<float> conv_b = random_values(kC, 2, 0.2f);
  std::vector<float> dw_w = random_values(kC * 3 * 3, 3, 0.5f);
  std::vector<float> dw_b = random_values(kC, 4, 0.2f);
  std::vector<float> pw_w = random_values(kC * kC, 5, 0.5f);
  std::vector<float> pw_b = random_values(kC, 6, 0.2f);
  std::vector<float> fc_w = random_values(kClasses * kC, 7, 0.5f);
  std::vector<float> fc_b = random_values(kClasses, 8, 0.1f);

  static Conv2DParams conv_params(int stride, int groups, Activation a) {
    Conv2DParams p;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
    p.groups = groups;
    p.activation = a;
    return p;
  }

  std::vector<uint8_t> float_model() const {
    ModelBuilder b;
    const int x = b.add_input("x", in);
    const int c1 = *b.conv2d("conv", x, b.add_constant("conv_w", Shape{kC, 3, 3, 3}, conv_w),
                             b.add_constant("conv_b", Shape{kC}, conv_b),
                             conv_params(2, 1, Activation::relu6()));
    const int dw =
        *b.conv2d("dw", c1, b.add_constant("dw_w", Shape{kC, 3, 3, 1}, dw_w),
                  b.add_constant("dw_b", Shape{kC}, dw_b), conv_params(1, kC, Activation::relu6()));
    Conv2DParams pp;
    const int pw = *b.conv2d("pw", dw, b.add_constant("pw_w", Shape{kC, 1, 1, kC}, pw_w),
                             b.add_constant("pw_b", Shape{kC}, pw_b), pp);
    const int add = *b.binary("add", BinaryOp::kAdd, pw, c1);
    const int mean = *b.mean("mean", add, false);
    const int fc = *b.fully_connected("fc", mean, b.add_constant("fc_w", Shape{kClasses, kC}, fc_w),
                                      b.add_constant("fc_b", Shape{kClasses}, fc_b));
    REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", fc}}).is_ok());
    return *b.finish();
  }
};

QParams calibrated(const std::vector<float>& v) {
  float lo = 0.f, hi = 0.f;
  for (float x : v) lo = std::min(lo, x), hi = std::max(hi, x);
  const float scale = (hi - lo) / 255.f;
  return QParams{scale, static_cast<int32_t>(std::nearbyint(-128.f - lo / scale))};
}

std::vector<int32_t> quantize_bias(const std::vector<float>& b, const QParams& in,
                                   const QWeights& w) {
  std::vector<int32_t> q(b.size());
  for (size_t c = 0; c < b.size(); ++c)
    q[c] = static_cast<int32_t>(std::nearbyint(b[c] / (in.scale * w.scales[c])));
  return q;
}

}  // namespace

TEST_CASE("an int8 MobileNet-like block follows its float model", "[int8][e2e]") {
  const Block blk;
  const std::vector<uint8_t> float_bytes = blk.float_model();
  // Calibration: every activation's range on a few inputs, from the float reference interpreter.
  std::vector<std::vector<float>> inputs;
  for (uint32_t s = 0; s < 4; ++s) inputs.push_back(random_values(243, 40 + s, 1.f));
  std::map<std::string, std::vector<float>> seen;
  for (const auto& in : inputs)
    for (const auto& [name, t] : testing::reference_evaluate(float_bytes, {{"x", in}}))
      seen[name].insert(seen[name].end(), t.values.begin(), t.values.end());
  const QParams qx = calibrated(seen["x"]), q1 = calibrated(seen["conv"]),
                qdw = calibrated(seen["dw"]), qpw = calibrated(seen["pw"]),
                qadd = calibrated(seen["add"]), qmean = calibrated(seen["mean"]),
                qfc = calibrated(seen["fc"]);

  const Shape c1s{Block::kC, 3, 3, 3}, dws{Block::kC, 3, 3, 1}, pws{Block::kC, 1, 1, Block::kC},
      fcs{Block::kClasses, Block::kC};
  const QWeights w1 = ref::quantize_weights(blk.conv_w, c1s, true);
  const QWeights wdw = ref::quantize_weights(blk.dw_w, dws, true);
  const QWeights wpw = ref::quantize_weights(blk.pw_w, pws, true);
  const QWeights wfc = ref::quantize_weights(blk.fc_w, fcs, true);

  Int8Model m;
  const int x = m.b.add_input("x", blk.in);
  const int xq = *m.b.quantize("xq", x, per_tensor(qx));
  const int c1 = m.out(m.b.conv2d("conv", xq, m.weights("conv_w", w1, true),
                                  m.bias("conv_b", quantize_bias(blk.conv_b, qx, w1), qx, w1, true),
                                  Block::conv_params(2, 1, Activation::relu6())),
                       q1);
  const int dw = m.out(m.b.conv2d("dw", c1, m.weights("dw_w", wdw, true),
                                  m.bias("dw_b", quantize_bias(blk.dw_b, q1, wdw), q1, wdw, true),
                                  Block::conv_params(1, Block::kC, Activation::relu6())),
                       qdw);
  const int pw = m.out(
      m.b.conv2d("pw", dw, m.weights("pw_w", wpw, true),
                 m.bias("pw_b", quantize_bias(blk.pw_b, qdw, wpw), qdw, wpw, true), Conv2DParams{}),
      qpw);
  const int add = m.out(m.b.binary("add", BinaryOp::kAdd, pw, c1), qadd);
  const int mean = m.out(m.b.mean("mean", add, false), qmean);
  const int fc = m.out(
      m.b.fully_connected("fc", mean, m.weights("fc_w", wfc, true),
                          m.bias("fc_b", quantize_bias(blk.fc_b, qmean, wfc), qmean, wfc, true)),
      qfc);
  const int y = *m.b.dequantize("y", fc);
  REQUIRE(m.b.add_task("t", TaskKind::kOther, {{"y", y}}).is_ok());
  const auto int8_bytes = m.b.finish();
  REQUIRE(int8_bytes.is_ok());

  auto run = [](const std::vector<uint8_t>& bytes, const std::vector<float>& in) {
    const auto model = Model::from_bytes(bytes);
    REQUIRE(model.is_ok());
    auto engine = Engine::create(*model);
    INFO(engine.status().message());
    REQUIRE(engine.is_ok());
    auto plan = engine->prepare();
    INFO(plan.status().message());
    REQUIRE(plan.is_ok());
    REQUIRE(plan->set_input("x", in.data(), in.size()).is_ok());
    REQUIRE(plan->run().is_ok());
    const TensorView out = *plan->output("t", "y");
    REQUIRE(out.type == ElementType::kF32);
    return std::vector<float>(out.f32(), out.f32() + out.shape.elements());
  };
  for (const auto& in : inputs) {
    const std::vector<float> want = run(float_bytes, in);
    const std::vector<float> got = run(*int8_bytes, in);
    // The fake-quantized reference interpreter (int8 values held dequantized) agrees to 1 LSB: it
    // rounds every I8 tensor as the kernels do, up to XNNPACK's 1-LSB requantization differences.
    const std::vector<float> simulated =
        testing::reference_evaluate(*int8_bytes, {{"x", in}})["y"].values;
    REQUIRE(got.size() == want.size());
    REQUIRE(simulated.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("class " << i << ": int8 " << got[i] << ", float " << want[i] << ", simulated "
                    << simulated[i] << ", output step " << qfc.scale);
      CHECK(std::fabs(got[i] - want[i]) <= 4 * qfc.scale);
      CHECK(std::fabs(got[i] - simulated[i]) <= 1.001f * qfc.scale);
    }
  }
}
