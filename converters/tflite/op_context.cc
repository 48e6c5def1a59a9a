#include "converters/tflite/op_context.h"

#include "converters/tflite/graph_converter.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tflite_options.h"

namespace polyhead::tflite {

Status OpContext::need_inputs(size_t lo, size_t hi) const {
  if (op.inputs.size() < lo || op.inputs.size() > hi)
    return invalid("has " + std::to_string(op.inputs.size()) + " inputs");
  return Status::ok();
}

const std::string& OpContext::name() {
  if (!named_) {
    name_ = g.unique_name(base_name_);
    named_ = true;
  }
  return name_;
}

Result<int> OpContext::value(int t) {
  if (mode == OpMode::kFloatInInt8) return g.float_value(t);
  return g.value(t);
}

Result<Activation> OpContext::output_activation(int fused_code) {
  PH_ASSIGN_OR_RETURN(Activation a, fused_activation(fused_code));
  // A fused TANH comes after the clamp; int8 outputs keep TFLite's own quantization per node.
  if (mode != OpMode::kFloat || fused_code == kActTanh) return a;
  const Activation* relu = g.following_relu(out());
  if (!relu) return a;
  a.min = a.min > relu->min ? a.min : relu->min;
  a.max = a.max < relu->max ? a.max : relu->max;
  return a;
}

Result<int> OpContext::finish_activation(int result, int fused_code) {
  if (fused_code != kActTanh) return result;
  if (mode == OpMode::kInt8)
    return unsupported("a fused TANH on an int8 operator is not supported");
  g.count("TANH");
  return g.builder().unary(g.unique_name(name() + "/tanh"), UnaryOp::kTanh, result);
}

}  // namespace polyhead::tflite
