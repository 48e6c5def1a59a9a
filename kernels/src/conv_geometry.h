// The geometry of a 2-D convolution node (NHWC input, OHWI weights, Conv2DOptions) in the form
// Polyhead's own convolution kernels walk it: sizes, strides, dilations and the leading padding
// (the trailing padding follows from the output size).
#pragma once

#include <cstdint>

#include "polyhead/kernels/kernel.h"

namespace polyhead::kernels {

struct ConvGeometry {
  int64_t n = 1, h = 0, w = 0, c = 0;  // input
  int64_t oh = 0, ow = 0;              // output
  int64_t kh = 1, kw = 1;              // kernel
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0;  // padding before the first row and column

  // From a CONV_2D or DEPTHWISE_CONV_2D node whose shapes have been inferred.
  static ConvGeometry of(const NodeDesc& d) {
    const auto* o = d.node->options_as_Conv2DOptions();
    const Shape& x = d.inputs[0].shape;
    const Shape& w = d.inputs[1].shape;
    const Shape& y = d.outputs[0].shape;
    return {x[0],
            x[1],
            x[2],
            x[3],
            y[1],
            y[2],
            w[1],
            w[2],
            o->stride_h(),
            o->stride_w(),
            o->dilation_h(),
            o->dilation_w(),
            o->pad_top(),
            o->pad_left()};
  }
};

}  // namespace polyhead::kernels
