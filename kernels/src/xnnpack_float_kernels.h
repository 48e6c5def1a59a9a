// Factories of the kernels backed by XNNPACK's operator API (fp32).
#pragma once

#include <memory>

#include "polyhead/kernels/kernel.h"

namespace polyhead::kernels {

Result<std::unique_ptr<Kernel>> create_xnnpack_kernel(const NodeDesc& desc);

}  // namespace polyhead::kernels
