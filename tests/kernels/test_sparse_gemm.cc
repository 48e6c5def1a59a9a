// The block-sparse GEMM (kernel_variant.h, SparseGemmF32) and the kernel on it
// (own_sparse_kernels.cc): every variant this CPU offers bit for bit against the reference on
// random sparse matrices of every block height, the reference against a plain dense product,
// densify(), the kernel through create_kernel() for 1x1 convolutions and fully connected layers,
// the sparse-or-dense decisions, and the errors for nodes it cannot run. Under qemu this covers
// NEON; on x86 AVX2 and AVX-512. Sizes stay small so the emulated suites stay quick.
#include <pthreadpool.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/reference.h"
#include "polyhead/kernels/sparse_choice.h"
#include "polyhead/kernels/sparse_matrix.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_models.h"

using namespace polyhead;
using kernels::Isa;
using kernels::KernelVariant;
using kernels::NodeDesc;
using kernels::OperandDesc;
using kernels::SparseMatrix;
using schema::OpKind;
using testing::random_values;

namespace {

namespace fb = flatbuffers;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kSentinel = 12345.f;  // in strides' padding: never written

// A block-sparse matrix that owns its arrays; `view` reads them.
struct OwnedSparse {
  std::vector<uint32_t> row_starts, block_columns;
  std::vector<float> values;
  SparseMatrix view;
};

// rows x cols in blocks of br x bc, each block stored with probability `density` (none at 0,
// all at 1); values in [-1, 1) with some stored zeros; block row 1 empty when there are 3 or
// more.
OwnedSparse random_sparse(size_t rows, size_t cols, size_t br, size_t bc, double density,
                          uint32_t seed) {
  OwnedSparse s;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const size_t block_rows = rows / br, block_cols = cols / bc;
  s.row_starts.push_back(0);
  for (size_t r = 0; r < block_rows; ++r) {
    for (size_t c = 0; c < block_cols; ++c) {
      const bool empty_row = block_rows >= 3 && r == 1;
      if (empty_row || !(density >= 1.0 || u(rng) < density)) continue;
      s.block_columns.push_back(static_cast<uint32_t>(c));
    }
    s.row_starts.push_back(static_cast<uint32_t>(s.block_columns.size()));
  }
  s.values = random_values(s.block_columns.size() * br * bc, seed + 1, 1.f);
  for (size_t i = 0; i < s.values.size(); i += 7) s.values[i] = 0.f;  // stored zeros count too
  s.view.rows = rows;
  s.view.cols = cols;
  s.view.block_rows = br;
  s.view.block_cols = bc;
  s.view.row_starts = s.row_starts.data();
  s.view.block_columns = s.block_columns.data();
  s.view.values = s.values.data();
  return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

std::vector<Isa> variants_with_sparse_gemm() {
  std::vector<Isa> out;
  for (Isa isa : kernels::available_isas())
    if (kernels::kernel_variant(isa)->sparse_gemm_f32) out.push_back(isa);
  return out;
}

// One node with its options, kept alive for the NodeDesc that points at it.
struct NodeBuffer {
  fb::FlatBufferBuilder b;
  const schema::Node* node = nullptr;
};

struct ConvOptions {
  int stride = 1, groups = 1, pad = 0;
  float min = -kInf, max = kInf;
};

void build_conv(NodeBuffer& nb, OpKind op, const ConvOptions& o, size_t inputs) {
  const schema::Activation act(o.min, o.max);
  const auto options = schema::CreateConv2DOptions(nb.b, o.stride, o.stride, 1, 1, o.pad, o.pad,
                                                   o.pad, o.pad, o.groups, &act);
  std::vector<int> in(inputs);
  for (size_t i = 0; i < inputs; ++i) in[i] = static_cast<int>(i);
  nb.b.Finish(schema::CreateNode(nb.b, nb.b.CreateString("conv_a"), op,
                                 schema::OpOptions::Conv2DOptions, options.Union(),
                                 nb.b.CreateVector(in), nb.b.CreateVector(std::vector<int>{9})));
  nb.node = fb::GetRoot<schema::Node>(nb.b.GetBufferPointer());
}

void build_fc(NodeBuffer& nb, float min, float max, size_t inputs) {
  const schema::Activation act(min, max);
  const auto options = schema::CreateFullyConnectedOptions(nb.b, &act);
  std::vector<int> in(inputs);
  for (size_t i = 0; i < inputs; ++i) in[i] = static_cast<int>(i);
  nb.b.Finish(schema::CreateNode(nb.b, nb.b.CreateString("fc_b"), OpKind::FULLY_CONNECTED,
                                 schema::OpOptions::FullyConnectedOptions, options.Union(),
                                 nb.b.CreateVector(in), nb.b.CreateVector(std::vector<int>{9})));
  nb.node = fb::GetRoot<schema::Node>(nb.b.GetBufferPointer());
}

OperandDesc operand(const Shape& shape, const void* constant = nullptr) {
  OperandDesc d;
  d.present = true;
  d.shape = shape;
  d.constant = constant;
  return d;
}

// x, weights (sparse, or dense when `dense` is given), optional bias, output.
NodeDesc describe(const schema::Node* node, const Shape& x, const Shape& w, const Shape& y,
                  const SparseMatrix* sparse, const float* dense, const float* bias) {
  NodeDesc d;
  d.node = node;
  d.inputs.push_back(operand(x));
  d.inputs.push_back(operand(w, dense));
  d.inputs[1].sparse = sparse;
  if (bias) d.inputs.push_back(operand(Shape{w[0]}, bias));
  d.outputs.push_back(operand(y));
  return d;
}

// Creates the kernel for `d`, runs it on `x` (with `pool`, may be null) and returns its output.
std::vector<float> run_kernel(const NodeDesc& d, const std::vector<float>& x, const float* bias,
                              pthreadpool_t pool) {
  auto kernel = kernels::create_kernel(d);
  if (!kernel.is_ok()) FAIL("create_kernel: " << kernel.status().to_string());
  std::vector<float> y(static_cast<size_t>(d.outputs[0].shape.elements()), kSentinel);
  const void* in[3] = {x.data(), d.inputs[1].constant, bias};
  void* out[1] = {y.data()};
  REQUIRE((*kernel)->setup(in, out, pool).is_ok());
  REQUIRE((*kernel)->run(pool).is_ok());
  return y;
}

void require_close(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  REQUIRE(got.size() == want.size());
  size_t worst = 0;
  float worst_err = 0.f;
  for (size_t i = 0; i < got.size(); ++i) {
    const float err = std::fabs(got[i] - want[i]) / (1.f + std::fabs(want[i]));
    if (!(err <= worst_err)) {
      worst_err = err;
      worst = i;
    }
  }
  INFO("worst at " << worst << ": got " << got[worst] << ", want " << want[worst]);
  CHECK(worst_err <= tol);
}

struct PoolDeleter {
  void operator()(pthreadpool_t p) const { pthreadpool_destroy(p); }
};
using Pool = std::unique_ptr<std::remove_pointer_t<pthreadpool_t>, PoolDeleter>;

}  // namespace

TEST_CASE("densify writes the blocks where their columns say and zeros elsewhere", "[sparse]") {
  // 4 x 6 in 2x2 blocks: block row 0 holds block columns 0 and 2, block row 1 block column 1.
  const std::vector<uint32_t> starts = {0, 2, 3}, columns = {0, 2, 1};
  const std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  SparseMatrix m;
  m.rows = 4;
  m.cols = 6;
  m.block_rows = 2;
  m.block_cols = 2;
  m.row_starts = starts.data();
  m.block_columns = columns.data();
  m.values = values.data();
  CHECK(m.block_count() == 3);
  CHECK(m.density() == Approx(0.5));
  std::vector<float> dense(24, -1.f);
  kernels::densify(m, dense.data());
  const std::vector<float> want = {1, 2, 0, 0,  5, 6,  //
                                   3, 4, 0, 0,  7, 8,  //
                                   0, 0, 9, 10, 0, 0, 0, 0, 11, 12, 0, 0};
  CHECK(dense == want);
}

TEST_CASE("the sparse reference equals a plain dense product within rounding", "[sparse]") {
  for (size_t br : {1, 4, 8}) {
    for (double density : {0.0, 0.1, 0.5, 1.0}) {
      INFO("block rows " << br << ", density " << density);
      const size_t m = 5, k = 37, n = 3 * br, a_stride = k + 3;
      const OwnedSparse s = random_sparse(n, k, br, 1, density, 40 + static_cast<uint32_t>(br));
      std::vector<float> dense(n * k);
      kernels::densify(s.view, dense.data());
      const std::vector<float> a = random_values(m * a_stride, 3, 2.f);
      const std::vector<float> bias = random_values(n, 4, 1.f);
      std::vector<float> got(m * n);
      kernels::reference::sparse_gemm_f32(m, a.data(), a_stride, s.view, bias.data(), -kInf, kInf,
                                          got.data(), n);
      for (size_t p = 0; p < m; ++p)
        for (size_t o = 0; o < n; ++o) {
          double sum = bias[o], magnitude = std::fabs(bias[o]);
          for (size_t q = 0; q < k; ++q) {
            sum += static_cast<double>(a[p * a_stride + q]) * dense[o * k + q];
            magnitude += std::fabs(static_cast<double>(a[p * a_stride + q]) * dense[o * k + q]);
          }
          CHECK(std::fabs(got[p * n + o] - sum) <= 1e-6 * magnitude + 1e-30);
        }
    }
  }
}

TEST_CASE("every sparse GEMM variant equals the reference bit for bit", "[sparse][variants]") {
  const std::vector<Isa> isas = variants_with_sparse_gemm();
  // Every build has the reference and the generic table's; SIMD ones where built and supported.
  REQUIRE(isas.size() >= 2);
#if defined(__aarch64__)
  CHECK(kernels::kernel_variant(Isa::kNeon)->sparse_gemm_f32 != nullptr);
#endif
  const KernelVariant& ref = *kernels::kernel_variant(Isa::kReference);
  size_t cases = 0;
  for (size_t br : {1, 2, 3, 4, 8, 12, 16, 32}) {
    for (double density : {0.0, 0.1, 0.5, 1.0}) {
      const size_t k = br >= 16 ? 19 : 37, n = (br >= 16 ? 2 : 3) * br;
      const OwnedSparse s =
          random_sparse(n, k, br, 1, density, static_cast<uint32_t>(br * 100 + density * 10));
      const std::vector<float> bias = random_values(n, 5, 1.f);
      for (size_t m : {1, 2, 3, 7, 8, 9, 13, 16, 21, 35}) {
        const size_t a_stride = k + 5, out_stride = n + 3;
        const std::vector<float> a = random_values(m * a_stride, static_cast<uint32_t>(m), 2.f);
        for (bool with_bias : {false, true}) {
          for (float lo : {-kInf, -0.25f}) {
            const float hi = lo == -kInf ? kInf : 0.5f;
            std::vector<float> want(m * out_stride, kSentinel);
            ref.sparse_gemm_f32->run(m, a.data(), a_stride, s.view,
                                     with_bias ? bias.data() : nullptr, lo, hi, want.data(),
                                     out_stride, nullptr);
            for (Isa isa : isas) {
              const kernels::SparseGemmF32& g = *kernels::kernel_variant(isa)->sparse_gemm_f32;
              // Without working memory, and with it (the grouped path, for blocks shorter
              // than the variant's registers).
              std::vector<float> scratch(g.scratch_bytes(s.view) / sizeof(float) + 1);
              for (float* work : {static_cast<float*>(nullptr), scratch.data()}) {
                INFO("variant " << kernels::isa_name(isa) << ", block rows " << br << ", density "
                                << density << ", m " << m << ", bias " << with_bias << ", clamp "
                                << lo << ".." << hi << ", scratch " << (work != nullptr));
                std::vector<float> got(m * out_stride, kSentinel);
                g.run(m, a.data(), a_stride, s.view, with_bias ? bias.data() : nullptr, lo, hi,
                      got.data(), out_stride, work);
                CHECK(same_bits(got, want));
                ++cases;
              }
            }
          }
        }
      }
    }
  }
  CHECK(cases > 0);
}

TEST_CASE("sparse GEMM variants keep the reference's -0 and blocks wider than a column",
          "[sparse][variants]") {
  const KernelVariant& ref = *kernels::kernel_variant(Isa::kReference);
  for (Isa isa : variants_with_sparse_gemm()) {
    INFO("variant " << kernels::isa_name(isa));
    const KernelVariant& v = *kernels::kernel_variant(isa);
    {
      // Empty block rows output their bias, -0 included, through a clamp at 0 (ReLU).
      for (size_t br : {1, 4, 8, 16}) {
        INFO("block rows " << br);
        const size_t n = 3 * br, k = 4, m = 19;
        const OwnedSparse s = random_sparse(n, k, br, 1, 1.0, 77);
        std::vector<float> bias(n, -0.f);
        const std::vector<float> a = random_values(m * k, 8, 1.f);
        std::vector<float> scratch(v.sparse_gemm_f32->scratch_bytes(s.view) / sizeof(float) + 1);
        std::vector<float> want(m * n, kSentinel), got(m * n, kSentinel);
        ref.sparse_gemm_f32->run(m, a.data(), k, s.view, bias.data(), 0.f, 6.f, want.data(), n,
                                 nullptr);
        v.sparse_gemm_f32->run(m, a.data(), k, s.view, bias.data(), 0.f, 6.f, got.data(), n,
                               scratch.data());
        CHECK(std::signbit(want[br]));  // block row 1 is empty: -0 kept
        CHECK(same_bits(got, want));
      }
    }
    {
      const OwnedSparse s = random_sparse(8, 12, 4, 2, 0.5, 78);
      const std::vector<float> a = random_values(5 * 12, 9, 1.f);
      std::vector<float> want(5 * 8), got(5 * 8);
      ref.sparse_gemm_f32->run(5, a.data(), 12, s.view, nullptr, -kInf, kInf, want.data(), 8,
                               nullptr);
      v.sparse_gemm_f32->run(5, a.data(), 12, s.view, nullptr, -kInf, kInf, got.data(), 8, nullptr);
      CHECK(same_bits(got, want));
    }
  }
}

TEST_CASE("the sparse kernel runs 1x1 convolutions as the reference and the dense kernel",
          "[sparse][kernel]") {
  const int64_t h = 5, w = 7, c = 12;
  const Pool pool(pthreadpool_create(2));
  for (size_t br : {4, 8}) {
    for (bool with_bias : {false, true}) {
      for (float lo : {-kInf, 0.f}) {
        const float hi = lo == -kInf ? kInf : 6.f;
        INFO("block rows " << br << ", bias " << with_bias << ", clamp " << lo << ".." << hi);
        const auto o = static_cast<int64_t>(4 * br);
        const OwnedSparse s = random_sparse(static_cast<size_t>(o), c, br, 1, 0.4, 90);
        std::vector<float> dense(static_cast<size_t>(o * c));
        kernels::densify(s.view, dense.data());
        const std::vector<float> bias = random_values(static_cast<size_t>(o), 91, 1.f);
        const float* b = with_bias ? bias.data() : nullptr;
        const std::vector<float> x = random_values(static_cast<size_t>(h * w * c), 92, 2.f);
        NodeBuffer nb;
        ConvOptions opt;
        opt.min = lo;
        opt.max = hi;
        build_conv(nb, OpKind::CONV_2D, opt, with_bias ? 3 : 2);
        const Shape xs{1, h, w, c}, ws{o, 1, 1, c}, ys{1, h, w, o};

        std::vector<float> want(static_cast<size_t>(h * w * o));
        kernels::reference::sparse_gemm_f32(static_cast<size_t>(h * w), x.data(),
                                            static_cast<size_t>(c), s.view, b, lo, hi, want.data(),
                                            static_cast<size_t>(o));
        const NodeDesc sparse = describe(nb.node, xs, ws, ys, &s.view, nullptr, b);
        CHECK(kernels::sparse_kernel_supports(sparse, s.view));
        CHECK(same_bits(run_kernel(sparse, x, b, nullptr), want));
        CHECK(same_bits(run_kernel(sparse, x, b, pool.get()), want));
        const NodeDesc dense_desc = describe(nb.node, xs, ws, ys, nullptr, dense.data(), b);
        require_close(run_kernel(dense_desc, x, b, nullptr), want, 1e-5f);
      }
    }
  }
}

TEST_CASE("the sparse kernel runs fully connected layers as the reference and the dense kernel",
          "[sparse][kernel]") {
  const Pool pool(pthreadpool_create(2));
  const int64_t k = 20, n = 24;
  for (const Shape& xs : {Shape{1, k}, Shape{3, k}, Shape{2, 5, k}}) {
    for (bool with_bias : {false, true}) {
      INFO("input " << xs.to_string() << ", bias " << with_bias);
      const OwnedSparse s = random_sparse(n, k, 8, 1, 0.3, 95);
      std::vector<float> dense(static_cast<size_t>(n * k));
      kernels::densify(s.view, dense.data());
      const std::vector<float> bias = random_values(n, 96, 1.f);
      const float* b = with_bias ? bias.data() : nullptr;
      const std::vector<float> x = random_values(static_cast<size_t>(xs.elements()), 97, 2.f);
      NodeBuffer nb;
      build_fc(nb, -1.f, 1.f, with_bias ? 3 : 2);
      Shape ys = xs;
      ys[ys.rank() - 1] = n;
      const auto m = static_cast<size_t>(xs.elements() / k);
      std::vector<float> want(m * n);
      kernels::reference::sparse_gemm_f32(m, x.data(), k, s.view, b, -1.f, 1.f, want.data(), n);
      const NodeDesc sparse = describe(nb.node, xs, Shape{n, k}, ys, &s.view, nullptr, b);
      CHECK(same_bits(run_kernel(sparse, x, b, nullptr), want));
      CHECK(same_bits(run_kernel(sparse, x, b, pool.get()), want));
      const NodeDesc dense_desc = describe(nb.node, xs, Shape{n, k}, ys, nullptr, dense.data(), b);
      require_close(run_kernel(dense_desc, x, b, nullptr), want, 1e-5f);
    }
  }
}

TEST_CASE("the sparse kernel is chosen only where it can run and pays", "[sparse][choice]") {
  const OwnedSparse s = random_sparse(16, 8, 8, 1, 0.5, 100);
  const Shape xs{1, 4, 4, 8}, ws{16, 1, 1, 8}, ys{1, 4, 4, 16};
  auto conv_desc = [&](NodeBuffer& nb, const ConvOptions& o, const Shape& w, OpKind op) {
    build_conv(nb, op, o, 2);
    return describe(nb.node, xs, w, ys, nullptr, nullptr, nullptr);
  };
  NodeBuffer plain;
  const NodeDesc pointwise = conv_desc(plain, {}, ws, OpKind::CONV_2D);
  CHECK(kernels::sparse_kernel_supports(pointwise, s.view));
  CHECK(kernels::sparse_kernel_refusal(pointwise, s.view).empty());

  struct Refused {
    const char* what;
    NodeDesc desc;
    const char* reason;  // a part of the refusal
  };
  NodeBuffer b3, bs, bg, bp, bd, bf;
  ConvOptions stride2, groups2, padded;
  stride2.stride = 2;
  groups2.groups = 2;
  padded.pad = 1;
  std::vector<Refused> refused = {
      {"3x3", conv_desc(b3, {}, Shape{16, 3, 3, 8}, OpKind::CONV_2D), "1x1"},
      {"stride 2", conv_desc(bs, stride2, ws, OpKind::CONV_2D), "stride 2x2"},
      {"groups", conv_desc(bg, groups2, ws, OpKind::CONV_2D), "one group, found 2"},
      {"padding", conv_desc(bp, padded, ws, OpKind::CONV_2D), "padding 1,1,1,1"},
      {"depthwise", conv_desc(bd, {}, ws, OpKind::DEPTHWISE_CONV_2D), "DEPTHWISE_CONV_2D"},
      {"f16", conv_desc(bf, {}, ws, OpKind::CONV_2D), "half precision"},
  };
  refused.back().desc.precision = Precision::kF16;
  NodeBuffer bi;
  refused.push_back({"int8", conv_desc(bi, {}, ws, OpKind::CONV_2D), "f32"});
  refused.back().desc.inputs[0].type = ElementType::kI8;
  for (const Refused& r : refused) {
    INFO(r.what);
    CHECK_FALSE(kernels::sparse_kernel_supports(r.desc, s.view));
    const std::string why = kernels::sparse_kernel_refusal(r.desc, s.view);
    INFO("refusal: " << why);
    CHECK(why.find(r.reason) != std::string::npos);
    for (SparseWeights mode : {SparseWeights::kAuto, SparseWeights::kSparse})
      CHECK_FALSE(kernels::use_sparse_kernel(r.desc, s.view, mode));
  }
  // Blocks of two columns: the kernel takes one.
  const OwnedSparse wide = random_sparse(16, 8, 8, 2, 0.5, 101);
  CHECK_FALSE(kernels::sparse_kernel_supports(pointwise, wide.view));

  // The modes: dense never, sparse wherever it runs, auto by density.
  CHECK(kernels::use_sparse_kernel(pointwise, s.view, SparseWeights::kSparse));
  CHECK_FALSE(kernels::use_sparse_kernel(pointwise, s.view, SparseWeights::kDense));
  const OwnedSparse very_sparse = random_sparse(16, 8, 8, 1, 0.0, 102);
  CHECK(kernels::use_sparse_kernel(pointwise, very_sparse.view, SparseWeights::kAuto));
  const OwnedSparse full_scalar = random_sparse(16, 8, 1, 1, 1.0, 103);
  CHECK_FALSE(kernels::use_sparse_kernel(pointwise, full_scalar.view, SparseWeights::kAuto));
  CHECK(kernels::use_sparse_kernel(pointwise, full_scalar.view, SparseWeights::kSparse));

  // Auto by block shape: single-row blocks only from 32 input channels (never faster below).
  {
    auto pointwise_with = [&](NodeBuffer& nb, int64_t c) {
      build_conv(nb, OpKind::CONV_2D, {}, 2);
      return describe(nb.node, Shape{1, 4, 4, c}, Shape{16, 1, 1, c}, ys, nullptr, nullptr,
                      nullptr);
    };
    NodeBuffer n24, n64;
    const NodeDesc narrow = pointwise_with(n24, 24), wide = pointwise_with(n64, 64);
    const OwnedSparse empty24 = random_sparse(16, 24, 1, 1, 0.0, 104);
    const OwnedSparse empty64 = random_sparse(16, 64, 1, 1, 0.0, 105);
    CHECK_FALSE(kernels::use_sparse_kernel(narrow, empty24.view, SparseWeights::kAuto));
    CHECK(kernels::use_sparse_kernel(narrow, empty24.view, SparseWeights::kSparse));
    CHECK(kernels::use_sparse_kernel(wide, empty64.view, SparseWeights::kAuto));
    const OwnedSparse full8x1 = random_sparse(16, 64, 8, 1, 1.0, 106);
    CHECK_FALSE(kernels::use_sparse_kernel(wide, full8x1.view, SparseWeights::kAuto));
  }

  // Fully connected: rank-2 weights.
  NodeBuffer fc;
  build_fc(fc, -kInf, kInf, 2);
  const NodeDesc fc_desc =
      describe(fc.node, Shape{2, 8}, Shape{16, 8}, Shape{2, 16}, nullptr, nullptr, nullptr);
  CHECK(kernels::sparse_kernel_supports(fc_desc, s.view));
}

TEST_CASE("a sparse operand on a node the sparse kernel cannot run is an error naming it",
          "[sparse][kernel]") {
  const OwnedSparse s = random_sparse(16, 8, 8, 1, 0.5, 110);
  const Shape xs{1, 4, 4, 8}, ys{1, 4, 4, 16};
  {
    NodeBuffer nb;
    build_conv(nb, OpKind::CONV_2D, {}, 2);
    const NodeDesc d = describe(nb.node, xs, Shape{16, 3, 3, 8}, ys, &s.view, nullptr, nullptr);
    auto k = kernels::create_kernel(d);
    REQUIRE_FALSE(k.is_ok());
    const std::string msg = k.status().to_string();
    INFO(msg);
    CHECK(msg.find("conv_a") != std::string::npos);
    CHECK(msg.find("sparse") != std::string::npos);
    CHECK(msg.find("1x1") != std::string::npos);
  }
  {
    NodeBuffer nb;
    build_conv(nb, OpKind::DEPTHWISE_CONV_2D, {}, 2);
    const NodeDesc d = describe(nb.node, xs, Shape{1, 1, 1, 16}, ys, &s.view, nullptr, nullptr);
    auto k = kernels::create_kernel(d);
    REQUIRE_FALSE(k.is_ok());
    const std::string msg = k.status().to_string();
    INFO(msg);
    CHECK(msg.find("conv_a") != std::string::npos);
    CHECK(msg.find("DEPTHWISE_CONV_2D") != std::string::npos);
  }
  {
    // Sparse bias: only weights may be.
    NodeBuffer nb;
    build_fc(nb, -kInf, kInf, 3);
    const std::vector<float> bias(16, 0.f);
    NodeDesc d =
        describe(nb.node, Shape{2, 8}, Shape{16, 8}, Shape{2, 16}, nullptr, nullptr, bias.data());
    d.inputs[2].sparse = &s.view;
    auto k = kernels::create_kernel(d);
    REQUIRE_FALSE(k.is_ok());
    const std::string msg = k.status().to_string();
    INFO(msg);
    CHECK(msg.find("fc_b") != std::string::npos);
    CHECK(msg.find("input 2") != std::string::npos);
  }
}
