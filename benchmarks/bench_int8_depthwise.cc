// Polyhead's own int8 depthwise convolution against XNNPACK's qc8 depthwise convolution and the
// float convolution the kernel factory picks, on the depthwise layers of MobileNetV2 and the
// MediaPipe face, pose and selfie models, in one run (docs/int8.md, "Speed").
//
// Sides, per layer: `own` (the engine's int8 node, Polyhead's kernel), `xnnpack` (the same layer
// and weights through xnn_create_convolution2d_nhwc_qc8 directly) and `fp32` (the engine's float
// node). The engine sides time the node alone (Plan profiling; the int8 model's QUANTIZE of its
// float input is not counted). Before the first timing of a layer `own` and `xnnpack` run once and
// must agree within 1 LSB (95 % exactly), or the layer is skipped with an error.
//
//   bench_int8_depthwise --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"

namespace {

using polyhead::Shape;

struct Layer {
  std::string name;
  int h = 0, w = 0, c = 0, kernel = 3, stride = 1;

  int out_h() const { return (h + stride - 1) / stride; }
  int out_w() const { return (w + stride - 1) / stride; }
  // TensorFlow's SAME padding (the extra row and column at the end).
  int pad_total(int size, int out) const { return std::max((out - 1) * stride + kernel - size, 0); }
  uint64_t macs() const {
    return static_cast<uint64_t>(out_h()) * static_cast<uint64_t>(out_w()) *
           static_cast<uint64_t>(c) * static_cast<uint64_t>(kernel * kernel);
  }
};

std::vector<Layer> layers() {
  return {
      {"mobilenetv2/112x112x32_3x3_s1", 112, 112, 32, 3, 1},
      {"mobilenetv2/112x112x96_3x3_s2", 112, 112, 96, 3, 2},
      {"mobilenetv2/56x56x144_3x3_s1", 56, 56, 144, 3, 1},
      {"mobilenetv2/56x56x144_3x3_s2", 56, 56, 144, 3, 2},
      {"mobilenetv2/28x28x192_3x3_s1", 28, 28, 192, 3, 1},
      {"mobilenetv2/28x28x192_3x3_s2", 28, 28, 192, 3, 2},
      {"mobilenetv2/14x14x384_3x3_s1", 14, 14, 384, 3, 1},
      {"mobilenetv2/14x14x576_3x3_s1", 14, 14, 576, 3, 1},
      {"mobilenetv2/14x14x576_3x3_s2", 14, 14, 576, 3, 2},
      {"mobilenetv2/7x7x960_3x3_s1", 7, 7, 960, 3, 1},
      {"face/64x64x24_3x3_s1", 64, 64, 24, 3, 1},
      {"face/64x64x28_3x3_s2", 64, 64, 28, 3, 2},
      {"face/64x64x24_5x5_s1", 64, 64, 24, 5, 1},
      {"face/32x32x64_5x5_s2", 32, 32, 64, 5, 2},
      {"pose/256x256x8_3x3_s1", 256, 256, 8, 3, 1},
      {"pose/128x128x24_3x3_s1", 128, 128, 24, 3, 1},
      {"selfie/128x128x16_3x3_s1", 128, 128, 16, 3, 1},
      {"selfie/32x32x72_5x5_s1", 32, 32, 72, 5, 1},
      {"keras_detector/32x32x24_3x3_s1", 32, 32, 24, 3, 1},
      {"keras_detector/32x32x24_3x3_s2", 32, 32, 24, 3, 2},
  };
}

constexpr float kInScale = 2.f / 255.f, kWeightScale = 0.01f / 127.f, kOutScale = 6.f / 255.f;
constexpr int32_t kOutZero = -128;

std::vector<float> input_of(const Layer& l) {
  std::vector<float> x(static_cast<size_t>(l.h * l.w * l.c));
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.01f * static_cast<float>(i));
  return x;
}
std::vector<int8_t> weights_of(const Layer& l) {
  std::vector<int8_t> w(static_cast<size_t>(l.c * l.kernel * l.kernel));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<int8_t>(std::lround(127.f * std::sin(static_cast<float>(i))));
  return w;
}
std::vector<float> weight_scales(const Layer& l) {
  std::vector<float> s(static_cast<size_t>(l.c));
  for (size_t i = 0; i < s.size(); ++i) s[i] = kWeightScale * (1.f + 0.25f * std::sin(float(i)));
  return s;
}

// A one-node model: input -> conv (SAME padding, ReLU6) -> task output; in int8 the input is
// quantized first and the output stays int8.
polyhead::Result<std::vector<uint8_t>> model_of(const Layer& l, bool int8) {
  polyhead::ModelBuilder b;
  int x = b.add_input("x", Shape{1, l.h, l.w, l.c});
  const Shape ws{l.c, l.kernel, l.kernel, 1};
  const auto c = static_cast<size_t>(l.c);
  int weights = -1, bias = -1;
  if (int8) {
    PH_ASSIGN_OR_RETURN(x,
                        b.quantize("quantize", x, polyhead::Quantization::per_tensor(kInScale, 0)));
    const std::vector<float> scales = weight_scales(l);
    weights = b.add_constant_i8("w", ws, weights_of(l), {scales, std::vector<int32_t>(c, 0), 0});
    std::vector<float> bias_scales(c);
    for (size_t i = 0; i < c; ++i) bias_scales[i] = kInScale * scales[i];
    bias = b.add_constant_i32("b", Shape{l.c}, std::vector<int32_t>(c, 100),
                              {bias_scales, std::vector<int32_t>(c, 0), 0});
  } else {
    const std::vector<int8_t> q = weights_of(l);
    std::vector<float> w(q.size());
    for (size_t i = 0; i < q.size(); ++i) w[i] = kWeightScale * q[i];
    weights = b.add_constant("w", ws, w);
    bias = b.add_constant("b", Shape{l.c}, std::vector<float>(c, 0.01f));
  }
  polyhead::Conv2DParams p;
  p.stride_h = p.stride_w = l.stride;
  const int ph = l.pad_total(l.h, l.out_h()), pw = l.pad_total(l.w, l.out_w());
  p.pad_top = ph / 2, p.pad_bottom = ph - ph / 2;
  p.pad_left = pw / 2, p.pad_right = pw - pw / 2;
  p.groups = l.c;
  p.activation = polyhead::Activation::relu6();
  PH_ASSIGN_OR_RETURN(const int y, b.conv2d("conv", x, weights, bias, p));
  if (int8)
    PH_RETURN_IF_ERROR(
        b.set_quantization(y, polyhead::Quantization::per_tensor(kOutScale, kOutZero)));
  PH_RETURN_IF_ERROR(b.add_task("out", polyhead::TaskKind::kOther, {{"y", y}}));
  return b.finish();
}

// The engine side: a prepared plan with profiling on.
struct EngineSide {
  std::optional<polyhead::Model> model;
  std::optional<polyhead::Engine> engine;
  std::optional<polyhead::Plan> plan;
  std::string error;

  EngineSide(const Layer& l, bool int8, size_t threads) {
    auto bytes = model_of(l, int8);
    if (!bytes.is_ok()) {
      error = bytes.status().to_string();
      return;
    }
    auto m = polyhead::Model::from_bytes(*bytes);
    if (!m.is_ok()) {
      error = m.status().to_string();
      return;
    }
    model.emplace(std::move(*m));
    polyhead::EngineOptions options;
    options.threads = threads;
    options.choose_threads_per_node = false;
    auto e = polyhead::Engine::create(*model, options);
    if (!e.is_ok()) {
      error = e.status().to_string();
      return;
    }
    engine.emplace(std::move(*e));
    auto p = engine->prepare();
    if (!p.is_ok()) {
      error = p.status().to_string();
      return;
    }
    plan.emplace(std::move(*p));
    const std::vector<float> x = input_of(l);
    const polyhead::Status s = plan->set_input("x", x.data(), x.size());
    if (!s.is_ok()) {
      error = s.to_string();
      return;
    }
    plan->set_profiling(true);
  }
};

// The XNNPACK side: the qc8 convolution with groups = channels, on the input the int8 model's
// QUANTIZE makes.
struct XnnpackSide {
  xnn_operator_t op = nullptr;
  pthreadpool_t pool = nullptr;
  std::vector<int8_t> x, y;
  std::string error;

  XnnpackSide(const Layer& l, size_t threads) {
    if (xnn_initialize(nullptr) != xnn_status_success) {
      error = "xnn_initialize";
      return;
    }
    if (threads > 1) pool = pthreadpool_create(threads);
    for (float v : input_of(l))
      x.push_back(static_cast<int8_t>(std::clamp(std::nearbyint(v / kInScale), -128.f, 127.f)));
    y.resize(static_cast<size_t>(l.out_h() * l.out_w() * l.c));
    const std::vector<float> scales = weight_scales(l);
    const std::vector<int8_t> w = weights_of(l);
    const std::vector<int32_t> bias(static_cast<size_t>(l.c), 100);
    const int ph = l.pad_total(l.h, l.out_h()), pw = l.pad_total(l.w, l.out_w());
    const auto k = static_cast<uint32_t>(l.kernel), s = static_cast<uint32_t>(l.stride);
    const auto c = static_cast<size_t>(l.c);
    // ReLU6 in the output's int8: [0, 6] is [-128, 127] with these parameters.
    if (xnn_create_convolution2d_nhwc_qc8(
            static_cast<uint32_t>(ph / 2), static_cast<uint32_t>(pw - pw / 2),
            static_cast<uint32_t>(ph - ph / 2), static_cast<uint32_t>(pw / 2), k, k, s, s, 1, 1,
            static_cast<uint32_t>(l.c), 1, 1, c, c, 0, kInScale, scales.data(), w.data(),
            bias.data(), static_cast<int8_t>(kOutZero), kOutScale, -128, 127, 0,
            &op) != xnn_status_success) {
      error = "xnn_create_convolution2d_nhwc_qc8 failed";
      return;
    }
    if (xnn_setup_convolution2d_nhwc_qc8(op, 1, static_cast<size_t>(l.h), static_cast<size_t>(l.w),
                                         x.data(), y.data(), pool) != xnn_status_success) {
      error = "xnn_setup_convolution2d_nhwc_qc8 failed";
      return;
    }
  }
  ~XnnpackSide() {
    if (op) xnn_delete_operator(op);
    if (pool) pthreadpool_destroy(pool);
  }
  bool run() { return xnn_run_operator(op, pool) == xnn_status_success; }
};

void set_counters(benchmark::State& state, const Layer& l) {
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(l.macs()),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void run_engine(benchmark::State& state, const Layer& l, bool int8) {
  EngineSide side(l, int8, static_cast<size_t>(state.range(0)));
  if (!side.error.empty()) return state.SkipWithError(side.error.c_str());
  const size_t conv = side.plan->node_times_ns().size() - 1;  // the last node of the model
  if (int8) {  // the two int8 sides must agree before either is timed
    XnnpackSide x(l, 1);
    if (!x.error.empty() || !x.run()) return state.SkipWithError("XNNPACK side failed");
    if (!side.plan->run().is_ok()) return state.SkipWithError("own side failed");
    const auto* own = static_cast<const int8_t*>(side.plan->output("out", "y")->data);
    size_t exact = 0;
    int worst = 0;
    for (size_t i = 0; i < x.y.size(); ++i) {
      const int d = std::abs(own[i] - x.y[i]);
      exact += d == 0;
      worst = std::max(worst, d);
    }
    if (worst > 1 || exact * 100 < x.y.size() * 95)
      return state.SkipWithError("own and XNNPACK outputs disagree");
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    const polyhead::Status s = side.plan->run();
    if (!s.is_ok()) return state.SkipWithError(s.to_string().c_str());
    state.SetIterationTime(static_cast<double>(side.plan->node_times_ns()[conv]) * 1e-9);
  }
  set_counters(state, l);
}

void run_xnnpack(benchmark::State& state, const Layer& l) {
  XnnpackSide side(l, static_cast<size_t>(state.range(0)));
  if (!side.error.empty()) return state.SkipWithError(side.error.c_str());
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    const auto start = std::chrono::steady_clock::now();
    if (!side.run()) return state.SkipWithError("xnn_run_operator failed");
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  set_counters(state, l);
}

}  // namespace

int main(int argc, char** argv) {
  // Manual (wall) time: with threads, the calling thread's CPU time misleads. The three sides of a
  // layer are registered together so they run one after the other.
  for (const Layer& l : layers()) {
    // The library keeps the registered benchmarks until exit (the analyzer sees a leak).
    for (auto* b : {benchmark::RegisterBenchmark((l.name + "/own").c_str(), run_engine, l, true),
                    benchmark::RegisterBenchmark((l.name + "/xnnpack").c_str(), run_xnnpack, l),
                    benchmark::RegisterBenchmark((l.name + "/fp32").c_str(), run_engine, l,
                                                 false)})  // NOLINT
      b->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseManualTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
