// Polyhead's own kernels against XNNPACK's operator for the same layer, in one program and one
// run: the dense convolution for large weights (ResNet-50's layer3 and layer4), the narrow row
// convolutions (pose landmarks), PAD, and SILU against the SIGMOID + MUL pair it replaced.
//
// Each layer runs as a one-node Polyhead model through the engine (the node's own time, Plan
// profiling) and as the same operator(s) called directly through XNNPACK's C API, with the same
// weights and input, at 1 and 2 threads. Names are LAYER/SIDE/threads:N, registered so that the
// two sides of a layer run one after the other. Before a layer's first timing both sides run once
// and must agree within 1e-4 of the output's largest magnitude, or both are skipped with an
// error: a benchmark of a wrong kernel is worthless.
//
//   bench_own_vs_xnnpack --benchmark_filter=dense --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <pthreadpool.h>
#include <xnnpack.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/model_builder.h"

namespace {

using polyhead::Shape;

enum class Kind { kDense, kRow, kPad, kSilu };

// One layer, batch 1, NHWC. Convolutions: `out` channels, a square kernel, the same padding on
// every side. PAD: `pad` zeros on each side of H and W. SILU: elementwise over the input.
struct Layer {
  Kind kind;
  std::string name;
  int h = 0, w = 0, c = 0;
  int out = 0, kernel = 1, stride = 1, pad = 0;
  bool depthwise = false;

  int out_h() const { return (h + 2 * pad - kernel) / stride + 1; }
  int out_w() const { return (w + 2 * pad - kernel) / stride + 1; }
  int out_c() const { return kind == Kind::kDense || kind == Kind::kRow ? out : c; }
  size_t out_elements() const { return static_cast<size_t>(out_h() * out_w() * out_c()); }
  size_t in_elements() const { return static_cast<size_t>(h * w * c); }
  size_t weight_elements() const {
    return static_cast<size_t>(out * kernel * kernel * (depthwise ? 1 : c));
  }
  uint64_t macs() const {
    if (kind != Kind::kDense && kind != Kind::kRow) return 0;
    return static_cast<uint64_t>(out_h() * out_w()) * weight_elements();
  }
};

Layer conv(Kind kind, const std::string& name, int size, int in, int out, int kernel, int stride,
           bool depthwise = false) {
  return {kind, name, size, size, in, out, kernel, stride, kernel / 2, depthwise};
}

std::vector<Layer> layers() {
  const Kind d = Kind::kDense, r = Kind::kRow;
  return {
      conv(d, "dense/resnet50_layer3_3x3", 14, 256, 256, 3, 1),
      conv(d, "dense/resnet50_layer3_3x3_s2", 28, 256, 256, 3, 2),
      conv(d, "dense/resnet50_layer3_1x1_1024to256", 14, 1024, 256, 1, 1),
      conv(d, "dense/resnet50_layer4_3x3", 7, 512, 512, 3, 1),
      conv(d, "dense/resnet50_layer4_3x3_s2", 14, 512, 512, 3, 2),
      conv(d, "dense/resnet50_layer4_1x1_2048to512", 7, 2048, 512, 1, 1),
      conv(d, "dense/resnet50_layer4_1x1_512to2048", 7, 512, 2048, 1, 1),
      conv(d, "dense/resnet50_layer4_downsample_s2", 14, 1024, 2048, 1, 2),
      conv(r, "row/pose_dw3x3_256x256x8", 256, 8, 8, 3, 1, true),
      conv(r, "row/pose_dw3x3_128x128x8", 128, 8, 8, 3, 1, true),
      conv(r, "row/pose_3x3_256x256x8to1", 256, 8, 1, 3, 1),
      {Kind::kPad, "pad/256x256x3", 256, 256, 3, 0, 1, 1, 1},
      {Kind::kPad, "pad/128x128x32", 128, 128, 32, 0, 1, 1, 1},
      {Kind::kSilu, "silu/112x112x96", 112, 112, 96},
      {Kind::kSilu, "silu/56x56x144", 56, 56, 144},
      {Kind::kSilu, "silu/14x14x480", 14, 14, 480},
  };
}

// Uniform in [-scale, scale), the same sequence for both sides.
std::vector<float> random_values(size_t count, uint32_t seed, float scale) {
  std::vector<float> v(count);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = (static_cast<float>(seed >> 8) / static_cast<float>(1u << 23) - 1.f) * scale;
  }
  return v;
}

// Products summed into each output of a convolution: weights scaled by 1/sqrt of it keep the
// outputs near the inputs' magnitude.
float fan_in(const Layer& l) {
  return static_cast<float>(l.kernel * l.kernel * (l.depthwise ? 1 : l.c));
}

// Inputs and constants of a layer; weights OHWI, which is also XNNPACK's layout.
struct Tensors {
  std::vector<float> input, weights, bias;
  explicit Tensors(const Layer& l)
      : input(random_values(l.in_elements(), 1, 4.f)),
        weights(random_values(l.weight_elements(), 2, 1.f / std::sqrt(fan_in(l)))),
        bias(random_values(static_cast<size_t>(l.out), 3, 0.1f)) {}
};

// Which kernel the engine picks for the layer on this CPU (kernels/src/own_*.cc's conditions).
std::string polyhead_kernel(const Layer& l) {
  const auto isa = polyhead::kernels::selected_isa();
  const auto* v = isa.is_ok() ? polyhead::kernels::kernel_variant(*isa) : nullptr;
  if (!v) return "no variant";
  if (l.kind == Kind::kDense) {
    const auto k = static_cast<size_t>(l.kernel * l.kernel * l.c);
    const bool own = v->f32_igemm && v->f32_igemm->packed_bytes(static_cast<size_t>(l.out), k) >
                                         polyhead::kernels::l2_cache_bytes() / 2;
    return own ? "own igemm" : "XNNPACK (weights fit L2/2)";
  }
  if (l.kind == Kind::kRow) return v->multiply_add_taps ? "own row conv" : "XNNPACK";
  return "own";
}

// The layer as a one-node model: input "x" -> node -> task "out", output "y".
polyhead::Result<std::vector<uint8_t>> one_node_model(const Layer& l, const Tensors& t) {
  polyhead::ModelBuilder b;
  const int x = b.add_input("x", Shape{1, l.h, l.w, l.c});
  int y = -1;
  if (l.kind == Kind::kPad) {
    PH_ASSIGN_OR_RETURN(y, b.pad("pad", x, {0, l.pad, l.pad, 0}, {0, l.pad, l.pad, 0}));
  } else if (l.kind == Kind::kSilu) {
    PH_ASSIGN_OR_RETURN(y, b.silu("silu", x));
  } else {
    const int w =
        b.add_constant("w", Shape{l.out, l.kernel, l.kernel, l.depthwise ? 1 : l.c}, t.weights);
    const int bias = b.add_constant("b", Shape{l.out}, t.bias);
    polyhead::Conv2DParams p;
    p.stride_h = p.stride_w = l.stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = l.pad;
    p.groups = l.depthwise ? l.c : 1;
    PH_ASSIGN_OR_RETURN(y, b.conv2d("conv", x, w, bias, p));
  }
  PH_RETURN_IF_ERROR(b.add_task("out", polyhead::TaskKind::kOther, {{"y", y}}));
  return b.finish();
}

// The layer through the engine, prepared with profiling on.
struct PolyheadLayer {
  std::optional<polyhead::Engine> engine;
  std::optional<polyhead::Plan> plan;

  std::string create(const Layer& l, const Tensors& t, size_t threads) {
    auto bytes = one_node_model(l, t);
    if (!bytes.is_ok()) return bytes.status().to_string();
    auto model = polyhead::Model::from_bytes(*bytes);
    if (!model.is_ok()) return model.status().to_string();
    polyhead::EngineOptions options;
    options.threads = threads;
    auto e = polyhead::Engine::create(*model, options);
    if (!e.is_ok()) return e.status().to_string();
    engine.emplace(std::move(e).value());
    auto p = engine->prepare();
    if (!p.is_ok()) return p.status().to_string();
    plan.emplace(std::move(p).value());
    const polyhead::Status s = plan->set_input("x", t.input.data(), t.input.size());
    if (!s.is_ok()) return s.to_string();
    plan->set_profiling(true);
    return "";
  }
  // The node's time in seconds, or a negative value when the run failed.
  double run() {
    if (!plan->run().is_ok()) return -1.0;
    return static_cast<double>(plan->node_times_ns().back()) * 1e-9;
  }
  const float* output() const {
    auto view = plan->output("out", "y");
    return view.is_ok() ? view->f32() : nullptr;
  }
};

// The layer through XNNPACK's operators as Polyhead called them before its own kernels (the
// argument order of kernels/src/xnnpack_float_operators.h); SILU is SIGMOID then MULTIPLY.
class XnnpackLayer {
 public:
  XnnpackLayer() = default;
  XnnpackLayer(const XnnpackLayer&) = delete;
  XnnpackLayer& operator=(const XnnpackLayer&) = delete;
  ~XnnpackLayer() {
    for (xnn_operator_t op : ops_) xnn_delete_operator(op);
    if (pool_) pthreadpool_destroy(pool_);
  }

  std::string create(const Layer& l, const Tensors& t, size_t threads) {
    // As the engine: no pool for one thread (runtime/src/thread_pool.cc).
    if (threads > 1) pool_ = pthreadpool_create(threads);
    input_ = t.input;
    output_.resize(l.out_elements());
    const float inf = std::numeric_limits<float>::infinity();
    const std::array<size_t, 4> shape = {1, static_cast<size_t>(l.h), static_cast<size_t>(l.w),
                                         static_cast<size_t>(l.c)};
    xnn_operator_t op = nullptr;
    if (l.kind == Kind::kPad) {
      const auto p = static_cast<size_t>(l.pad);
      const std::array<size_t, 4> around = {0, p, p, 0};
      if (xnn_create_constant_pad_nd_x32(&zero_, 0, &op) != xnn_status_success)
        return "xnn_create_constant_pad_nd_x32 failed";
      ops_.push_back(op);
      if (xnn_setup_constant_pad_nd_x32(op, 4, shape.data(), around.data(), around.data(),
                                        input_.data(), output_.data(), pool_) != xnn_status_success)
        return "xnn_setup_constant_pad_nd_x32 failed";
    } else if (l.kind == Kind::kSilu) {
      const auto c = static_cast<size_t>(l.c);
      sigmoid_.resize(l.in_elements());
      if (xnn_create_sigmoid_nc_f32(c, c, c, 0, &op) != xnn_status_success)
        return "xnn_create_sigmoid_nc_f32 failed";
      ops_.push_back(op);
      if (xnn_setup_sigmoid_nc_f32(op, l.in_elements() / c, input_.data(), sigmoid_.data(),
                                   pool_) != xnn_status_success)
        return "xnn_setup_sigmoid_nc_f32 failed";
      if (xnn_create_multiply_nd_f32(-inf, inf, 0, &op) != xnn_status_success)
        return "xnn_create_multiply_nd_f32 failed";
      ops_.push_back(op);
      if (xnn_setup_multiply_nd_f32(op, 4, shape.data(), 4, shape.data(), input_.data(),
                                    sigmoid_.data(), output_.data(), pool_) != xnn_status_success)
        return "xnn_setup_multiply_nd_f32 failed";
    } else {
      const auto groups = static_cast<uint32_t>(l.depthwise ? l.c : 1);
      const auto pad = static_cast<uint32_t>(l.pad), k = static_cast<uint32_t>(l.kernel),
                 s = static_cast<uint32_t>(l.stride);
      if (xnn_create_convolution2d_nhwc_f32(
              pad, pad, pad, pad, k, k, s, s, 1, 1, groups, l.depthwise ? 1 : l.c,
              static_cast<size_t>(l.out) / groups, l.c, l.out, t.weights.data(), t.bias.data(),
              -inf, inf, 0, &op) != xnn_status_success)
        return "xnn_create_convolution2d_nhwc_f32 failed";
      ops_.push_back(op);
      if (xnn_setup_convolution2d_nhwc_f32(op, 1, l.h, l.w, input_.data(), output_.data(), pool_) !=
          xnn_status_success)
        return "xnn_setup_convolution2d_nhwc_f32 failed";
    }
    return "";
  }
  // Wall time of the operators in seconds, or a negative value when one failed.
  double run() {
    const auto start = std::chrono::steady_clock::now();
    for (xnn_operator_t op : ops_)
      if (xnn_run_operator(op, pool_) != xnn_status_success) return -1.0;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const float* output() const { return output_.data(); }

 private:
  std::vector<xnn_operator_t> ops_;
  pthreadpool_t pool_ = nullptr;
  std::vector<float> input_, sigmoid_, output_;
  float zero_ = 0.f;
};

// Empty when both sides agree within 1e-4 of the largest output magnitude; computed once per
// layer and thread count, before the first timing of either side.
std::string verdict(const Layer& l, size_t threads, PolyheadLayer& ours, XnnpackLayer& theirs) {
  static std::map<std::string, std::string> verdicts;
  const std::string key = l.name + "/threads:" + std::to_string(threads);
  const auto found = verdicts.find(key);
  if (found != verdicts.end()) return found->second;
  std::string& v = verdicts[key];
  if (ours.run() < 0 || theirs.run() < 0) return v = "a run failed";
  const float* a = ours.output();
  const float* b = theirs.output();
  if (!a) return v = "no float output";
  double max_diff = 0, max_abs = 0;
  // Ternaries, not std::fmax: GCC 12's aarch64 vectoriser crashes on an fmax reduction.
  for (size_t i = 0; i < l.out_elements(); ++i) {
    const double diff = std::fabs(static_cast<double>(a[i]) - b[i]);
    const double magnitude = std::fabs(static_cast<double>(b[i]));
    max_diff = diff > max_diff ? diff : max_diff;
    max_abs = magnitude > max_abs ? magnitude : max_abs;
  }
  if (max_diff > 1e-4 * max_abs) {
    char text[128];
    std::snprintf(text, sizeof text, "outputs differ: max |polyhead - xnnpack| %.3g, max |y| %.3g",
                  max_diff, max_abs);
    v = text;
    std::fprintf(stderr, "MISMATCH %s: %s\n", key.c_str(), v.c_str());
  }
  return v;
}

void run_layer(benchmark::State& state, const Layer& l, bool polyhead_side, size_t threads) {
  const Tensors t(l);
  PolyheadLayer ours;
  XnnpackLayer theirs;
  std::string error = ours.create(l, t, threads);
  if (error.empty()) error = theirs.create(l, t, threads);
  if (error.empty()) error = verdict(l, threads, ours, theirs);
  if (!error.empty()) return state.SkipWithError(error.c_str());
  if (polyhead_side) state.SetLabel(polyhead_kernel(l));
  double total = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    const double seconds = polyhead_side ? ours.run() : theirs.run();
    if (seconds < 0) return state.SkipWithError("run failed");
    state.SetIterationTime(seconds);
    total += seconds;
  }
  // From the measured times themselves, so the rate is the one of the reported time.
  if (l.macs() > 0 && total > 0)
    state.counters["GFLOP/s"] =
        2e-9 * static_cast<double>(l.macs()) * static_cast<double>(state.iterations()) / total;
}

}  // namespace

int main(int argc, char** argv) {
  if (xnn_initialize(nullptr) != xnn_status_success) {
    std::fprintf(stderr, "xnn_initialize failed\n");
    return 1;
  }
  // Per layer and thread count, Polyhead then XNNPACK, so the pairs run (and sort) together.
  for (const Layer& l : layers())
    for (const size_t threads : {1, 2})
      for (const bool polyhead_side : {true, false}) {
        const std::string name = l.name + (polyhead_side ? "/polyhead" : "/xnnpack") +
                                 "/threads:" + std::to_string(threads);
        // The library keeps the registered benchmarks until exit (the analyzer sees a leak).
        benchmark::RegisterBenchmark(name.c_str(), run_layer, l, polyhead_side, threads)  // NOLINT
            ->Unit(benchmark::kMicrosecond)
            ->UseManualTime();
      }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
