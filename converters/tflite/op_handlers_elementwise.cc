// Handlers of the element-wise operators: ADD, SUB, MUL, DIV (broadcasting), the activations
// RELU, RELU6, RELU_N1_TO_1, LOGISTIC, TANH, ABS, HARD_SWISH, LEAKY_RELU, PRELU, and SOFTMAX.
#include <limits>
#include <string>
#include <vector>

#include "converters/tflite/graph_converter.h"
#include "converters/tflite/op_handlers.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tflite_options.h"

namespace polyhead::tflite {
namespace {

Result<Converted> binary(OpContext& c, BinaryOp op, const char* kind) {
  GraphConverter& g = c.g;
  const ArithmeticOptions o(c.options());
  PH_RETURN_IF_ERROR(c.need_inputs(2, 2));
  // x * sigmoid(x) whose LOGISTIC already wrote SILU(x): that is this MUL's result.
  if (g.folds_into_producer())
    for (size_t k = 0; k < 2; ++k)
      if (g.is_swish_output(c.in(k))) return Converted{g.mapped(c.in(k))};
  PH_ASSIGN_OR_RETURN(int a, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(int b, c.value(c.in(1)));
  PH_ASSIGN_OR_RETURN(Activation fa, c.output_activation(o.fused_activation()));
  PH_ASSIGN_OR_RETURN(int result, g.builder().binary(c.name(), op, a, b, fa));
  g.count(kind);
  PH_ASSIGN_OR_RETURN(result, c.finish_activation(result, o.fused_activation()));
  return Converted{result};
}

// RELU, RELU6, RELU_N1_TO_1 become a CLAMP to [lo, hi], or nothing when the producer of their
// input took the clamp as its fused activation (OpContext::output_activation).
Result<Converted> clamp(OpContext& c, float lo, float hi) {
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  if (c.g.folds_into_producer()) return Converted{x};
  PH_ASSIGN_OR_RETURN(int result, c.g.builder().clamp(c.name(), x, lo, hi));
  c.g.count("CLAMP");
  return Converted{result};
}

Result<Converted> unary(OpContext& c, UnaryOp op, const char* kind) {
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(int result, c.g.builder().unary(c.name(), op, x));
  c.g.count(kind);
  return Converted{result};
}

}  // namespace

Result<Converted> convert_add(OpContext& c) {
  return binary(c, BinaryOp::kAdd, "ADD");
}
Result<Converted> convert_sub(OpContext& c) {
  return binary(c, BinaryOp::kSub, "SUB");
}
Result<Converted> convert_mul(OpContext& c) {
  return binary(c, BinaryOp::kMul, "MUL");
}
Result<Converted> convert_div(OpContext& c) {
  return binary(c, BinaryOp::kDiv, "DIV");
}

Result<Converted> convert_relu(OpContext& c) {
  return clamp(c, 0.f, std::numeric_limits<float>::infinity());
}
Result<Converted> convert_relu6(OpContext& c) {
  return clamp(c, 0.f, 6.f);
}
Result<Converted> convert_relu_n1_to_1(OpContext& c) {
  return clamp(c, -1.f, 1.f);
}

Result<Converted> convert_logistic(OpContext& c) {
  // x * sigmoid(x) (swish, as TensorFlow writes SiLU) is one SILU node, in float models.
  if (c.mode == OpMode::kFloat && c.op.inputs.size() == 1 &&
      c.g.swish_multiply_follows(c.out(), c.in(0))) {
    PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
    PH_ASSIGN_OR_RETURN(int result, c.g.builder().silu(c.name(), x));
    c.g.count("SILU");
    return Converted{result};
  }
  return unary(c, UnaryOp::kSigmoid, "SIGMOID");
}
Result<Converted> convert_tanh(OpContext& c) {
  return unary(c, UnaryOp::kTanh, "TANH");
}
Result<Converted> convert_abs(OpContext& c) {
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(int result, c.g.builder().abs(c.name(), x));
  c.g.count("ABS");
  return Converted{result};
}
Result<Converted> convert_hard_swish(OpContext& c) {
  return unary(c, UnaryOp::kHardSwish, "HARD_SWISH");
}

Result<Converted> convert_leaky_relu(OpContext& c) {
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(int result,
                      c.g.builder().leaky_relu(c.name(), x, LeakyReluOptions(c.options()).alpha()));
  c.g.count("LEAKY_RELU");
  return Converted{result};
}

// One slope per channel (e.g. [1, 1, C]), made a [C] constant.
Result<Converted> convert_prelu(OpContext& c) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(2, 2));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  const Shape xs = g.builder().shape(x);
  PH_ASSIGN_OR_RETURN(std::vector<float> alpha, g.const_floats(c.in(1)));
  const int64_t channels = xs.rank() ? xs[xs.rank() - 1] : 1;
  if (static_cast<int64_t>(alpha.size()) != channels)
    return unsupported("PReLU slopes must be one per channel (" + std::to_string(channels) +
                       "), got " + std::to_string(alpha.size()));
  const int slope = g.builder().add_constant(g.tf_tensor(c.in(1)).name, Shape{channels}, alpha);
  PH_ASSIGN_OR_RETURN(int result, g.builder().prelu(c.name(), x, slope));
  g.count("PRELU");
  return Converted{result};
}

Result<Converted> convert_softmax(OpContext& c) {
  PH_RETURN_IF_ERROR(c.need_inputs(1, 1));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(int result,
                      c.g.builder().softmax(c.name(), x, SoftmaxOptions(c.options()).beta()));
  c.g.count("SOFTMAX");
  return Converted{result};
}

}  // namespace polyhead::tflite
