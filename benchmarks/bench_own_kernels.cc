// Micro-benchmarks of Polyhead's own kernels: every kernel in every instruction-set variant this
// CPU offers, next to its portable reference, on the shapes the default model and MediaPipe
// models give them. Names are KERNEL/VARIANT, so
//   bench_own_kernels --benchmark_filter=tanh --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
// prints the median of each variant of tanh (see docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"

namespace {

using polyhead::Shape;
using polyhead::kernels::Isa;
using polyhead::kernels::KernelVariant;
using polyhead::kernels::reference::Coordinates;

std::vector<float> values(size_t count) {
  std::vector<float> v(count);
  uint32_t state = 12345;
  for (float& x : v) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 8.f - 4.f;
  }
  return v;
}

void set_bytes(benchmark::State& state, size_t bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes_per_iteration));
}

// Elementwise over 64 Ki values (a 64x64x16 feature map).
void tanh_bench(benchmark::State& state, const KernelVariant* k) {
  const std::vector<float> x = values(1 << 16);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    k->tanh(x.data(), x.size(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, x.size() * sizeof(float));
}

// 896 anchors x 91 classes with beta 0.5 (a detection head's scores).
void softmax_bench(benchmark::State& state, const KernelVariant* k) {
  const size_t rows = 896, channels = 91;
  const std::vector<float> x = values(rows * channels);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    k->softmax(x.data(), rows, channels, 0.5f, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, x.size() * sizeof(float));
}

// NHWC -> NCHW of a 1x56x56x64 feature map.
void transpose_bench(benchmark::State& state, const KernelVariant* k) {
  const Shape s{1, 56, 56, 64};
  const int32_t perm[] = {0, 3, 1, 2};
  const std::vector<float> x = values(static_cast<size_t>(s.elements()));
  std::vector<float> y(x.size());
  for (auto _ : state) {
    k->transpose(x.data(), s, perm, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, x.size() * sizeof(float));
}

// 2x nearest upsampling of 1x28x28x32.
void resize_bench(benchmark::State& state, const KernelVariant* k) {
  const Shape s{1, 28, 28, 32};
  const std::vector<float> x = values(static_cast<size_t>(s.elements()));
  std::vector<float> y(x.size() * 4);
  for (auto _ : state) {
    k->resize_nearest(x.data(), s, 56, 56, Coordinates::kHalfPixel, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, y.size() * sizeof(float));
}

// Three 1x28x28x32 maps joined on channels.
void concatenation_bench(benchmark::State& state, const KernelVariant* k) {
  const Shape shapes[] = {Shape{1, 28, 28, 32}, Shape{1, 28, 28, 32}, Shape{1, 28, 28, 32}};
  const std::vector<float> a = values(28 * 28 * 32), b = values(28 * 28 * 32),
                           c = values(28 * 28 * 32);
  const float* inputs[] = {a.data(), b.data(), c.data()};
  std::vector<float> y(a.size() * 3);
  for (auto _ : state) {
    k->concatenation(3, inputs, shapes, 3, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, y.size() * sizeof(float));
}

// Stride-2 1x1 pooling of 1x56x56x64 (a ResNet shortcut), no clamp.
void subsample_bench(benchmark::State& state, const KernelVariant* k) {
  const Shape in{1, 56, 56, 64}, out{1, 28, 28, 64};
  const std::vector<float> x = values(static_cast<size_t>(in.elements()));
  std::vector<float> y(static_cast<size_t>(out.elements()));
  const float inf = __builtin_inff();
  for (auto _ : state) {
    k->subsample(x.data(), in, out, 2, 2, -inf, inf, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, y.size() * sizeof(float));
}

// A reshape between two arena tensors: 256 Ki values.
void copy_bench(benchmark::State& state, const KernelVariant* k) {
  const std::vector<float> x = values(1 << 18);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    k->copy(x.data(), x.size() * sizeof(float), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, x.size() * sizeof(float));
}

}  // namespace

int main(int argc, char** argv) {
  using Bench = void (*)(benchmark::State&, const KernelVariant*);
  const std::pair<const char*, Bench> kernels[] = {{"tanh", tanh_bench},
                                                   {"softmax", softmax_bench},
                                                   {"transpose", transpose_bench},
                                                   {"resize_nearest", resize_bench},
                                                   {"concatenation", concatenation_bench},
                                                   {"subsample", subsample_bench},
                                                   {"copy", copy_bench}};
  for (const auto& [name, fn] : kernels)
    for (Isa isa : polyhead::kernels::available_isas())
      benchmark::RegisterBenchmark(
          (std::string(name) + "/" + polyhead::kernels::isa_name(isa)).c_str(), fn,
          polyhead::kernels::kernel_variant(isa));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
