// Factories of the kernels Polyhead implements itself, for what the XNNPACK snapshot lacks.
#pragma once

#include <memory>

#include "polyhead/kernels/kernel.h"

namespace polyhead::kernels {

// Returns null (not an error) when the node is not one of ours.
Result<std::unique_ptr<Kernel>> create_polyhead_kernel(const NodeDesc& desc);

}  // namespace polyhead::kernels
