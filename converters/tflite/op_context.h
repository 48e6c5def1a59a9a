// What an operator handler (op_handlers_*.cc) works with: the TFLite operator being converted,
// how it runs, its unique node name, and the GraphConverter holding the tensors and the builder.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "converters/tflite/tflite_model.h"
#include "polyhead/model_builder.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

class GraphConverter;

// How an operator runs (docs/tflite_import.md, "Quantized (int8) models").
enum class OpMode {
  kFloat,        // float inputs and outputs (or QUANTIZE/DEQUANTIZE, which choose themselves)
  kInt8,         // its data input is int8: an int8 node whose output takes the TFLite output's
                 // quantization
  kFloatInInt8,  // a float-only operator in an int8 model: int8 inputs are dequantized, an int8
                 // output is quantized back
};

// What a handler made.
struct Converted {
  int tensor = -1;  // our tensor for the operator's output; -1: nothing (a DEQUANTIZE folded away)
  // In int8: the input whose quantization the output keeps (PAD, MAX_POOL_2D, RESHAPE, RESIZE);
  // -1: the output takes the TFLite output's quantization.
  int keeps_quantization_of = -1;
};

class OpContext {
 public:
  OpContext(GraphConverter& graph, const TfOperator& op, std::string base_name, OpMode mode)
      : g(graph), op(op), mode(mode), base_name_(std::move(base_name)) {}

  GraphConverter& g;
  const TfOperator& op;
  const OpMode mode;

  // Input tensor k, or -1 when absent.
  int in(size_t k) const { return k < op.inputs.size() ? op.inputs[k] : -1; }
  int out() const { return op.outputs[0]; }
  const Table& options() const { return op.options; }
  // "has N inputs" unless lo <= N <= hi.
  Status need_inputs(size_t lo, size_t hi) const;

  // The node's unique name, taken on first use (GraphConverter takes it before calling a handler
  // whose operator follows the int8 rules, so that helper nodes are named after it).
  const std::string& name();

  // Our tensor for input `t` as the operator reads it: as the graph has it, or its float version
  // when the operator runs in float inside an int8 model.
  Result<int> value(int t);
  // `result` followed by a TANH node for a fused TANH (other fused activations are node options).
  Result<int> finish_activation(int result, int fused_code);
  // The node's output clamp: its fused activation, narrowed by a RELU, RELU6 or RELU_N1_TO_1 that
  // is the only reader of the output in a float model (that operator then writes no node of its
  // own: GraphConverter::folds_into_producer).
  Result<Activation> output_activation(int fused_code);

 private:
  std::string base_name_, name_;
  bool named_ = false;
};

// Converts one TFLite operator.
using OpHandler = Result<Converted> (*)(OpContext& c);

}  // namespace polyhead::tflite
