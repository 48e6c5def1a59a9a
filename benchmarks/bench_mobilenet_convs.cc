// Every distinct convolution of MobileNetV2 (224x224, width 1.0) as a one-node model, run through
// the engine (so through the XNNPACK-backed kernel layer exactly as a full model runs it): the
// stem, the 1x1 expansions and projections, the 3x3 depthwise layers at stride 1 and 2, and the
// last 1x1. Reports time per run and FLOP/s (2 x MACs), at 1 and 2 threads, in fp32 and in int8
// (docs/int8.md: per-channel qc8 weights, XNNPACK's quantized convolution). The time is the
// convolution node's own (Plan profiling), so the int8 model's QUANTIZE of its float input is not
// counted and fp32 and int8 compare kernel against kernel.
//
//   bench_mobilenet_convs --benchmark_filter=dw    (only the depthwise layers)
//   bench_mobilenet_convs --benchmark_filter=int8  (only int8)
//   bench_mobilenet_convs --benchmark_filter=few   (1x1 layers with few channels, 1 thread)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"

namespace {

using polyhead::Shape;

struct ConvShape {
  std::string kind;  // "stem", "expand", "dw", "project", "last"
  int size = 0;      // input height = width
  int in = 0, out = 0;
  int kernel = 1, stride = 1;
  bool depthwise = false;

  std::string name() const {
    return kind + "_" + std::to_string(kernel) + "x" + std::to_string(kernel) + "_s" +
           std::to_string(stride) + "/" + std::to_string(size) + "x" + std::to_string(size) + "x" +
           std::to_string(in) + "->" + std::to_string(out);
  }
  uint64_t macs() const {
    const uint64_t out_size = static_cast<uint64_t>((size + stride - 1) / stride);
    const uint64_t per_output =
        static_cast<uint64_t>(kernel * kernel) * static_cast<uint64_t>(depthwise ? 1 : in);
    return out_size * out_size * static_cast<uint64_t>(out) * per_output;
  }
};

// The convolutions of MobileNetV2's table (expansion t, channels c, repeats n, stride s), each
// distinct shape once.
std::vector<ConvShape> mobilenet_v2_convs() {
  struct Stage {
    int t, c, n, s;
  };
  const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                          {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  std::vector<ConvShape> convs = {{"stem", 224, 3, 32, 3, 2, false}};
  int size = 112, channels = 32;
  for (const Stage& st : stages)
    for (int r = 0; r < st.n; ++r) {
      const int stride = r == 0 ? st.s : 1;
      const int hidden = channels * st.t;
      if (st.t != 1) convs.push_back({"expand", size, channels, hidden, 1, 1, false});
      convs.push_back({"dw", size, hidden, hidden, 3, stride, true});
      size = (size + stride - 1) / stride;
      convs.push_back({"project", size, hidden, st.c, 1, 1, false});
      channels = st.c;
    }
  convs.push_back({"last", size, channels, 1280, 1, 1, false});
  std::vector<ConvShape> unique;
  std::set<std::string> seen;
  for (const ConvShape& c : convs)
    if (seen.insert(c.name()).second) unique.push_back(c);
  return unique;
}

// A one-node model: input -> conv (TF "SAME" padding, ReLU6 as in MobileNetV2) -> task output;
// in int8 the input is quantized first and the output stays int8.
polyhead::Result<std::vector<uint8_t>> conv_model(const ConvShape& c, bool int8) {
  polyhead::ModelBuilder b;
  int x = b.add_input("x", Shape{1, c.size, c.size, c.in});
  const int per_group = c.depthwise ? 1 : c.in;
  const Shape wshape{c.out, c.kernel, c.kernel, per_group};
  const auto count = static_cast<size_t>(wshape.elements());
  int weights = -1, bias = -1;
  if (int8) {
    const float in_scale = 2.f / 255.f, w_scale = 0.01f / 127.f;
    PH_ASSIGN_OR_RETURN(x,
                        b.quantize("quantize", x, polyhead::Quantization::per_tensor(in_scale, 0)));
    std::vector<int8_t> w(count);
    for (size_t i = 0; i < count; ++i)
      w[i] = static_cast<int8_t>(std::lround(127.f * std::sin(static_cast<float>(i))));
    const auto out = static_cast<size_t>(c.out);
    weights = b.add_constant_i8(
        "w", wshape, w, {std::vector<float>(out, w_scale), std::vector<int32_t>(out, 0), 0});
    bias = b.add_constant_i32(
        "b", Shape{c.out}, std::vector<int32_t>(out, 100),
        {std::vector<float>(out, in_scale * w_scale), std::vector<int32_t>(out, 0), 0});
  } else {
    std::vector<float> w(count);
    for (size_t i = 0; i < count; ++i) w[i] = 0.01f * std::sin(static_cast<float>(i));
    weights = b.add_constant("w", wshape, w);
    bias = b.add_constant("b", Shape{c.out}, std::vector<float>(c.out, 0.01f));
  }
  polyhead::Conv2DParams p;
  p.stride_h = p.stride_w = c.stride;
  const int out_size = (c.size + c.stride - 1) / c.stride;
  const int pad = std::max((out_size - 1) * c.stride + c.kernel - c.size, 0);
  p.pad_top = p.pad_left = pad / 2;
  p.pad_bottom = p.pad_right = pad - pad / 2;
  p.groups = c.depthwise ? c.in : 1;
  p.activation = polyhead::Activation::relu6();
  PH_ASSIGN_OR_RETURN(const int y, b.conv2d("conv", x, weights, bias, p));
  if (int8)
    PH_RETURN_IF_ERROR(
        b.set_quantization(y, polyhead::Quantization::per_tensor(6.f / 255.f, -128)));
  PH_RETURN_IF_ERROR(b.add_task("out", polyhead::TaskKind::kOther, {{"y", y}}));
  return b.finish();
}

void run_conv(benchmark::State& state, const ConvShape& c, bool int8) {
  auto bytes = conv_model(c, int8);
  if (!bytes.is_ok()) return state.SkipWithError(bytes.status().to_string().c_str());
  auto model = polyhead::Model::from_bytes(*bytes);
  if (!model.is_ok()) return state.SkipWithError(model.status().to_string().c_str());
  polyhead::EngineOptions options;
  options.threads = static_cast<size_t>(state.range(0));
  auto engine = polyhead::Engine::create(*model, options);
  if (!engine.is_ok()) return state.SkipWithError(engine.status().to_string().c_str());
  auto plan = engine->prepare();
  if (!plan.is_ok()) return state.SkipWithError(plan.status().to_string().c_str());
  std::vector<float> input(static_cast<size_t>(c.size * c.size * c.in));
  for (size_t i = 0; i < input.size(); ++i) input[i] = std::cos(0.01f * static_cast<float>(i));
  const polyhead::Status set = plan->set_input("x", input.data(), input.size());
  if (!set.is_ok()) return state.SkipWithError(set.to_string().c_str());
  plan->set_profiling(true);
  const size_t conv = plan->node_times_ns().size() - 1;  // the last node of the model
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    const polyhead::Status s = plan->run();
    if (!s.is_ok()) return state.SkipWithError(s.to_string().c_str());
    state.SetIterationTime(static_cast<double>(plan->node_times_ns()[conv]) * 1e-9);
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(c.macs()),
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MACs"] = static_cast<double>(c.macs());
}

// 1x1 convolutions with few input and output channels (issue 14): a grid of channel counts at
// 64x64 and 128x128, and the MediaPipe models' own few-channel 1x1 layers.
std::vector<ConvShape> few_channel_convs() {
  std::vector<ConvShape> convs;
  for (const int size : {64, 128})
    for (const int in : {8, 16, 24, 32})
      for (const int out : {8, 16, 24, 32, 72}) convs.push_back({"few", size, in, out});
  convs.push_back({"selfie", 128, 16, 16});
  convs.push_back({"selfie", 64, 16, 72});
  convs.push_back({"face", 64, 24, 24});
  convs.push_back({"face", 32, 28, 32});
  convs.push_back({"face", 32, 32, 36});
  convs.push_back({"pose", 256, 8, 8});
  return convs;
}

}  // namespace

int main(int argc, char** argv) {
  // The convolution node's wall time (manual time), also for the FLOP/s rate: with threads, the
  // calling thread's CPU time misleads.
  for (const ConvShape& c : mobilenet_v2_convs())
    for (const bool int8 : {false, true})
      // The library keeps the registered benchmarks until exit (the analyzer sees a leak).
      benchmark::RegisterBenchmark((c.name() + (int8 ? "/int8" : "/fp32")).c_str(),  // NOLINT
                                   run_conv, c, int8)
          ->ArgName("threads")
          ->Arg(1)
          ->Arg(2)
          ->Unit(benchmark::kMicrosecond)
          ->UseManualTime();
  for (const ConvShape& c : few_channel_convs())
    for (const bool int8 : {false, true})
      benchmark::RegisterBenchmark((c.name() + (int8 ? "/int8" : "/fp32")).c_str(),  // NOLINT
                                   run_conv, c, int8)
          ->ArgName("threads")
          ->Arg(1)
          ->Unit(benchmark::kMicrosecond)
          ->UseManualTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
