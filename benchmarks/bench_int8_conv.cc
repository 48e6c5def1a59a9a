// The int8 layers that XNNPACK's qc8 convolution ran slowly or not at all, each as a
// one-node model through the engine, in three forms in the same run:
//   fp32          the float model (XNNPACK's f32 convolution / deconvolution)
//   int8          the int8 model with the best variant (avx512vnni here: Polyhead's pixel
//                 convolution, own_int8_pixel_conv.cc, and its transposed convolution's GEMM path)
//   int8_avx512   the int8 model with the avx512 table forced (no VNNI): XNNPACK's qc8
//                 convolution, and the transposed convolution's portable gather loop
// The time is the node's own (Plan profiling, manual time), so QUANTIZE of the float input is not
// counted. Shapes: pose's Identity_2 (3x3, 8 -> 1 at 256x256), the 3-channel stems of face
// detection (5x5 s2), selfie segmentation, pose, MobileNetV2 and the full-integer Keras detector
// (3x3 s2), selfie's decoder (2x2 s2 transposed, 16 -> 1).
//
//   bench_int8_conv --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/model_builder.h"

namespace {

using polyhead::Shape;

struct Layer {
  std::string name;
  Shape input;
  int out = 1, kernel = 3, stride = 1;
  std::array<int, 4> pads{};  // top, left, bottom, right
  bool transposed = false;

  Shape weights() const { return Shape{out, kernel, kernel, input[3]}; }
};

const std::vector<Layer>& layers() {
  static const std::vector<Layer> l = {
      {"pose_Identity_2_3x3_8to1/256x256", Shape{1, 256, 256, 8}, 1, 3, 1, {1, 1, 1, 1}},
      {"face_stem_5x5s2_3to24/128x128", Shape{1, 128, 128, 3}, 24, 5, 2, {1, 1, 2, 2}},
      {"selfie_stem_3x3s2_3to16/256x256", Shape{1, 256, 256, 3}, 16, 3, 2, {0, 0, 1, 1}},
      {"pose_stem_3x3s2_3to24/258x258", Shape{1, 258, 258, 3}, 24, 3, 2, {0, 0, 0, 0}},
      {"mobilenet_v2_stem_3x3s2_3to32/224x224", Shape{1, 224, 224, 3}, 32, 3, 2, {0, 0, 1, 1}},
      {"keras_detector_stem_3x3s2_3to16/128x128", Shape{1, 128, 128, 3}, 16, 3, 2, {0, 0, 1, 1}},
      {"selfie_segment_deconv_2x2s2_16to1/128x128", Shape{1, 128, 128, 16}, 1, 2, 2, {}, true},
  };
  return l;
}

enum class Form { kFp32, kInt8, kInt8Avx512 };

polyhead::Result<std::vector<uint8_t>> layer_model(const Layer& c, bool int8) {
  polyhead::ModelBuilder b;
  int x = b.add_input("x", c.input);
  const Shape ws = c.weights();
  const auto count = static_cast<size_t>(ws.elements());
  const auto out = static_cast<size_t>(c.out);
  int weights = -1, bias = -1;
  if (int8) {
    const float in_scale = 2.f / 255.f, w_scale = 0.01f / 127.f;
    PH_ASSIGN_OR_RETURN(x,
                        b.quantize("quantize", x, polyhead::Quantization::per_tensor(in_scale, 0)));
    std::vector<int8_t> w(count);
    for (size_t i = 0; i < count; ++i)
      w[i] = static_cast<int8_t>(std::lround(127.f * std::sin(static_cast<float>(i))));
    weights = b.add_constant_i8(
        "w", ws, w, {std::vector<float>(out, w_scale), std::vector<int32_t>(out, 0), 0});
    bias = b.add_constant_i32(
        "b", Shape{c.out}, std::vector<int32_t>(out, 100),
        {std::vector<float>(out, in_scale * w_scale), std::vector<int32_t>(out, 0), 0});
  } else {
    std::vector<float> w(count);
    for (size_t i = 0; i < count; ++i) w[i] = 0.01f * std::sin(static_cast<float>(i));
    weights = b.add_constant("w", ws, w);
    bias = b.add_constant("b", Shape{c.out}, std::vector<float>(out, 0.01f));
  }
  int y = -1;
  if (c.transposed) {
    polyhead::TransposeConv2DParams p;
    p.stride_h = p.stride_w = c.stride;
    PH_ASSIGN_OR_RETURN(y, b.transpose_conv2d("layer", x, weights, bias, p));
  } else {
    polyhead::Conv2DParams p;
    p.stride_h = p.stride_w = c.stride;
    p.pad_top = c.pads[0], p.pad_left = c.pads[1], p.pad_bottom = c.pads[2],
    p.pad_right = c.pads[3];
    p.activation = polyhead::Activation::relu6();
    PH_ASSIGN_OR_RETURN(y, b.conv2d("layer", x, weights, bias, p));
  }
  if (int8)
    PH_RETURN_IF_ERROR(
        b.set_quantization(y, polyhead::Quantization::per_tensor(6.f / 255.f, -128)));
  PH_RETURN_IF_ERROR(b.add_task("out", polyhead::TaskKind::kOther, {{"y", y}}));
  return b.finish();
}

void run_layer(benchmark::State& state, const Layer& c, Form form) {
  namespace k = polyhead::kernels;
  if (form == Form::kInt8Avx512 && !k::isa_available(k::Isa::kAvx512))
    return state.SkipWithError("this CPU has no AVX-512");
  auto bytes = layer_model(c, form != Form::kFp32);
  if (!bytes.is_ok()) return state.SkipWithError(bytes.status().to_string().c_str());
  auto model = polyhead::Model::from_bytes(*bytes);
  if (!model.is_ok()) return state.SkipWithError(model.status().to_string().c_str());
  polyhead::EngineOptions options;
  options.threads = static_cast<size_t>(state.range(0));
  auto engine = polyhead::Engine::create(*model, options);
  if (!engine.is_ok()) return state.SkipWithError(engine.status().to_string().c_str());
  // Kernels are created at prepare: the forced table applies to this plan only.
  if (form == Form::kInt8Avx512) (void)k::force_isa(k::Isa::kAvx512);
  auto plan = engine->prepare();
  k::clear_forced_isa();
  if (!plan.is_ok()) return state.SkipWithError(plan.status().to_string().c_str());
  std::vector<float> input(static_cast<size_t>(c.input.elements()));
  for (size_t i = 0; i < input.size(); ++i) input[i] = std::cos(0.01f * static_cast<float>(i));
  const polyhead::Status set = plan->set_input("x", input.data(), input.size());
  if (!set.is_ok()) return state.SkipWithError(set.to_string().c_str());
  plan->set_profiling(true);
  const size_t node = plan->node_times_ns().size() - 1;  // the layer: the model's last node
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    const polyhead::Status s = plan->run();
    if (!s.is_ok()) return state.SkipWithError(s.to_string().c_str());
    state.SetIterationTime(static_cast<double>(plan->node_times_ns()[node]) * 1e-9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::pair<Form, const char*> forms[] = {
      {Form::kFp32, "fp32"}, {Form::kInt8, "int8"}, {Form::kInt8Avx512, "int8_avx512"}};
  for (const Layer& c : layers())
    for (const auto& [form, label] : forms)
      // The library keeps the registered benchmarks until exit (the analyzer sees a leak).
      benchmark::RegisterBenchmark((c.name + "/" + label).c_str(), run_layer, c, form)  // NOLINT
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
