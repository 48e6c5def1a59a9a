// Handlers of QUANTIZE and DEQUANTIZE, which convert between float and int8 themselves (their
// table entries say so: GraphConverter gives them no OpMode).
#include <string>
#include <utility>
#include <vector>

#include "converters/tflite/graph_converter.h"
#include "converters/tflite/op_handlers.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tensor_data.h"

namespace polyhead::tflite {

// float -> int8 is our QUANTIZE; int8 -> int8 a requantization (nothing when the parameters are
// the same).
Result<Converted> convert_quantize(OpContext& c) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  const TfTensor& out = g.tf_tensor(c.out());
  if (out.type != kTfInt8)
    return unsupported("output '" + out.name + "' has type " + tensor_type_name(out.type) +
                       " (int8 expected)");
  PH_ASSIGN_OR_RETURN(Quantization q, g.quantization(c.out(), true));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  const std::string& name = c.name();
  int result = x;
  if (g.is_int8(x)) {
    if (!same_quantization(g.q8(x), q)) {
      PH_ASSIGN_OR_RETURN(result, g.requantize(name, x, q));
    }
  } else {
    PH_ASSIGN_OR_RETURN(result, g.builder().quantize(name, x, q));
    g.count("QUANTIZE");
    g.mark_int8(result, q);
  }
  return Converted{result};
}

// Of an int8 activation: our DEQUANTIZE. Of a constant (fp16 weights, or int8 weights of a model
// that computes in float): folded into float values, no node.
Result<Converted> convert_dequantize(OpContext& c) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  const TfTensor& out = g.tf_tensor(c.out());
  if (out.type != kTfFloat32)
    return unsupported("output '" + out.name + "' has type " + tensor_type_name(out.type) +
                       " (float32 expected)");
  if (g.is_constant(c.in(0))) {
    PH_ASSIGN_OR_RETURN(std::vector<float> values, g.const_floats(c.in(0)));
    PH_ASSIGN_OR_RETURN(Shape shape, g.tf_shape(c.out()));
    if (static_cast<size_t>(shape.elements()) != values.size())
      return invalid("output shape does not match its input");
    g.fold(c.out(), c.in(0), std::move(values));
    return Converted{};
  }
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  if (!g.is_int8(x)) {
    const TfTensor& in = g.tf_tensor(c.in(0));
    return unsupported("input '" + in.name + "' has type " + tensor_type_name(in.type) +
                       " (int8 expected)");
  }
  PH_ASSIGN_OR_RETURN(int result, g.builder().dequantize(c.name(), x));
  g.count("DEQUANTIZE");
  return Converted{result};
}

}  // namespace polyhead::tflite
