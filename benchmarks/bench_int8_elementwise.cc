// Polyhead's own int8 PAD, bilinear RESIZE, ADD and MUL (docs/int8.md) against XNNPACK's int8
// operators and against the float node, on the shapes of the MediaPipe models, in one run.
//
// Sides: own/   the int8 node in a one-node Polyhead model (Plan profiling: the node's own time;
//               whichever kernel the engine picks, which is Polyhead's where it takes the node);
//        xnnpack/ the same operator through XNNPACK's C API (the kernel the engine used before,
//               except for broadcasting MUL, which ran on Polyhead's portable kernel: own/ then);
//        fp32/  the float node in a one-node Polyhead model.
// 1 thread. Compare medians:
//   bench_int8_elementwise --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <pthreadpool.h>
#include <xnnpack.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"

namespace {

using polyhead::Shape;

enum class Kind { kPad, kResize, kAdd, kMulRow, kMulScalar };

struct Case {
  std::string name;
  Kind kind;
  Shape in;
  // PAD: before/after per dimension; RESIZE: output size and coordinates.
  std::vector<int> before, after;
  int out_h = 0, out_w = 0;
  polyhead::ResizeCoordinates coordinates = polyhead::ResizeCoordinates::kHalfPixel;
};

std::vector<Case> cases() {
  using C = polyhead::ResizeCoordinates;
  return {
      {"pad/256x256x3_hw1", Kind::kPad, Shape{1, 256, 256, 3}, {0, 1, 1, 0}, {0, 1, 1, 0}},
      {"pad/64x64x24_c4", Kind::kPad, Shape{1, 64, 64, 24}, {0, 0, 0, 0}, {0, 0, 0, 4}},
      {"resize/128x128x8_2x_half_pixel",
       Kind::kResize,
       Shape{1, 128, 128, 8},
       {},
       {},
       256,
       256,
       C::kHalfPixel},
      {"resize/64x64x16_2x_half_pixel",
       Kind::kResize,
       Shape{1, 64, 64, 16},
       {},
       {},
       128,
       128,
       C::kHalfPixel},
      {"resize/64x64x16_2x_asymmetric",
       Kind::kResize,
       Shape{1, 64, 64, 16},
       {},
       {},
       128,
       128,
       C::kAsymmetric},
      {"resize/32x32x24_2x_asymmetric",
       Kind::kResize,
       Shape{1, 32, 32, 24},
       {},
       {},
       64,
       64,
       C::kAsymmetric},
      {"resize/16x16x128_2x_asymmetric",
       Kind::kResize,
       Shape{1, 16, 16, 128},
       {},
       {},
       32,
       32,
       C::kAsymmetric},
      {"resize/64x64x16_2x_align_corners",
       Kind::kResize,
       Shape{1, 64, 64, 16},
       {},
       {},
       128,
       128,
       C::kAlignCorners},
      {"add/128x128x16", Kind::kAdd, Shape{1, 128, 128, 16}, {}, {}},
      {"add/64x64x24", Kind::kAdd, Shape{1, 64, 64, 24}, {}, {}},
      {"mul/128x128x16_by_1x1x1x16", Kind::kMulRow, Shape{1, 128, 128, 16}, {}, {}},
      {"mul/64x64x16_by_1x1x1x16", Kind::kMulRow, Shape{1, 64, 64, 16}, {}, {}},
      {"mul/128x128x16_by_scalar", Kind::kMulScalar, Shape{1, 128, 128, 16}, {}, {}},
  };
}

constexpr float kInScale = 0.05f, kBScale = 0.03f, kOutScale = 0.07f;
constexpr int kInZero = 3, kBZero = -5, kOutZero = 1;

Shape second_shape(const Case& c) {
  if (c.kind == Kind::kMulScalar) return Shape{1};
  return c.kind == Kind::kMulRow ? Shape{1, 1, 1, c.in[3]} : c.in;
}

polyhead::Result<std::vector<uint8_t>> model(const Case& c, bool int8) {
  polyhead::ModelBuilder b;
  int x = b.add_input("x", c.in);
  int y2 = -1;
  const bool binary = c.kind != Kind::kPad && c.kind != Kind::kResize;
  if (binary) y2 = b.add_input("z", second_shape(c));
  if (int8) {
    PH_ASSIGN_OR_RETURN(x,
                        b.quantize("qx", x, polyhead::Quantization::per_tensor(kInScale, kInZero)));
    if (binary) {
      PH_ASSIGN_OR_RETURN(
          y2, b.quantize("qz", y2, polyhead::Quantization::per_tensor(kBScale, kBZero)));
    }
  }
  int y = -1;
  switch (c.kind) {
    case Kind::kPad: {
      PH_ASSIGN_OR_RETURN(y, b.pad("node", x, c.before, c.after));
      break;
    }
    case Kind::kResize: {
      PH_ASSIGN_OR_RETURN(
          y, b.resize("node", x, c.out_h, c.out_w, polyhead::ResizeMode::kBilinear, c.coordinates));
      break;
    }
    case Kind::kAdd: {
      PH_ASSIGN_OR_RETURN(y, b.binary("node", polyhead::BinaryOp::kAdd, x, y2));
      break;
    }
    case Kind::kMulRow:
    case Kind::kMulScalar: {
      PH_ASSIGN_OR_RETURN(y, b.binary("node", polyhead::BinaryOp::kMul, x, y2));
      break;
    }
  }
  if (int8) {
    const bool same = c.kind == Kind::kPad || c.kind == Kind::kResize;
    PH_RETURN_IF_ERROR(
        b.set_quantization(y, polyhead::Quantization::per_tensor(same ? kInScale : kOutScale,
                                                                 same ? kInZero : kOutZero)));
  }
  PH_RETURN_IF_ERROR(b.add_task("out", polyhead::TaskKind::kOther, {{"y", y}}));
  return b.finish();
}

std::vector<float> wave(size_t n, float step) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 2.f * std::sin(step * static_cast<float>(i));
  return v;
}

void run_engine(benchmark::State& state, const Case& c, bool int8) {
  auto bytes = model(c, int8);
  if (!bytes.is_ok()) return state.SkipWithError(bytes.status().to_string().c_str());
  auto m = polyhead::Model::from_bytes(*bytes);
  if (!m.is_ok()) return state.SkipWithError(m.status().to_string().c_str());
  polyhead::EngineOptions options;
  options.threads = 1;
  auto engine = polyhead::Engine::create(*m, options);
  if (!engine.is_ok()) return state.SkipWithError(engine.status().to_string().c_str());
  auto plan = engine->prepare();
  if (!plan.is_ok()) return state.SkipWithError(plan.status().to_string().c_str());
  const auto x = wave(static_cast<size_t>(c.in.elements()), 0.013f);
  if (!plan->set_input("x", x.data(), x.size()).is_ok()) return state.SkipWithError("input x");
  if (c.kind != Kind::kPad && c.kind != Kind::kResize) {
    const auto z = wave(static_cast<size_t>(second_shape(c).elements()), 0.7f);
    if (!plan->set_input("z", z.data(), z.size()).is_ok()) return state.SkipWithError("input z");
  }
  plan->set_profiling(true);
  const size_t node = plan->node_times_ns().size() - 1;  // the operator is the last node
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    const polyhead::Status s = plan->run();
    if (!s.is_ok()) return state.SkipWithError(s.to_string().c_str());
    state.SetIterationTime(static_cast<double>(plan->node_times_ns()[node]) * 1e-9);
  }
}

std::vector<size_t> dims(const Shape& s) {
  std::vector<size_t> d;
  for (size_t k = 0; k < s.rank(); ++k) d.push_back(static_cast<size_t>(s[k]));
  return d;
}

void run_xnnpack(benchmark::State& state, const Case& c) {
  if (xnn_initialize(nullptr) != xnn_status_success) return state.SkipWithError("xnn_initialize");
  std::vector<int8_t> x(static_cast<size_t>(c.in.elements()));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 37 % 251 - 125);
  std::vector<int8_t> z(static_cast<size_t>(second_shape(c).elements()));
  for (size_t i = 0; i < z.size(); ++i) z[i] = static_cast<int8_t>(i * 11 % 241 - 120);
  xnn_operator_t op = nullptr;
  xnn_status st = xnn_status_success;
  std::vector<int8_t> out;
  const auto in_dims = dims(c.in);
  const auto z_dims = dims(second_shape(c));
  std::vector<size_t> before, after;
  switch (c.kind) {
    case Kind::kPad: {
      static const uint32_t value = kInZero;
      st = xnn_create_constant_pad_nd_x8(&value, 0, &op);
      size_t n = 1;
      for (size_t k = 0; k < c.in.rank(); ++k) {
        before.push_back(static_cast<size_t>(c.before[k]));
        after.push_back(static_cast<size_t>(c.after[k]));
        n *= in_dims[k] + before[k] + after[k];
      }
      out.resize(n);
      if (st == xnn_status_success)
        st = xnn_setup_constant_pad_nd_x8(op, in_dims.size(), in_dims.data(), before.data(),
                                          after.data(), x.data(), out.data(), nullptr);
      break;
    }
    case Kind::kResize: {
      const uint32_t flags = c.coordinates == polyhead::ResizeCoordinates::kAlignCorners
                                 ? XNN_FLAG_ALIGN_CORNERS
                             : c.coordinates == polyhead::ResizeCoordinates::kAsymmetric
                                 ? XNN_FLAG_TENSORFLOW_LEGACY_MODE
                                 : 0;
      const auto ch = static_cast<size_t>(c.in[3]);
      st = xnn_create_resize_bilinear2d_nhwc_s8(ch, ch, ch, flags, &op);
      out.resize(static_cast<size_t>(c.out_h * c.out_w) * ch);
      if (st == xnn_status_success)
        st = xnn_setup_resize_bilinear2d_nhwc_s8(
            op, 1, in_dims[1], in_dims[2], static_cast<size_t>(c.out_h),
            static_cast<size_t>(c.out_w), x.data(), out.data(), nullptr);
      break;
    }
    case Kind::kAdd:
    case Kind::kMulRow:
    case Kind::kMulScalar: {
      const bool add = c.kind == Kind::kAdd;
      st = (add ? xnn_create_add_nd_qs8 : xnn_create_multiply_nd_qs8)(
          kInZero, kInScale, kBZero, kBScale, kOutZero, kOutScale, -128, 127, 0, &op);
      out.resize(x.size());
      if (st == xnn_status_success)
        st = (add ? xnn_setup_add_nd_qs8 : xnn_setup_multiply_nd_qs8)(
            op, in_dims.size(), in_dims.data(), z_dims.size(), z_dims.data(), x.data(), z.data(),
            out.data(), nullptr);
      break;
    }
  }
  if (st != xnn_status_success) {
    if (op) xnn_delete_operator(op);
    return state.SkipWithError("XNNPACK refused the operator");
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    const auto start = std::chrono::steady_clock::now();
    xnn_run_operator(op, nullptr);
    const auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  xnn_delete_operator(op);
}

}  // namespace

int main(int argc, char** argv) {
  for (const Case& c : cases()) {
    // The library keeps the registered benchmarks until exit (the analyzer sees a leak).
    benchmark::RegisterBenchmark((c.name + "/own").c_str(), run_engine, c, true)  // NOLINT
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((c.name + "/xnnpack").c_str(), run_xnnpack, c)  // NOLINT
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((c.name + "/fp32").c_str(), run_engine, c, false)  // NOLINT
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
