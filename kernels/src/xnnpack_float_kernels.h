// Factories of the float kernels on XNNPACK's operators (xnnpack_float_operators.h), per
// precision. Both answer as kernel_factory.h describes.
#pragma once

#include "kernel_factory.h"

namespace polyhead::kernels {

// Float32 operators for every float node Polyhead's own kernels leave to XNNPACK.
KernelResult create_xnnpack_f32_kernel(const NodeDesc& desc);

// Half-precision operators between float32 tensors (Precision::kF16). Not handled, so the node
// runs in float32, where this XNNPACK has no f16 operator for it or rejects its options in f16.
KernelResult create_xnnpack_f16_kernel(const NodeDesc& desc);

}  // namespace polyhead::kernels
