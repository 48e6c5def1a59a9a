// Factories of the int8 kernels (docs/int8.md). create_int8_kernel() checks the operands of a
// node that has an I8 tensor (or is QUANTIZE / DEQUANTIZE) and picks XNNPACK's quantized
// operator or one of Polyhead's own.
#pragma once

#include <memory>

#include "int8_params.h"
#include "polyhead/kernels/kernel.h"

namespace polyhead::kernels {

// True when the node runs in int8: QUANTIZE, DEQUANTIZE, or any I8 operand.
bool is_int8_node(const NodeDesc& desc);

Result<std::unique_ptr<Kernel>> create_int8_kernel(const NodeDesc& desc);

// XNNPACK-backed int8 kernels; null (not an error) when XNNPACK has none for the node.
Result<std::unique_ptr<Kernel>> create_xnnpack_int8_kernel(const NodeDesc& desc, const QParams& in,
                                                           const QParams& out);
Result<std::unique_ptr<Kernel>> create_xnnpack_convert_kernel(const NodeDesc& desc);

// The variant's int8 GEMM for 1x1 convolutions and fully connected layers; null when the selected
// variant has none or the node is not such a layer.
Result<std::unique_ptr<Kernel>> create_polyhead_int8_gemm_kernel(const NodeDesc& desc,
                                                                 const QParams& in,
                                                                 const QParams& out);

// Polyhead's own int8 kernels; null when the node is not one of theirs.
Result<std::unique_ptr<Kernel>> create_polyhead_int8_kernel(const NodeDesc& desc, const QParams& in,
                                                            const QParams& out);

}  // namespace polyhead::kernels
