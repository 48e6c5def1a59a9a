// The sparse kernel (kernels/src/own_sparse_kernels.cc) against the dense kernel the factory
// picks for the same layer, in one program and one run: MobileNetV2's 1x1 expand and project
// layers at 50, 70 and 90 % sparsity in blocks of 16x1, 8x1, 4x1 and 1x1 (output channels x input
// channels), one thread. docs/sparse.md ("Sparse kernels") has the table and the break-even
// densities that kernels/src/sparse_choice.cc uses.
//
// Both sides go through create_kernel(): the dense one with the layer's dense weights, the sparse
// one with the same layer's weights pruned to the sparsity (random blocks, the same number in each
// block row) and given block-sparse. Before a sparse case's first timing it runs once and must
// agree with the dense kernel on the pruned weights within 1e-4 of the output's largest magnitude,
// or it is skipped with an error. Names are LAYER/dense and LAYER/sparseRxC/sSPARSITY, registered
// so that the cases of a layer run one after the other.
//
//   bench_sparse_gemm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//       --benchmark_out=sparse.json --benchmark_out_format=json
//   python3 benchmarks/sparse_report.py sparse.json
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/sparse_matrix.h"
#include "polyhead/schema/phm_generated.h"

namespace {

using polyhead::Shape;
using polyhead::kernels::Kernel;
using polyhead::kernels::NodeDesc;
using polyhead::kernels::OperandDesc;
using polyhead::kernels::SparseMatrix;

// A 1x1 convolution of MobileNetV2 (batch 1, NHWC): `in` -> `out` channels on size x size pixels;
// the expand layers (out > in) end in ReLU6, the project layers are linear.
struct Layer {
  int size, in, out;
  std::string name() const {
    return std::to_string(size) + "x" + std::to_string(size) + "_" + std::to_string(in) + "to" +
           std::to_string(out);
  }
  size_t pixels() const { return static_cast<size_t>(size * size); }
  double macs() const { return static_cast<double>(pixels()) * in * out; }
};

const std::vector<Layer>& layers() {
  static const std::vector<Layer> l = {
      {56, 24, 144}, {56, 144, 24}, {28, 32, 192}, {28, 192, 32}, {14, 64, 384},  {14, 384, 64},
      {14, 96, 576}, {14, 576, 96}, {7, 160, 960}, {7, 960, 160}, {7, 320, 1280},
  };
  return l;
}

// Uniform in [-scale, scale), the same sequence for every side.
std::vector<float> random_values(size_t count, uint32_t seed, float scale) {
  std::vector<float> v(count);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = (static_cast<float>(seed >> 8) / static_cast<float>(1u << 23) - 1.f) * scale;
  }
  return v;
}

// A layer's tensors: input, dense weights [out][in] (OHWI of a 1x1), bias.
struct Tensors {
  std::vector<float> input, weights, bias;
  explicit Tensors(const Layer& l)
      : input(random_values(l.pixels() * static_cast<size_t>(l.in), 1, 4.f)),
        weights(random_values(static_cast<size_t>(l.in * l.out), 2,
                              1.f / std::sqrt(static_cast<float>(l.in)))),
        bias(random_values(static_cast<size_t>(l.out), 3, 0.1f)) {}
};

// The weights pruned to `sparsity` in blocks of br x 1: in each block row, the same number of
// blocks kept, chosen at random.
struct Pruned {
  std::vector<uint32_t> row_starts, block_columns;
  std::vector<float> values, dense;
  SparseMatrix view;

  Pruned(const Layer& l, const std::vector<float>& w, size_t br, double sparsity) {
    const auto n = static_cast<size_t>(l.out), k = static_cast<size_t>(l.in);
    const auto keep = static_cast<size_t>(std::lround((1.0 - sparsity) * static_cast<double>(k)));
    std::mt19937 rng(static_cast<uint32_t>(n * 131 + k * 7 + br));
    std::vector<uint32_t> columns(k);
    row_starts.push_back(0);
    for (size_t r = 0; r < n / br; ++r) {
      std::iota(columns.begin(), columns.end(), 0u);
      std::shuffle(columns.begin(), columns.end(), rng);
      std::sort(columns.begin(), columns.begin() + static_cast<std::ptrdiff_t>(keep));
      for (size_t i = 0; i < keep; ++i) {
        block_columns.push_back(columns[i]);
        for (size_t j = 0; j < br; ++j) values.push_back(w[(r * br + j) * k + columns[i]]);
      }
      row_starts.push_back(static_cast<uint32_t>(block_columns.size()));
    }
    view.rows = n;
    view.cols = k;
    view.block_rows = br;
    view.block_cols = 1;
    view.row_starts = row_starts.data();
    view.block_columns = block_columns.data();
    view.values = values.data();
    dense.resize(n * k);
    polyhead::kernels::densify(view, dense.data());
  }
};

// A CONV_2D 1x1 node with the layer's activation.
struct Node {
  flatbuffers::FlatBufferBuilder b;
  const polyhead::schema::Node* node = nullptr;
  explicit Node(const Layer& l) {
    const bool relu6 = l.out > l.in;
    const polyhead::schema::Activation act(relu6 ? 0.f : -INFINITY, relu6 ? 6.f : INFINITY);
    const auto options = polyhead::schema::CreateConv2DOptions(b, 1, 1, 1, 1, 0, 0, 0, 0, 1, &act);
    b.Finish(polyhead::schema::CreateNode(
        b, b.CreateString("conv"), polyhead::schema::OpKind::CONV_2D,
        polyhead::schema::OpOptions::Conv2DOptions, options.Union(),
        b.CreateVector(std::vector<int>{0, 1, 2}), b.CreateVector(std::vector<int>{3})));
    node = flatbuffers::GetRoot<polyhead::schema::Node>(b.GetBufferPointer());
  }
};

OperandDesc operand(const Shape& shape, const void* constant) {
  OperandDesc d;
  d.present = true;
  d.shape = shape;
  d.constant = constant;
  return d;
}

// The layer's kernel over `dense` weights or, when `sparse` is set, over those.
polyhead::Result<std::unique_ptr<Kernel>> layer_kernel(const Layer& l, const Node& node,
                                                       const Tensors& t, const float* dense,
                                                       const SparseMatrix* sparse) {
  NodeDesc d;
  d.node = node.node;
  d.inputs.push_back(operand(Shape{1, l.size, l.size, l.in}, nullptr));
  d.inputs.push_back(operand(Shape{l.out, 1, 1, l.in}, sparse ? nullptr : dense));
  d.inputs[1].sparse = sparse;
  d.inputs.push_back(operand(Shape{l.out}, t.bias.data()));
  d.outputs.push_back(operand(Shape{1, l.size, l.size, l.out}, nullptr));
  return polyhead::kernels::create_kernel(d);
}

// Creates, binds and runs once; an error message or "".
std::string prepare(Kernel& k, const Tensors& t, const float* weights, std::vector<float>& out) {
  const void* in[3] = {t.input.data(), weights, t.bias.data()};
  void* o[1] = {out.data()};
  polyhead::Status s = k.setup(in, o, nullptr);
  if (s.is_ok()) s = k.run(nullptr);
  return s.is_ok() ? "" : s.to_string();
}

void set_counters(benchmark::State& state, const Layer& l) {
  // Dense-equivalent multiply-adds per second: the same work on both sides.
  state.counters["dense_MACs"] =
      benchmark::Counter(l.macs(), benchmark::Counter::kIsIterationInvariantRate);
}

void dense_bench(benchmark::State& state, const Layer* l) {
  const Tensors t(*l);
  const Node node(*l);
  auto k = layer_kernel(*l, node, t, t.weights.data(), nullptr);
  if (!k.is_ok()) return state.SkipWithError(k.status().to_string().c_str());
  std::vector<float> out(l->pixels() * static_cast<size_t>(l->out));
  const std::string err = prepare(**k, t, t.weights.data(), out);
  if (!err.empty()) return state.SkipWithError(err.c_str());
  for (auto _ : state) {
    (void)(*k)->run(nullptr);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, *l);
}

void sparse_bench(benchmark::State& state, const Layer* l, size_t br, double sparsity) {
  const Tensors t(*l);
  const Node node(*l);
  const Pruned p(*l, t.weights, br, sparsity);
  auto sparse = layer_kernel(*l, node, t, nullptr, &p.view);
  if (!sparse.is_ok()) return state.SkipWithError(sparse.status().to_string().c_str());
  auto dense = layer_kernel(*l, node, t, p.dense.data(), nullptr);
  if (!dense.is_ok()) return state.SkipWithError(dense.status().to_string().c_str());
  std::vector<float> out(l->pixels() * static_cast<size_t>(l->out)), want(out.size());
  std::string err = prepare(**dense, t, p.dense.data(), want);
  if (err.empty()) err = prepare(**sparse, t, nullptr, out);
  if (!err.empty()) return state.SkipWithError(err.c_str());
  float largest = 0.f, worst = 0.f;
  for (size_t i = 0; i < out.size(); ++i) {
    largest = std::max(largest, std::fabs(want[i]));
    worst = std::max(worst, std::fabs(out[i] - want[i]));
  }
  if (!(worst <= 1e-4f * largest))
    return state.SkipWithError(("sparse and dense kernels disagree by " + std::to_string(worst) +
                                " (largest output " + std::to_string(largest) + ")")
                                   .c_str());
  for (auto _ : state) {
    (void)(*sparse)->run(nullptr);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, *l);
  state.counters["density"] = static_cast<double>(p.view.density());
}

}  // namespace

int main(int argc, char** argv) {
  for (const Layer& l : layers()) {
    benchmark::RegisterBenchmark((l.name() + "/dense").c_str(), dense_bench, &l)
        ->Unit(benchmark::kMicrosecond);
    for (size_t br : {16, 8, 4, 1}) {
      if (static_cast<size_t>(l.out) % br != 0) continue;  // 24 output channels: no 16x1
      for (int s : {50, 70, 90})
        benchmark::RegisterBenchmark(
            (l.name() + "/sparse" + std::to_string(br) + "x1/s" + std::to_string(s)).c_str(),
            sparse_bench, &l, br, s / 100.0)
            ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
