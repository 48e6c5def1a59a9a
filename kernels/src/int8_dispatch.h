// The int8 kernels (docs/int8.md): create_int8_kernel() checks the operands of a node that has an
// I8 tensor (or is QUANTIZE / DEQUANTIZE) and asks the int8 factories below in turn; they answer
// as kernel_factory.h describes.
#pragma once

#include "int8_params.h"
#include "kernel_factory.h"
#include "polyhead/kernels/kernel_variant.h"

namespace polyhead::kernels {

// True when the node runs in int8: QUANTIZE, DEQUANTIZE, or any I8 operand.
bool is_int8_node(const NodeDesc& desc);

KernelResult create_int8_kernel(const NodeDesc& desc);

// XNNPACK's quantized operators.
KernelResult create_xnnpack_int8_kernel(const NodeDesc& desc, const QParams& in,
                                        const QParams& out);
// QUANTIZE and DEQUANTIZE (XNNPACK's conversions); never "not handled".
KernelResult create_xnnpack_convert_kernel(const NodeDesc& desc);

// The selected variant's int8 GEMM for convolutions with one group and fully connected layers;
// not handled when the variant has none or the layer suits XNNPACK better.
KernelResult create_own_int8_gemm_kernel(const NodeDesc& desc, const QParams& in,
                                         const QParams& out);

// Polyhead's own int8 depthwise convolution (own_int8_depthwise.cc): not handled for other
// convolutions and for options it lacks (dilation, stride above 2, windows above 8x8).
KernelResult create_own_int8_depthwise_kernel(const NodeDesc& desc, const QParams& in,
                                              const QParams& out);
// TRANSPOSE_CONV_2D (own_int8_transpose_conv.cc); never "not handled".
KernelResult create_own_int8_transpose_conv(const NodeDesc& desc, const QParams& in,
                                            const QParams& out);

// CONV_2D with a small receptive field or few output channels, vectorized over output pixels
// with `conv` (a variant's qs8_pixel_conv, own_int8_pixel_conv.cc) on an input regrouped with
// `regroup` (the variant's, or the reference's when null); not handled otherwise.
using PixelConvRow = void (*)(const reference::Qs8PixelConvRow&);
using PixelRegroup = void (*)(const int8_t* src, size_t count, size_t step, size_t bytes,
                              uint32_t pad, uint32_t* dwords);
KernelResult create_own_int8_pixel_conv(const NodeDesc& desc, const QParams& in, const QParams& out,
                                        PixelConvRow conv, PixelRegroup regroup);
// ---- Polyhead's own int8 kernels asked before XNNPACK, where they measured faster ----
// PAD as whole rows (own_int8_pad.cc).
KernelResult create_own_int8_pad_kernel(const NodeDesc& desc, const QParams& in,
                                        const QParams& out);
// Bilinear RESIZE (own_int8_resize.cc); not handled where the variant has no Int8Elementwise.
KernelResult create_own_int8_resize_kernel(const NodeDesc& desc, const QParams& in,
                                           const QParams& out);
// ADD, SUB, MUL with equal shapes, a [1,..,1,C] row or a scalar operand
// (own_int8_elementwise.cc); not handled otherwise, or where the scales leave the fixed-point
// range of int8_add_params.
KernelResult create_own_int8_elementwise_kernel(const NodeDesc& desc, const QParams& in,
                                                const QParams& out);
// The fixed-point parameters of out = a +- b (negate_a / negate_b: SUB), docs/int8.md; fails
// (kUnsupported, naming the node and the ratio) when the larger of |a.scale| / out.scale and
// b.scale / out.scale lies outside [2^-11, 2^20).
Result<Int8AddParams> int8_add_params(const schema::Node& node, const QParams& a, bool negate_a,
                                      const QParams& b, bool negate_b, const QParams& out,
                                      Int8Bounds bounds);
// The parameters of out = a * b; fails (kUnsupported) when a.scale * b.scale / out.scale has no
// positive finite float32 value.
Result<Int8MulParams> int8_mul_params(const schema::Node& node, const QParams& a, const QParams& b,
                                      const QParams& out, Int8Bounds bounds);
// ---- end of own int8 kernels asked before XNNPACK ----

// Polyhead's own int8 kernels, for what XNNPACK lacks.
KernelResult create_own_int8_kernel(const NodeDesc& desc, const QParams& in, const QParams& out);

}  // namespace polyhead::kernels
