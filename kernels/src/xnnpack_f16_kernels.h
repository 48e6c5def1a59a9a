// Factories of half-precision kernels on XNNPACK's f16 operators (Precision::kF16).
#pragma once

#include <memory>

#include "polyhead/kernels/kernel.h"

namespace polyhead::kernels {

// Returns null (not an error) when this XNNPACK has no f16 operator for the node: it then runs
// in float32.
Result<std::unique_ptr<Kernel>> create_xnnpack_f16_kernel(const NodeDesc& desc);

}  // namespace polyhead::kernels
