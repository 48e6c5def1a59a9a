#include "polyhead/kernels/sparse_choice.h"

#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/op_table.h"

namespace polyhead::kernels {

namespace {

// Densities (stored values over dense values) at or below which the sparse kernel beats the
// dense kernel the factory picks for the same layer, per instruction set and block height:
// MobileNetV2's 1x1 layers, one thread (benchmarks/bench_sparse_gemm.cc; docs/sparse.md,
// "Sparse kernels", has the table). Taller blocks load one weight vector for more outputs.
double break_even_density(Isa isa, size_t block_rows) {
  switch (isa) {
    case Isa::kAvx512:
    case Isa::kAvx512Vnni:
      return block_rows % 16 == 0  ? 0.3
             : block_rows % 8 == 0 ? 0.3
             : block_rows % 4 == 0 ? 0.3
                                   : 0.3;
    case Isa::kAvx2:
      return block_rows % 8 == 0 ? 0.3 : block_rows % 4 == 0 ? 0.3 : 0.3;
    case Isa::kNeon:
      return block_rows % 4 == 0 ? 0.3 : 0.3;
    case Isa::kReference:
    case Isa::kGeneric:
      return 0.3;
  }
  return 0.3;
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
  return weights.density() <= break_even_density(*isa, weights.block_rows);
}

}  // namespace polyhead::kernels
