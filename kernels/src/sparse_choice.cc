#include "polyhead/kernels/sparse_choice.h"

namespace polyhead::kernels {

namespace {

// Below this density the sparse kernel beats the dense one on the layers measured so far
// (benchmarks/bench_sparse_gemm.cc); above it the dense kernel's register blocking wins.
constexpr double kBreakEvenDensity = 0.3;

bool is_pointwise_conv(const schema::Node& node) {
  const auto* o = node.options_as_Conv2DOptions();
  if (!o) return true;  // every option at its default
  return o->stride_h() == 1 && o->stride_w() == 1 && o->groups() == 1 && o->pad_top() == 0 &&
         o->pad_left() == 0 && o->pad_bottom() == 0 && o->pad_right() == 0;
}

}  // namespace

bool sparse_kernel_supports(const NodeDesc& desc, const SparseMatrix& weights) {
  if (desc.inputs.size() < 2 || desc.outputs.empty()) return false;
  if (desc.inputs[0].type != ElementType::kF32 || desc.outputs[0].type != ElementType::kF32)
    return false;
  if (weights.block_cols != 1) return false;
  const Shape& w = desc.inputs[1].shape;
  switch (desc.node->op()) {
    case schema::OpKind::FULLY_CONNECTED:
      return w.rank() == 2;
    case schema::OpKind::CONV_2D:
      return w.rank() == 4 && w[1] == 1 && w[2] == 1 && is_pointwise_conv(*desc.node);
    default:
      return false;
  }
}

bool use_sparse_kernel(const NodeDesc& desc, const SparseMatrix& weights, SparseWeights mode) {
  if (mode == SparseWeights::kDense || !sparse_kernel_supports(desc, weights)) return false;
  return mode == SparseWeights::kSparse || weights.density() <= kBreakEvenDensity;
}

}  // namespace polyhead::kernels
