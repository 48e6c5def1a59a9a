// Handlers of the window and reduction operators: MAX_POOL_2D, AVERAGE_POOL_2D, MEAN.
#include <algorithm>
#include <vector>

#include "converters/tflite/graph_converter.h"
#include "converters/tflite/op_handlers.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tflite_options.h"

namespace polyhead::tflite {
namespace {

Result<Converted> pool(OpContext& c, PoolOp kind) {
  GraphConverter& g = c.g;
  const Pool2DOptions o(c.options());
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  const Shape xs = g.builder().shape(x);
  if (xs.rank() != 4) return invalid("input must be 4-D");
  Pool2DParams p;
  p.stride_w = o.stride_w(), p.stride_h = o.stride_h();
  p.filter_w = o.filter_width(), p.filter_h = o.filter_height();
  if (!valid_stride(p.stride_w) || !valid_stride(p.stride_h) || p.filter_w < 1 || p.filter_h < 1 ||
      p.filter_w > 65536 || p.filter_h > 65536)
    return invalid("bad filter or stride");
  PH_ASSIGN_OR_RETURN(p.activation, c.output_activation(o.fused_activation()));
  if (o.padding() == kPadSame) {
    same_pads(xs[1], p.filter_h, p.stride_h, 1, &p.pad_top, &p.pad_bottom);
    same_pads(xs[2], p.filter_w, p.stride_w, 1, &p.pad_left, &p.pad_right);
  }
  Converted r;
  PH_ASSIGN_OR_RETURN(r.tensor, g.builder().pool2d(c.name(), kind, x, p));
  const bool max = kind == PoolOp::kMax;
  g.count(max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D");
  if (max) r.keeps_quantization_of = x;  // a maximum is one of the inputs
  PH_ASSIGN_OR_RETURN(r.tensor, c.finish_activation(r.tensor, o.fused_activation()));
  return r;
}

}  // namespace

Result<Converted> convert_max_pool_2d(OpContext& c) {
  return pool(c, PoolOp::kMax);
}

Result<Converted> convert_average_pool_2d(OpContext& c) {
  return pool(c, PoolOp::kAverage);
}

// Over height and width of a 4-D tensor only.
Result<Converted> convert_mean(OpContext& c) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(2, 2));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> axes, g.const_ints(c.in(1)));
  const int64_t rank = static_cast<int64_t>(g.builder().shape(x).rank());
  for (int64_t& a : axes)
    if (a < 0) a += rank;
  std::sort(axes.begin(), axes.end());
  if (rank != 4 || axes != std::vector<int64_t>{1, 2})
    return unsupported("MEAN is supported over height and width of a 4-D tensor only");
  PH_ASSIGN_OR_RETURN(int result,
                      g.builder().mean(c.name(), x, ReducerOptions(c.options()).keep_dims()));
  g.count("MEAN");
  return Converted{result};
}

}  // namespace polyhead::tflite
