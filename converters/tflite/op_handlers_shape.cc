// Handlers of the operators that rearrange or resize: PAD, RESHAPE, CONCATENATION,
// RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR.
#include <string>
#include <vector>

#include "converters/tflite/graph_converter.h"
#include "converters/tflite/op_handlers.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tensor_data.h"
#include "converters/tflite/tflite_options.h"

namespace polyhead::tflite {
namespace {

// `dims` with one -1 resolved against `total` elements, as a Shape of exactly `total` elements.
Result<Shape> resolve_new_shape(std::vector<int64_t> dims, int64_t total) {
  if (dims.size() > Shape::kMaxDims) return unsupported("reshape to more than 6 dimensions");
  int64_t known = 1;
  int unknown = -1;
  for (size_t k = 0; k < dims.size(); ++k) {
    if (dims[k] == -1 && unknown < 0) {
      unknown = static_cast<int>(k);
    } else if (dims[k] < 1 || dims[k] > kMaxDim) {
      return invalid("bad new shape dimension " + std::to_string(dims[k]));
    } else {
      known *= dims[k];
    }
  }
  if (unknown >= 0) {
    if (known == 0 || total % known != 0) return invalid("cannot resolve -1 in the new shape");
    dims[static_cast<size_t>(unknown)] = total / known;
  }
  Shape s;
  for (int64_t d : dims) s.push_back(d);
  if (s.elements() != total)
    return invalid("new shape " + s.to_string() + " does not match the input's " +
                   std::to_string(total) + " elements");
  return s;
}

// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR: the size from the constant second input.
Result<Converted> resize(OpContext& c, ResizeMode mode, bool align_corners,
                         bool half_pixel_centers) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(2, 2));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  const Shape xs = g.builder().shape(x);
  if (xs.rank() != 4) return invalid("input must be 4-D");
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> size, g.const_ints(c.in(1)));
  if (size.size() != 2 || size[0] < 1 || size[1] < 1 || size[0] > 65536 || size[1] > 65536)
    return invalid("size must be 2 values in [1, 65536]");
  ResizeCoordinates coords = align_corners        ? ResizeCoordinates::kAlignCorners
                             : half_pixel_centers ? ResizeCoordinates::kHalfPixel
                                                  : ResizeCoordinates::kAsymmetric;
  if (mode == ResizeMode::kNearest && coords == ResizeCoordinates::kAsymmetric) {
    // TFLite takes floor(d * in / out) here; for whole-number upscaling that equals the
    // half-pixel rule floor((d + 0.5) * in / out), which our NEAREST computes.
    if (size[0] % xs[1] != 0 || size[1] % xs[2] != 0)
      return unsupported(
          "nearest-neighbour resize without half_pixel_centers is supported "
          "for whole-number upscaling only");
    coords = ResizeCoordinates::kHalfPixel;
  }
  Converted r;
  PH_ASSIGN_OR_RETURN(r.tensor, g.builder().resize(c.name(), x, static_cast<int>(size[0]),
                                                   static_cast<int>(size[1]), mode, coords));
  g.count("RESIZE");
  r.keeps_quantization_of = x;
  return r;
}

}  // namespace

// Paddings from a constant [rank, 2] input.
Result<Converted> convert_pad(OpContext& c) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(2, 2));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> pads, g.const_ints(c.in(1)));
  const size_t rank = g.builder().shape(x).rank();
  if (pads.size() != 2 * rank) return invalid("paddings must be [rank, 2]");
  std::vector<int> before(rank), after(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0 || pads[2 * d] > (1 << 20) ||
        pads[2 * d + 1] > (1 << 20))
      return unsupported("paddings must be in [0, 2^20]");
    before[d] = static_cast<int>(pads[2 * d]);
    after[d] = static_cast<int>(pads[2 * d + 1]);
  }
  Converted r;
  PH_ASSIGN_OR_RETURN(r.tensor, g.builder().pad(c.name(), x, before, after));
  g.count("PAD");
  r.keeps_quantization_of = x;
  return r;
}

// The new shape from the constant second input, else the options, else the declared shape.
Result<Converted> convert_reshape(OpContext& c) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(1, 2));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  std::vector<int64_t> dims;
  if (c.in(1) >= 0 && g.model().constant(c.in(1)).size) {
    PH_ASSIGN_OR_RETURN(dims, g.const_ints(c.in(1)));
  } else {
    dims = ReshapeOptions(c.options()).new_shape();
    if (dims.empty()) {
      PH_ASSIGN_OR_RETURN(Shape s, g.tf_shape(c.out()));
      dims.assign(s.begin(), s.end());
    }
  }
  PH_ASSIGN_OR_RETURN(Shape s, resolve_new_shape(dims, g.builder().shape(x).elements()));
  Converted r;
  PH_ASSIGN_OR_RETURN(r.tensor, g.builder().reshape(c.name(), x, s));
  g.count("RESHAPE");
  r.keeps_quantization_of = x;
  return r;
}

Result<Converted> convert_concatenation(OpContext& c) {
  GraphConverter& g = c.g;
  const ConcatenationOptions o(c.options());
  if (c.op.inputs.empty()) return invalid("has no inputs");
  std::vector<int> xs;
  for (int32_t t : c.op.inputs) {
    PH_ASSIGN_OR_RETURN(int v, c.value(t));
    xs.push_back(v);
  }
  PH_ASSIGN_OR_RETURN(Activation a, c.output_activation(o.fused_activation()));
  PH_ASSIGN_OR_RETURN(int result, g.builder().concatenation(c.name(), xs, o.axis(), a));
  g.count("CONCATENATION");
  PH_ASSIGN_OR_RETURN(result, c.finish_activation(result, o.fused_activation()));
  return Converted{result};
}

Result<Converted> convert_resize_bilinear(OpContext& c) {
  const ResizeBilinearOptions o(c.options());
  return resize(c, ResizeMode::kBilinear, o.align_corners(), o.half_pixel_centers());
}

Result<Converted> convert_resize_nearest_neighbor(OpContext& c) {
  const ResizeNearestNeighborOptions o(c.options());
  return resize(c, ResizeMode::kNearest, o.align_corners(), o.half_pixel_centers());
}

// NHWC, the channel index (i·block + j)·C' + c going to row offset i and column offset j, as
// ours does.
Result<Converted> convert_depth_to_space(OpContext& c) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  Converted r;
  PH_ASSIGN_OR_RETURN(r.tensor, g.builder().depth_to_space(
                                    c.name(), x, DepthToSpaceOptions(c.options()).block_size()));
  g.count("DEPTH_TO_SPACE");
  r.keeps_quantization_of = x;
  return r;
}

}  // namespace polyhead::tflite
