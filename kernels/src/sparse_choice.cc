#include "polyhead/kernels/sparse_choice.h"

#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/op_table.h"

namespace polyhead::kernels {

namespace {

// Densities (stored values over dense values) at or below which the sparse kernel runs a layer
// rather than the dense kernel the factory would pick for it: the lowest break-even measured over
// MobileNetV2's 1x1 layers on AVX-512, one thread, rounded down (benchmarks/bench_sparse_gemm.cc;
// docs/sparse.md, "Sparse kernels", has the table). Taller blocks measured alike: from 16x1 down
// to 4x1 the sparse kernel was faster at 50 % sparsity on every layer (break-evens 0.51 to 1.0).
constexpr double kBlockBreakEven = 0.5;
// Single-row blocks (unstructured sparsity) need more zeros: break-evens 0.31 to 0.64, and never
// on a layer of 24 input channels (56x56 24->144), where writing each output costs more than its
// few products: so only from kMinSingleRowColumns input channels, on every instruction set. The
// lowest break-even itself, not rounded down: MediaPipe's full-range face detector stores its 1x1
// layers at densities 0.2998 to 0.3008 and runs 7 % faster with all of them on the sparse kernel
// (docs/sparse.md), which 0.3 would split.
constexpr double kSingleRowBreakEven = 0.31;
constexpr size_t kMinSingleRowColumns = 32;
// Scalar code (the generic and reference tables; armv7 NEON, which has no fused multiply-add,
// runs the generic one) against a SIMD dense kernel: std::fma is a library call there, and the
// generic table took 2.0 ms for 14x14 96->576 in 8x1 blocks at 90 % sparsity where AVX-512's
// dense kernel takes 0.16 ms. An SSE or armv7 NEON dense kernel is a few times slower than that,
// so the sparse kernel only pays on nearly empty weights.
constexpr double kScalarBreakEven = 0.02;

bool power_of_two(size_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

// The measurements come from AVX-512. AVX2 and NEON run the same code on narrower registers
// against a dense kernel as narrow (measured under POLYHEAD_ISA=avx2 against AVX-512's dense
// kernel, AVX2's sparse kernel still won at 50 % on 16x1 and 8x1 blocks), so they share it.
double break_even_density(Isa isa, const SparseMatrix& w) {
  if (w.block_rows == 1 && w.cols < kMinSingleRowColumns) return 0.0;
  const KernelVariant* v = kernel_variant(isa);
  const bool simd = v && v->sparse_gemm_f32 && isa != Isa::kGeneric && isa != Isa::kReference;
  if (!simd || !power_of_two(w.block_rows)) return kScalarBreakEven;
  return w.block_rows > 1 ? kBlockBreakEven : kSingleRowBreakEven;
}

std::string str(int64_t v) {
  return std::to_string(v);
}

}  // namespace

std::string sparse_kernel_refusal(const NodeDesc& desc, const SparseMatrix& weights) {
  const schema::OpKind op = desc.node->op();
  if (op != schema::OpKind::CONV_2D && op != schema::OpKind::FULLY_CONNECTED)
    return "the sparse kernel runs 1x1 CONV_2D and FULLY_CONNECTED nodes, not " + op_kind_name(op);
  if (desc.inputs.size() < 2 || !desc.inputs[1].present || desc.outputs.empty())
    return "the sparse kernel needs an input, weights and an output";
  if (desc.precision != Precision::kF32)
    return "the sparse kernel computes in float32; the node asks for half precision";
  if (desc.inputs[0].type != ElementType::kF32 || desc.inputs[1].type != ElementType::kF32 ||
      desc.outputs[0].type != ElementType::kF32)
    return std::string("the sparse kernel reads and writes f32, found input ") +
           element_type_name(desc.inputs[0].type) + ", weights " +
           element_type_name(desc.inputs[1].type) + ", output " +
           element_type_name(desc.outputs[0].type);
  if (weights.block_cols != 1)
    return "the sparse kernel takes blocks of one column, found " + str(weights.block_rows) + "x" +
           str(weights.block_cols) + " blocks";
  const Shape& w = desc.inputs[1].shape;
  if (op == schema::OpKind::FULLY_CONNECTED) {
    if (w.rank() != 2) return "weights of rank 2 expected, found " + w.to_string();
  } else {
    if (w.rank() != 4 || w[1] != 1 || w[2] != 1)
      return "the sparse kernel runs 1x1 convolutions, weights " + w.to_string();
    if (const auto* o = desc.node->options_as_Conv2DOptions()) {
      if (o->stride_h() != 1 || o->stride_w() != 1)
        return "the sparse kernel runs stride 1, found stride " + str(o->stride_h()) + "x" +
               str(o->stride_w());
      if (o->groups() != 1) return "the sparse kernel runs one group, found " + str(o->groups());
      if (o->pad_top() || o->pad_left() || o->pad_bottom() || o->pad_right())
        return "the sparse kernel runs convolutions without padding, found padding " +
               str(o->pad_top()) + "," + str(o->pad_left()) + "," + str(o->pad_bottom()) + "," +
               str(o->pad_right());
    }
  }
  const Shape& x = desc.inputs[0].shape;
  const auto cols = static_cast<size_t>(w.elements() / (w[0] ? w[0] : 1));
  if (weights.rows != static_cast<size_t>(w[0]) || weights.cols != cols)
    return "the sparse matrix is " + std::to_string(weights.rows) + "x" +
           std::to_string(weights.cols) + ", weights " + w.to_string();
  if (x.rank() < 1 || static_cast<size_t>(x[x.rank() - 1]) != cols)
    return "input " + x.to_string() + " does not end in the weights' " + std::to_string(cols) +
           " input channels";
  for (size_t i = 0; i < desc.inputs.size(); ++i)
    if (i != 1 && desc.inputs[i].sparse)
      return "only the weights (input 1) may be block-sparse, input " + std::to_string(i) + " is";
  if (desc.inputs.size() > 2 && desc.inputs[2].present &&
      (desc.inputs[2].type != ElementType::kF32 || desc.inputs[2].shape.elements() != w[0]))
    return "bias of " + std::to_string(w[0]) + " f32 values expected, found " +
           element_type_name(desc.inputs[2].type) + " " + desc.inputs[2].shape.to_string();
  return {};
}

bool sparse_kernel_supports(const NodeDesc& desc, const SparseMatrix& weights) {
  return sparse_kernel_refusal(desc, weights).empty();
}

bool use_sparse_kernel(const NodeDesc& desc, const SparseMatrix& weights, SparseWeights mode) {
  if (mode == SparseWeights::kDense || !sparse_kernel_supports(desc, weights)) return false;
  if (mode == SparseWeights::kSparse) return true;
  const Result<Isa> isa = selected_isa();
  if (!isa.is_ok()) return false;  // kernel creation reports the bad $POLYHEAD_ISA
  const double limit = break_even_density(*isa, weights);
  return limit > 0.0 && weights.density() <= limit;
}

}  // namespace polyhead::kernels
