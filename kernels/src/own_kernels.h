// Factory of the float kernels Polyhead implements itself, for what the XNNPACK snapshot lacks;
// it answers as kernel_factory.h describes. Also what these and the own int8 kernels share.
#pragma once

#include "kernel_factory.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/reference.h"

namespace polyhead::kernels {

// The reference kernels' coordinate mode for a node's RESIZE coordinates.
reference::Coordinates coordinates_of(schema::CoordinateMode mode);

KernelResult create_own_kernel(const NodeDesc& desc);

// A float CONV_2D with one group and large weights on Polyhead's indirect GEMM, or not_handled()
// (own_dense_conv.cc says which layers).
KernelResult create_own_dense_conv(const NodeDesc& desc, const KernelVariant& variant);
// A float depthwise convolution of fewer than 16 channels or a dense one to a single output
// channel, at stride and dilation 1, computed a row at a time; or not_handled()
// (own_row_conv.cc).
KernelResult create_own_row_conv(const NodeDesc& desc, const KernelVariant& variant);
// The kernel of a node with a block-sparse operand (own_sparse_kernels.cc): a 1x1 CONV_2D or a
// FULLY_CONNECTED over sparse weights; any other node with a sparse operand is an error.
KernelResult create_own_sparse_kernel(const NodeDesc& desc);

}  // namespace polyhead::kernels
