// Factories of the kernels Polyhead implements itself, for what the XNNPACK snapshot lacks.
#pragma once

#include <memory>

#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/reference.h"

namespace polyhead::kernels {

// The reference kernels' coordinate mode for a node's RESIZE coordinates.
reference::Coordinates coordinates_of(schema::CoordinateMode mode);

// Returns null (not an error) when the node is not one of ours.
Result<std::unique_ptr<Kernel>> create_polyhead_kernel(const NodeDesc& desc);

}  // namespace polyhead::kernels
