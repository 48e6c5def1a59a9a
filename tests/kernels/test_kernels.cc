// Every operator through the engine, against the naive reference interpreter: single-operator
// models over odd sizes, tails, strides, dilations, asymmetric padding, groups, broadcasting,
// every fused activation range and every resize mode, at one and two threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "support/reference_interpreter.h"
#include "support/test_models.h"

using namespace polyhead;
using testing::random_constant;
using testing::random_values;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

int must(Result<int> r) {
  if (!r.is_ok()) FAIL("builder rejected a node: " << r.status().to_string());
  return r.is_ok() ? *r : -1;
}

// Fused activation ranges every operator with one is tried with.
const std::vector<Activation>& activations() {
  static const std::vector<Activation> a = {Activation::none(),  Activation::relu(),
                                            Activation::relu6(), {-1.f, 1.f},
                                            {-0.25f, kInf},      {-kInf, 0.3f}};
  return a;
}

std::string describe(const Activation& a) {
  return "activation [" + std::to_string(a.min) + ", " + std::to_string(a.max) + "]";
}

// Value range of one model input (default [-1, 1]).
struct InputRange {
  float lo = -1.f;
  float hi = 1.f;
};
using InputRanges = std::map<std::string, InputRange>;

// Adds task "test" with outputs "out0", "out1", ... and serialises the model.
std::vector<uint8_t> finish(ModelBuilder& b, const std::vector<int>& outputs) {
  std::vector<TaskOutputRef> refs;
  for (size_t i = 0; i < outputs.size(); ++i)
    refs.push_back({"out" + std::to_string(i), outputs[i]});
  const Status s = b.add_task("test", TaskKind::kOther, refs);
  if (!s.is_ok()) FAIL("add_task: " << s.to_string());
  auto bytes = b.finish();
  if (!bytes.is_ok()) FAIL("finish: " << bytes.status().to_string());
  return *bytes;
}

// Runs the model on seeded inputs with the engine at 1 and 2 threads and checks every task output
// against the reference: max |engine - reference| <= 1e-4 * max(1, max |reference|).
void expect_matches_reference(const std::vector<uint8_t>& bytes, const InputRanges& ranges = {}) {
  auto model = Model::from_bytes(bytes);
  if (!model.is_ok()) FAIL("model rejected: " << model.status().to_string());

  std::map<std::string, std::vector<float>> inputs;
  uint32_t seed = 1000;
  for (const InputInfo& in : model->inputs()) {
    std::vector<float> v = random_values(static_cast<size_t>(in.shape.elements()), seed++);
    auto r = ranges.find(in.name);
    const InputRange range = r == ranges.end() ? InputRange{} : r->second;
    for (float& x : v) x = range.lo + (x + 1.f) * 0.5f * (range.hi - range.lo);
    inputs[in.name] = std::move(v);
  }
  const auto ref = testing::reference_evaluate(bytes, inputs);

  for (size_t threads : {size_t{1}, size_t{2}}) {
    INFO("threads " << threads);
    EngineOptions options;
    options.threads = threads;
    auto engine = Engine::create(*model, options);
    REQUIRE(engine.is_ok());
    auto plan = engine->prepare();
    if (!plan.is_ok()) FAIL("prepare: " << plan.status().to_string());
    for (const auto& [name, values] : inputs)
      REQUIRE(plan->set_input(name, values.data(), values.size()).is_ok());
    const Status run = plan->run();
    if (!run.is_ok()) FAIL("run: " << run.to_string());
    for (const TaskInfo& task : model->tasks())
      for (const TaskOutputInfo& out : task.outputs) {
        INFO("output " << out.name << " (tensor '" << out.tensor << "')");
        auto view = plan->output(task.name, out.name);
        REQUIRE(view.is_ok());
        const testing::ReferenceTensor& expected = ref.at(out.tensor);
        REQUIRE(view->shape == expected.shape);
        REQUIRE(view->f32() != nullptr);
        double max_ref = 0.0, max_err = 0.0;
        size_t worst = 0;
        for (size_t i = 0; i < expected.values.size(); ++i) {
          max_ref = std::max<double>(max_ref, std::fabs(expected.values[i]));
          const double err = std::fabs(static_cast<double>(view->f32()[i]) - expected.values[i]);
          // NaN counts as the worst error.
          if (!(err <= max_err)) {
            max_err = std::isnan(err) ? std::numeric_limits<double>::infinity() : err;
            worst = i;
          }
        }
        const double tolerance = 1e-4 * std::max(1.0, max_ref);
        INFO("shape " << expected.shape.to_string() << ", worst element " << worst << ": expected "
                      << expected.values[worst] << ", got " << view->f32()[worst] << " (max |err| "
                      << max_err << ", tolerance " << tolerance << ")");
        CHECK(max_err <= tolerance);
      }
  }
}

Conv2DParams conv_params(int stride_h, int stride_w, int dilation_h, int dilation_w,
                         std::array<int, 4> pads_tlbr, int groups, Activation act = {}) {
  Conv2DParams p;
  p.stride_h = stride_h;
  p.stride_w = stride_w;
  p.dilation_h = dilation_h;
  p.dilation_w = dilation_w;
  p.pad_top = pads_tlbr[0];
  p.pad_left = pads_tlbr[1];
  p.pad_bottom = pads_tlbr[2];
  p.pad_right = pads_tlbr[3];
  p.groups = groups;
  p.activation = act;
  return p;
}

struct ConvCase {
  const char* label;
  Shape input;  // NHWC
  int out_channels, kh, kw;
  Conv2DParams params;
  bool bias;
};

std::vector<uint8_t> conv_model(const ConvCase& c) {
  ModelBuilder b;
  const int x = b.add_input("x", c.input);
  const int64_t cin_per_group = c.input[3] / c.params.groups;
  const int w = random_constant(b, "w", Shape{c.out_channels, c.kh, c.kw, cin_per_group}, 11, 0.5f);
  const int bias = c.bias ? random_constant(b, "b", Shape{c.out_channels}, 12, 0.5f) : -1;
  return finish(b, {must(b.conv2d("conv", x, w, bias, c.params))});
}

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {"1x1, 17 -> 5, bias", Shape{1, 7, 7, 17}, 5, 1, 1, conv_params(1, 1, 1, 1, {0, 0, 0, 0}, 1),
       true},
      {"3x3 stride 2, 3 -> 17, odd input", Shape{1, 9, 11, 3}, 17, 3, 3,
       conv_params(2, 2, 1, 1, {1, 1, 1, 1}, 1, Activation::relu6()), true},
      {"3x3 dilation 2, asymmetric pad, no bias", Shape{1, 10, 9, 5}, 3, 3, 3,
       conv_params(1, 1, 2, 2, {2, 1, 0, 2}, 1, Activation::relu()), false},
      {"5x3 kernel, stride 2x1, 1 -> 1", Shape{1, 12, 8, 1}, 1, 5, 3,
       conv_params(2, 1, 1, 1, {0, 2, 1, 0}, 1), true},
      {"stride 3x2, dilation 1x2", Shape{1, 13, 14, 4}, 8, 3, 2,
       conv_params(3, 2, 1, 2, {1, 0, 1, 1}, 1), true},
      {"grouped 2: 6 -> 4", Shape{1, 8, 8, 6}, 4, 3, 3,
       conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 2, {-0.5f, 0.5f}), true},
      {"grouped 3: 9 -> 6, stride 2, asymmetric pad", Shape{1, 9, 9, 9}, 6, 3, 3,
       conv_params(2, 2, 1, 1, {1, 0, 1, 0}, 3), false},
      {"depthwise 17", Shape{1, 7, 9, 17}, 17, 3, 3,
       conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 17, Activation::relu6()), true},
      {"depthwise multiplier 2, stride 2, asymmetric pad", Shape{1, 10, 11, 5}, 10, 3, 3,
       conv_params(2, 2, 1, 1, {0, 1, 1, 0}, 5), true},
      {"depthwise 3 dilation 2 stride 2", Shape{1, 11, 11, 3}, 3, 3, 3,
       conv_params(2, 2, 2, 2, {2, 2, 2, 2}, 3), false},
      {"depthwise 5x5 channels 1", Shape{1, 6, 7, 1}, 1, 5, 5,
       conv_params(1, 1, 1, 1, {2, 2, 2, 2}, 1), true},
      {"batch 2", Shape{2, 5, 6, 3}, 5, 3, 3, conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 1), true},
      {"kernel as large as the padded input", Shape{1, 3, 3, 2}, 3, 5, 5,
       conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 1), true},
  };
  return cases;
}

}  // namespace

TEST_CASE("the reference interpreter agrees with hand-computed results", "[kernels][reference]") {
  // Guards the ground truth itself against the mistakes an engine could share with it.
  SECTION("average pooling divides by the real pixels only") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 2, 2, 1});
    Pool2DParams p;
    p.filter_h = p.filter_w = 2;
    p.pad_top = p.pad_left = 1;
    const int y = must(b.pool2d("pool", PoolOp::kAverage, x, p));
    const auto r = testing::reference_run(finish(b, {y}), {{"x", {1, 2, 3, 4}}});
    // Windows: {1}, {1,2}, {1,3}, {1,2,3,4}.
    CHECK(r.at("pool") == std::vector<float>{1.f, 1.5f, 2.f, 2.5f});
  }
  SECTION("depth_to_space uses the DCR order") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 1, 1, 8});
    const int y = must(b.depth_to_space("d2s", x, 2));
    const auto r = testing::reference_run(finish(b, {y}), {{"x", {0, 1, 2, 3, 4, 5, 6, 7}}});
    // out[0, i, j, c] = in[(i*2 + j)*2 + c]
    CHECK(r.at("d2s") == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7});
    ModelBuilder b2;
    const int x2 = b2.add_input("x", Shape{1, 1, 2, 4});
    const int y2 = must(b2.depth_to_space("d2s", x2, 2));
    const auto r2 = testing::reference_run(finish(b2, {y2}), {{"x", {0, 1, 2, 3, 4, 5, 6, 7}}});
    // Output [1,2,4,1]: row 0 = in[w][0], in[w][1] per w; row 1 = in[w][2], in[w][3].
    CHECK(r2.at("d2s") == std::vector<float>{0, 1, 4, 5, 2, 3, 6, 7});
  }
  SECTION("transposed convolution places taps at i*stride + k - pad") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 1, 2, 1});
    const int w = b.add_constant("w", Shape{1, 1, 3, 1}, {1, 10, 100});
    TransposeConv2DParams p;
    p.stride_w = 2;
    p.pad_left = 1;
    p.adjustment_w = 1;
    const int y = must(b.transpose_conv2d("deconv", x, w, -1, p));
    // Width 2*(2-1) + 3 + 1 - 1 = 5; full (unpadded) row: [1, 10, 100+2, 20, 200, 0].
    const auto r = testing::reference_run(finish(b, {y}), {{"x", {1, 2}}});
    CHECK(r.at("deconv") == std::vector<float>{10, 102, 20, 200, 0});
  }
  SECTION("grouped convolution reads its own group of channels") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 1, 1, 4});
    const int w = b.add_constant("w", Shape{2, 1, 1, 2}, {1, 2, 3, 4});
    const int y = must(b.conv2d("conv", x, w, -1, conv_params(1, 1, 1, 1, {0, 0, 0, 0}, 2)));
    const auto r = testing::reference_run(finish(b, {y}), {{"x", {1, 10, 100, 1000}}});
    CHECK(r.at("conv") == std::vector<float>{21, 4300});
  }
  SECTION("resize coordinates follow the schema's formulas") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 1, 2, 1});
    const int ac =
        must(b.resize("ac", x, 1, 3, ResizeMode::kBilinear, ResizeCoordinates::kAlignCorners));
    const int hp =
        must(b.resize("hp", x, 1, 4, ResizeMode::kBilinear, ResizeCoordinates::kHalfPixel));
    const int as =
        must(b.resize("as", x, 1, 4, ResizeMode::kBilinear, ResizeCoordinates::kAsymmetric));
    const int nn =
        must(b.resize("nn", x, 1, 4, ResizeMode::kNearest, ResizeCoordinates::kAsymmetric));
    const auto r = testing::reference_run(finish(b, {ac, hp, as, nn}), {{"x", {0, 8}}});
    CHECK(r.at("ac") == std::vector<float>{0, 4, 8});
    CHECK(r.at("hp") == std::vector<float>{0, 2, 6, 8});  // sources -0.25, 0.25, 0.75, 1.25
    CHECK(r.at("as") == std::vector<float>{0, 4, 8, 8});  // sources 0, 0.5, 1, 1.5
    CHECK(r.at("nn") == std::vector<float>{0, 8, 8, 8});  // floor(src + 0.5)
  }
  SECTION("transpose: output dim d is input dim perm[d]") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{2, 3});
    const int y = must(b.transpose("t", x, {1, 0}));
    const auto r = testing::reference_run(finish(b, {y}), {{"x", {0, 1, 2, 3, 4, 5}}});
    CHECK(r.at("t") == std::vector<float>{0, 3, 1, 4, 2, 5});
  }
}

TEST_CASE("CONV_2D matches the reference", "[kernels][conv]") {
  const ConvCase& c = conv_cases()[GENERATE(range(size_t{0}, conv_cases().size()))];
  INFO(c.label);
  expect_matches_reference(conv_model(c));
}

TEST_CASE("CONV_2D applies every fused activation range", "[kernels][conv]") {
  for (const Activation& act : activations()) {
    INFO(describe(act));
    expect_matches_reference(conv_model({"activation", Shape{1, 6, 6, 5}, 7, 3, 3,
                                         conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 1, act), true}));
    expect_matches_reference(conv_model({"depthwise activation", Shape{1, 6, 6, 5}, 5, 3, 3,
                                         conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 5, act), true}));
  }
}

TEST_CASE("TRANSPOSE_CONV_2D matches the reference", "[kernels][deconv]") {
  struct Case {
    const char* label;
    Shape input;
    int out_channels, kh, kw;
    std::array<int, 2> stride;
    std::array<int, 4> pads_tlbr;
    std::array<int, 2> adjustment;
    bool bias;
    Activation act;
  };
  // label, input, out channels, kh, kw, stride, pads (t,l,b,r), adjustment, bias, activation
  // clang-format off
  const std::vector<Case> cases = {
      {"3x3 stride 2, pad 1, adjustment 1", Shape{1, 4, 5, 3}, 5, 3, 3, {2, 2}, {1, 1, 1, 1}, {1, 1}, true, Activation::relu()},
      {"2x2 stride 2, 17 -> 1, no bias", Shape{1, 3, 3, 17}, 1, 2, 2, {2, 2}, {0, 0, 0, 0}, {0, 0}, false, {}},
      {"3x3 stride 1, asymmetric pad", Shape{1, 5, 4, 5}, 3, 3, 3, {1, 1}, {0, 1, 2, 0}, {0, 0}, true, {-0.5f, 0.5f}},
      {"4x3 stride 2x3, adjustment 1x2", Shape{1, 3, 4, 2}, 4, 4, 3, {2, 3}, {1, 0, 1, 1}, {1, 2}, true, Activation::relu6()},
      {"4x4 stride 2 pad 1 (2x upsampling), batch 2", Shape{2, 4, 4, 8}, 8, 4, 4, {2, 2}, {1, 1, 1, 1}, {0, 0}, true, {}},
      {"1x1 stride 2 adjustment 1", Shape{1, 3, 3, 3}, 2, 1, 1, {2, 2}, {0, 0, 0, 0}, {1, 1}, false, {}},
  };
  // clang-format on
  for (const Case& c : cases) {
    INFO(c.label);
    ModelBuilder b;
    const int x = b.add_input("x", c.input);
    const int w = random_constant(b, "w", Shape{c.out_channels, c.kh, c.kw, c.input[3]}, 21, 0.5f);
    const int bias = c.bias ? random_constant(b, "b", Shape{c.out_channels}, 22, 0.5f) : -1;
    TransposeConv2DParams p;
    p.stride_h = c.stride[0];
    p.stride_w = c.stride[1];
    p.pad_top = c.pads_tlbr[0];
    p.pad_left = c.pads_tlbr[1];
    p.pad_bottom = c.pads_tlbr[2];
    p.pad_right = c.pads_tlbr[3];
    p.adjustment_h = c.adjustment[0];
    p.adjustment_w = c.adjustment[1];
    p.activation = c.act;
    expect_matches_reference(finish(b, {must(b.transpose_conv2d("deconv", x, w, bias, p))}));
  }
}

TEST_CASE("FULLY_CONNECTED matches the reference", "[kernels][fc]") {
  struct Case {
    const char* label;
    Shape input;
    int units;
    bool bias;
  };
  const std::vector<Case> cases = {{"[1,17] -> 5", Shape{1, 17}, 5, true},
                                   {"rank 3 input", Shape{3, 4, 5}, 3, false},
                                   {"one feature", Shape{2, 1}, 17, true},
                                   {"wide", Shape{1, 257}, 33, true}};
  for (const Case& c : cases)
    for (const Activation& act : activations()) {
      INFO(c.label << ", " << describe(act));
      ModelBuilder b;
      const int x = b.add_input("x", c.input);
      const int w = random_constant(b, "w", Shape{c.units, c.input[c.input.rank() - 1]}, 31, 0.5f);
      const int bias = c.bias ? random_constant(b, "b", Shape{c.units}, 32, 0.5f) : -1;
      expect_matches_reference(finish(b, {must(b.fully_connected("fc", x, w, bias, act))}));
    }
}

TEST_CASE("ADD, SUB, MUL and DIV broadcast like numpy", "[kernels][binary]") {
  struct Case {
    const char* label;
    Shape a, b;
    bool b_constant;
  };
  const std::vector<Case> cases = {
      {"[1,4,4,8] op [8]", Shape{1, 4, 4, 8}, Shape{8}, false},
      {"[1,4,4,8] op constant [8]", Shape{1, 4, 4, 8}, Shape{8}, true},
      {"[1,1,1,8] op [1,4,4,8]", Shape{1, 1, 1, 8}, Shape{1, 4, 4, 8}, false},
      {"[1,4,4,8] op [1]", Shape{1, 4, 4, 8}, Shape{1}, false},
      {"[1] op constant [1,3,5,17]", Shape{1}, Shape{1, 3, 5, 17}, true},
      {"same shape [2,3,5]", Shape{2, 3, 5}, Shape{2, 3, 5}, false},
      {"both broadcast [4,1,3] op [1,5,1]", Shape{4, 1, 3}, Shape{1, 5, 1}, false},
      {"[1,5,1,3] op [1,1,7,1]", Shape{1, 5, 1, 3}, Shape{1, 1, 7, 1}, false},
  };
  const std::vector<std::pair<const char*, BinaryOp>> ops = {{"ADD", BinaryOp::kAdd},
                                                             {"SUB", BinaryOp::kSub},
                                                             {"MUL", BinaryOp::kMul},
                                                             {"DIV", BinaryOp::kDiv}};
  for (const auto& [op_name, op] : ops)
    for (const Case& c : cases) {
      INFO(op_name << " " << c.label);
      ModelBuilder b;
      const int x = b.add_input("a", c.a);
      int y = 0;
      if (c.b_constant) {
        // Divisors away from zero keep DIV well conditioned.
        std::vector<float> v = random_values(static_cast<size_t>(c.b.elements()), 41, 0.75f);
        for (float& e : v) e += e < 0 ? -0.5f : 0.5f;
        y = b.add_constant("b", c.b, v);
      } else {
        y = b.add_input("b", c.b);
      }
      const int out = must(b.binary("op", op, x, y));
      expect_matches_reference(finish(b, {out}), {{"b", {0.5f, 2.f}}});
    }
  SECTION("fused activation ranges") {
    for (const auto& [op_name, op] : ops)
      for (const Activation& act : activations()) {
        INFO(op_name << " " << describe(act));
        ModelBuilder b;
        const int x = b.add_input("a", Shape{1, 3, 3, 5});
        const int y = b.add_input("b", Shape{5});
        expect_matches_reference(finish(b, {must(b.binary("op", op, x, y, act))}),
                                 {{"b", {0.5f, 2.f}}});
      }
  }
  SECTION("both operands the same tensor") {
    ModelBuilder b;
    const int x = b.add_input("a", Shape{1, 3, 5, 7});
    expect_matches_reference(finish(b, {must(b.binary("op", BinaryOp::kMul, x, x))}));
  }
}

TEST_CASE("MAX_POOL_2D and AVERAGE_POOL_2D match the reference", "[kernels][pool]") {
  struct Case {
    const char* label;
    Shape input;
    int fh, fw, sh, sw;
    std::array<int, 4> pads_tlbr;
  };
  const std::vector<Case> cases = {
      {"3x3 stride 2 pad 1", Shape{1, 9, 9, 5}, 3, 3, 2, 2, {1, 1, 1, 1}},
      {"3x3 stride 2 pad 1, 17 channels", Shape{1, 8, 7, 17}, 3, 3, 2, 2, {1, 1, 1, 1}},
      {"2x2 stride 2 no pad", Shape{1, 8, 8, 3}, 2, 2, 2, 2, {0, 0, 0, 0}},
      {"3x2 stride 1x2, asymmetric pad", Shape{1, 7, 9, 1}, 3, 2, 1, 2, {0, 1, 1, 0}},
      {"3x3 stride 1 pad 1 (same), batch 2", Shape{2, 5, 6, 4}, 3, 3, 1, 1, {1, 1, 1, 1}},
      {"5x5 pad 2 on a 3x3 input", Shape{1, 3, 3, 2}, 5, 5, 1, 1, {2, 2, 2, 2}},
      {"global-size window", Shape{1, 4, 6, 3}, 4, 6, 1, 1, {0, 0, 0, 0}},
  };
  for (PoolOp op : {PoolOp::kMax, PoolOp::kAverage})
    for (const Case& c : cases) {
      INFO((op == PoolOp::kMax ? "max " : "average ") << c.label);
      ModelBuilder b;
      const int x = b.add_input("x", c.input);
      Pool2DParams p;
      p.filter_h = c.fh;
      p.filter_w = c.fw;
      p.stride_h = c.sh;
      p.stride_w = c.sw;
      p.pad_top = c.pads_tlbr[0];
      p.pad_left = c.pads_tlbr[1];
      p.pad_bottom = c.pads_tlbr[2];
      p.pad_right = c.pads_tlbr[3];
      expect_matches_reference(finish(b, {must(b.pool2d("pool", op, x, p))}));
    }
  SECTION("fused activation ranges") {
    for (PoolOp op : {PoolOp::kMax, PoolOp::kAverage})
      for (const Activation& act : activations()) {
        INFO(describe(act));
        ModelBuilder b;
        const int x = b.add_input("x", Shape{1, 6, 6, 3});
        Pool2DParams p;
        p.filter_h = p.filter_w = 3;
        p.stride_h = p.stride_w = 2;
        p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
        p.activation = act;
        expect_matches_reference(finish(b, {must(b.pool2d("pool", op, x, p))}));
      }
  }
}

TEST_CASE("MEAN over height and width matches the reference", "[kernels][mean]") {
  for (bool keep : {true, false})
    for (const Shape& s :
         {Shape{1, 7, 7, 17}, Shape{2, 5, 3, 3}, Shape{1, 1, 1, 5}, Shape{1, 14, 14, 1}}) {
      INFO("keep_dims " << keep << ", input " << s.to_string());
      ModelBuilder b;
      const int x = b.add_input("x", s);
      const int y = must(b.mean("mean", x, keep));
      REQUIRE(b.shape(y) == (keep ? Shape{s[0], 1, 1, s[3]} : Shape{s[0], s[3]}));
      expect_matches_reference(finish(b, {y}));
    }
}

TEST_CASE("PAD matches the reference", "[kernels][pad]") {
  struct Case {
    const char* label;
    Shape input;
    std::vector<int> before, after;
    float value;
  };
  const std::vector<Case> cases = {
      {"spatial, value 0.75", Shape{1, 5, 6, 3}, {0, 1, 2, 0}, {0, 2, 0, 1}, 0.75f},
      {"channels, value -1", Shape{1, 3, 3, 5}, {0, 0, 0, 1}, {0, 0, 0, 2}, -1.f},
      {"zero value, all dims", Shape{1, 2, 3, 4}, {1, 1, 1, 1}, {1, 0, 2, 3}, 0.f},
      {"rank 2", Shape{3, 17}, {2, 0}, {0, 3}, 2.5f},
      {"no padding", Shape{1, 3, 3, 3}, {0, 0, 0, 0}, {0, 0, 0, 0}, 1.f},
  };
  for (const Case& c : cases) {
    INFO(c.label);
    ModelBuilder b;
    const int x = b.add_input("x", c.input);
    expect_matches_reference(finish(b, {must(b.pad("pad", x, c.before, c.after, c.value))}));
  }
}

TEST_CASE("RESIZE matches the reference for every mode and coordinate rule", "[kernels][resize]") {
  const std::vector<std::pair<const char*, ResizeMode>> modes = {
      {"bilinear", ResizeMode::kBilinear}, {"nearest", ResizeMode::kNearest}};
  const std::vector<std::pair<const char*, ResizeCoordinates>> coords = {
      {"half_pixel", ResizeCoordinates::kHalfPixel},
      {"align_corners", ResizeCoordinates::kAlignCorners},
      {"asymmetric", ResizeCoordinates::kAsymmetric}};
  struct Size {
    const char* label;
    Shape input;
    int h, w;
  };
  const std::vector<Size> sizes = {
      {"up 2x", Shape{1, 4, 4, 3}, 8, 8},
      {"up odd 5x7 -> 11x16", Shape{1, 5, 7, 3}, 11, 16},
      {"down 9x10 -> 4x6", Shape{1, 9, 10, 5}, 4, 6},
      {"down 2x", Shape{1, 8, 8, 1}, 4, 4},
      {"mixed 6x4 -> 3x9, batch 2", Shape{2, 6, 4, 17}, 3, 9},
      {"to 1x1", Shape{1, 5, 5, 2}, 1, 1},
      {"same size", Shape{1, 3, 5, 3}, 3, 5},
  };
  for (const auto& [mode_name, mode] : modes)
    for (const auto& [coord_name, coord] : coords)
      for (const Size& s : sizes) {
        INFO(mode_name << " " << coord_name << " " << s.label);
        ModelBuilder b;
        const int x = b.add_input("x", s.input);
        expect_matches_reference(finish(b, {must(b.resize("resize", x, s.h, s.w, mode, coord))}));
      }
}

TEST_CASE("SOFTMAX matches the reference for beta 1 and 0.5", "[kernels][softmax]") {
  for (float beta : {1.f, 0.5f, 2.f})
    for (const Shape& s : {Shape{1, 5}, Shape{2, 3, 17}, Shape{1, 4, 4, 21}, Shape{3, 1}}) {
      INFO("beta " << beta << ", shape " << s.to_string());
      ModelBuilder b;
      const int x = b.add_input("x", s);
      // Logits up to +-8 exercise the max subtraction.
      expect_matches_reference(finish(b, {must(b.softmax("softmax", x, beta))}),
                               {{"x", {-8.f, 8.f}}});
    }
}

TEST_CASE("elementwise operators match the reference", "[kernels][elementwise]") {
  // 5 = a tail shorter than any vector, 5445 = several 4096-value parallel blocks plus a tail.
  const std::vector<Shape> shapes = {Shape{1, 3, 5, 17}, Shape{5}, Shape{1, 33, 33, 5},
                                     Shape{2, 1, 1, 1}};
  SECTION("CLAMP") {
    const std::vector<std::pair<float, float>> ranges = {
        {0.f, 6.f}, {-0.5f, 0.25f}, {0.f, kInf}, {-kInf, 0.1f}, {-kInf, kInf}};
    for (const auto& [lo, hi] : ranges)
      for (const Shape& s : shapes) {
        INFO("clamp [" << lo << ", " << hi << "] " << s.to_string());
        ModelBuilder b;
        const int x = b.add_input("x", s);
        expect_matches_reference(finish(b, {must(b.clamp("clamp", x, lo, hi))}),
                                 {{"x", {-8.f, 8.f}}});
      }
  }
  SECTION("HARD_SWISH, SIGMOID, TANH") {
    const std::vector<std::pair<const char*, UnaryOp>> ops = {{"hard_swish", UnaryOp::kHardSwish},
                                                              {"sigmoid", UnaryOp::kSigmoid},
                                                              {"tanh", UnaryOp::kTanh}};
    for (const auto& [name, op] : ops)
      for (const Shape& s : shapes) {
        INFO(name << " " << s.to_string());
        ModelBuilder b;
        const int x = b.add_input("x", s);
        expect_matches_reference(finish(b, {must(b.unary("op", op, x))}), {{"x", {-6.f, 6.f}}});
      }
  }
  SECTION("LEAKY_RELU") {
    for (float slope : {0.01f, 0.1f, 0.f, -0.5f, 1.5f})
      for (const Shape& s : shapes) {
        INFO("slope " << slope << " " << s.to_string());
        ModelBuilder b;
        const int x = b.add_input("x", s);
        expect_matches_reference(finish(b, {must(b.leaky_relu("leaky", x, slope))}));
      }
  }
  SECTION("PRELU with one slope per last-dim channel") {
    for (const Shape& s :
         {Shape{1, 4, 4, 17}, Shape{1, 3, 3, 1}, Shape{2, 5, 3}, Shape{1, 33, 33, 5}})
      for (bool rank1_slope : {true, false}) {
        INFO(s.to_string() << (rank1_slope ? " slope [C]" : " slope [1,1,C]"));
        ModelBuilder b;
        const int x = b.add_input("x", s);
        const int64_t c = s[s.rank() - 1];
        const int slope =
            random_constant(b, "slope", rank1_slope ? Shape{c} : Shape{1, 1, c}, 51, 0.5f);
        expect_matches_reference(finish(b, {must(b.prelu("prelu", x, slope))}));
      }
  }
}

TEST_CASE("DEPTH_TO_SPACE matches the reference", "[kernels][depth_to_space]") {
  struct Case {
    Shape input;
    int block;
  };
  for (const Case& c :
       {Case{Shape{1, 3, 4, 8}, 2}, Case{Shape{1, 2, 3, 4}, 2}, Case{Shape{2, 3, 3, 20}, 2},
        Case{Shape{1, 2, 2, 18}, 3}, Case{Shape{1, 5, 7, 68}, 2}}) {
    INFO(c.input.to_string() << " block " << c.block);
    ModelBuilder b;
    const int x = b.add_input("x", c.input);
    expect_matches_reference(finish(b, {must(b.depth_to_space("d2s", x, c.block))}));
  }
}

TEST_CASE("RESHAPE keeps the values in order", "[kernels][reshape]") {
  for (const Shape& target :
       {Shape{1, 16, 6}, Shape{96}, Shape{2, 2, 2, 2, 6}, Shape{1, 4, 4, 6}}) {
    INFO("to " << target.to_string());
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 4, 4, 6});
    // After a convolution, so the copy reads an arena tensor rather than the model input.
    const int w = random_constant(b, "w", Shape{6, 1, 1, 6}, 61, 0.5f);
    const int conv = must(b.conv2d("conv", x, w, -1, conv_params(1, 1, 1, 1, {0, 0, 0, 0}, 1)));
    const int r = must(b.reshape("reshape", conv, target));
    expect_matches_reference(finish(b, {r}));
  }
  SECTION("reshape of a model input, then consumed by another operator") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{2, 12});
    const int r = must(b.reshape("reshape", x, Shape{1, 2, 3, 4}));
    const int y = must(b.unary("sigmoid", UnaryOp::kSigmoid, r));
    expect_matches_reference(finish(b, {y, r}));
  }
}

TEST_CASE("CONCATENATION joins three inputs on any axis", "[kernels][concat]") {
  struct Case {
    const char* label;
    std::vector<Shape> inputs;
    int axis;
  };
  const std::vector<Case> cases = {
      {"axis 1", {Shape{1, 2, 3, 5}, Shape{1, 4, 3, 5}, Shape{1, 1, 3, 5}}, 1},
      {"axis 3, channels 1/3/17", {Shape{1, 3, 3, 1}, Shape{1, 3, 3, 3}, Shape{1, 3, 3, 17}}, 3},
      {"axis -1, rank 3", {Shape{2, 3, 4}, Shape{2, 3, 1}, Shape{2, 3, 5}}, -1},
      {"axis 0", {Shape{1, 2, 2, 3}, Shape{2, 2, 2, 3}, Shape{1, 2, 2, 3}}, 0},
      {"axis 2", {Shape{1, 2, 1, 3}, Shape{1, 2, 5, 3}, Shape{1, 2, 2, 3}}, 2},
      {"axis -3", {Shape{1, 1, 3, 2}, Shape{1, 2, 3, 2}, Shape{1, 3, 3, 2}}, -3},
  };
  for (const Case& c : cases) {
    INFO(c.label);
    ModelBuilder b;
    std::vector<int> ins;
    for (size_t i = 0; i < c.inputs.size(); ++i)
      ins.push_back(b.add_input("x" + std::to_string(i), c.inputs[i]));
    expect_matches_reference(finish(b, {must(b.concatenation("concat", ins, c.axis))}));
  }
  SECTION("fused activation ranges") {
    for (const Activation& act : activations()) {
      INFO(describe(act));
      ModelBuilder b;
      const int x0 = b.add_input("x0", Shape{1, 2, 2, 3});
      const int x1 = b.add_input("x1", Shape{1, 2, 2, 5});
      const int x2 = b.add_input("x2", Shape{1, 2, 2, 1});
      expect_matches_reference(finish(b, {must(b.concatenation("concat", {x0, x1, x2}, -1, act))}));
    }
  }
  SECTION("a constant and the same tensor twice") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 2, 2, 3});
    const int k = random_constant(b, "k", Shape{1, 2, 2, 2}, 71, 1.f);
    expect_matches_reference(finish(b, {must(b.concatenation("concat", {x, k, x}, 3))}));
  }
}

TEST_CASE("TRANSPOSE matches the reference for several permutations", "[kernels][transpose]") {
  struct Case {
    Shape input;
    std::vector<int> perm;
  };
  const std::vector<Case> cases = {
      {Shape{1, 3, 4, 5}, {0, 3, 1, 2}},
      {Shape{1, 3, 4, 5}, {0, 2, 3, 1}},
      {Shape{2, 3, 4, 5}, {3, 2, 1, 0}},
      {Shape{2, 3, 4, 5}, {0, 1, 3, 2}},
      {Shape{3, 5, 7}, {2, 0, 1}},
      {Shape{17, 3}, {1, 0}},
      {Shape{2, 3, 1, 4, 5}, {4, 0, 3, 1, 2}},
      {Shape{1, 3, 4, 5}, {0, 1, 2, 3}},
  };
  for (const Case& c : cases) {
    std::string perm;
    for (int p : c.perm) perm += std::to_string(p) + " ";
    INFO(c.input.to_string() << " perm " << perm);
    ModelBuilder b;
    const int x = b.add_input("x", c.input);
    expect_matches_reference(finish(b, {must(b.transpose("transpose", x, c.perm))}));
  }
}

TEST_CASE("a small chain of operators matches the reference", "[kernels][chain]") {
  // Exercises arena reuse between operators: conv -> hard_swish -> pool -> depthwise -> add
  // (residual) -> resize -> concat -> mean -> fc -> softmax, with two task outputs.
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 16, 16, 3});
  const int w0 = random_constant(b, "w0", Shape{8, 3, 3, 3}, 81, 0.5f);
  const int c0 = must(b.conv2d("c0", x, w0, random_constant(b, "b0", Shape{8}, 82, 0.1f),
                               conv_params(2, 2, 1, 1, {0, 0, 1, 1}, 1)));
  const int h0 = must(b.unary("h0", UnaryOp::kHardSwish, c0));
  Pool2DParams pp;
  pp.filter_h = pp.filter_w = 3;
  pp.pad_top = pp.pad_left = pp.pad_bottom = pp.pad_right = 1;
  const int p0 = must(b.pool2d("p0", PoolOp::kMax, h0, pp));
  const int dw = random_constant(b, "dw", Shape{8, 3, 3, 1}, 83, 0.5f);
  const int d0 = must(
      b.conv2d("d0", p0, dw, -1, conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 8, Activation::relu6())));
  const int a0 = must(b.binary("a0", BinaryOp::kAdd, d0, h0));
  const int r0 = must(b.resize("r0", a0, 16, 16, ResizeMode::kBilinear));
  const int cat = must(b.concatenation("cat", {r0, x}, 3));
  const int m0 = must(b.mean("m0", cat, false));
  const int fw = random_constant(b, "fw", Shape{10, 11}, 84, 0.5f);
  const int fc = must(b.fully_connected("fc", m0, fw, -1));
  const int sm = must(b.softmax("sm", fc));
  expect_matches_reference(finish(b, {sm, cat}));
}

TEST_CASE("edge cases the schema allows", "[kernels][edge]") {
  SECTION("CONV_2D: padding wider than the kernel, 1x1 stride 2, one output per group") {
    expect_matches_reference(conv_model({"pad 2 on 1x1", Shape{1, 4, 5, 3}, 4, 1, 1,
                                         conv_params(1, 1, 1, 1, {2, 2, 2, 2}, 1), true}));
    expect_matches_reference(conv_model({"1x1 stride 2", Shape{1, 7, 7, 5}, 3, 1, 1,
                                         conv_params(2, 2, 1, 1, {0, 0, 0, 0}, 1), true}));
    expect_matches_reference(conv_model({"groups 4, 8 -> 4", Shape{1, 5, 5, 8}, 4, 3, 3,
                                         conv_params(1, 1, 1, 1, {1, 1, 1, 1}, 4), true}));
    expect_matches_reference(conv_model({"depthwise multiplier 3, dilation 2", Shape{1, 9, 9, 2}, 6,
                                         3, 3, conv_params(1, 1, 2, 2, {2, 2, 2, 2}, 2), false}));
  }
  SECTION("FULLY_CONNECTED on a [1,1,1,K] input") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 1, 1, 17});
    const int w = random_constant(b, "w", Shape{5, 17}, 91, 0.5f);
    expect_matches_reference(finish(b, {must(b.fully_connected("fc", x, w, -1))}));
  }
  SECTION("RESIZE from a 1x1 input") {
    for (ResizeCoordinates c : {ResizeCoordinates::kHalfPixel, ResizeCoordinates::kAlignCorners,
                                ResizeCoordinates::kAsymmetric})
      for (ResizeMode m : {ResizeMode::kBilinear, ResizeMode::kNearest}) {
        ModelBuilder b;
        const int x = b.add_input("x", Shape{1, 1, 1, 3});
        expect_matches_reference(finish(b, {must(b.resize("resize", x, 5, 4, m, c))}));
      }
  }
  SECTION("pooling with stride larger than the window") {
    for (PoolOp op : {PoolOp::kMax, PoolOp::kAverage}) {
      ModelBuilder b;
      const int x = b.add_input("x", Shape{1, 9, 9, 3});
      Pool2DParams p;
      p.filter_h = p.filter_w = 2;
      p.stride_h = p.stride_w = 3;
      expect_matches_reference(finish(b, {must(b.pool2d("pool", op, x, p))}));
    }
  }
  SECTION("1x1 pooling with stride 2 (subsampling)") {
    for (PoolOp op : {PoolOp::kMax, PoolOp::kAverage}) {
      INFO((op == PoolOp::kMax ? "max" : "average"));
      ModelBuilder b;
      const int x = b.add_input("x", Shape{1, 8, 8, 3});
      Pool2DParams p;
      p.stride_h = p.stride_w = 2;
      expect_matches_reference(finish(b, {must(b.pool2d("pool", op, x, p))}));
    }
  }
  SECTION("a fused activation with min == max") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 4, 4, 3});
    const int w = random_constant(b, "w", Shape{2, 1, 1, 3}, 92, 0.5f);
    expect_matches_reference(
        finish(b, {must(b.conv2d("conv", x, w, -1,
                                 conv_params(1, 1, 1, 1, {0, 0, 0, 0}, 1, {0.25f, 0.25f})))}));
  }
  SECTION("CLAMP with min == max") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 4, 4, 3});
    expect_matches_reference(finish(b, {must(b.clamp("clamp", x, 0.5f, 0.5f))}));
  }
  SECTION("TRANSPOSE_CONV_2D with padding wider than the kernel") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 6, 6, 2});
    const int w = random_constant(b, "w", Shape{3, 2, 2, 2}, 93, 0.5f);
    TransposeConv2DParams p;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 2;
    expect_matches_reference(finish(b, {must(b.transpose_conv2d("deconv", x, w, -1, p))}));
  }
  SECTION("rank 6 broadcasting, transpose and pad") {
    ModelBuilder b;
    const int x = b.add_input("a", Shape{2, 1, 3, 1, 2, 1});
    const int y = b.add_input("b", Shape{1, 4, 1, 5, 1, 3});
    const int sum = must(b.binary("add", BinaryOp::kAdd, x, y));
    const int t = must(b.transpose("transpose", sum, {5, 3, 1, 0, 4, 2}));
    const int p = must(b.pad("pad", t, {0, 1, 0, 0, 1, 0}, {1, 0, 0, 1, 0, 0}, -2.f));
    expect_matches_reference(finish(b, {sum, t, p}));
  }
  SECTION("CONCATENATION of rank 1 tensors and of a single input") {
    ModelBuilder b;
    const int x0 = b.add_input("x0", Shape{3});
    const int x1 = b.add_input("x1", Shape{17});
    const int x2 = b.add_input("x2", Shape{1});
    const int c3 = must(b.concatenation("c3", {x0, x1, x2}, 0));
    const int c1 = must(b.concatenation("c1", {x1}, -1, Activation::relu()));
    expect_matches_reference(finish(b, {c3, c1}));
  }
  SECTION("SOFTMAX over a single channel and HARD_SWISH at its breakpoints") {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{4, 1});
    const int s = must(b.softmax("softmax", x, 0.5f));
    const int h = b.add_constant("h", Shape{7}, {-4.f, -3.f, -1.5f, 0.f, 1.5f, 3.f, 4.f});
    const int hs = must(b.unary("hs", UnaryOp::kHardSwish, h));
    expect_matches_reference(finish(b, {s, hs}));
  }
}
