// Maps the operators of a TFLite subgraph onto ModelBuilder calls, one TFLite operator at a time
// in file order (TFLite stores them in execution order). Constants are created lazily when an
// operator reads them; fp16 (and int8) constants behind DEQUANTIZE are folded into f32 constants.
//
// Quantized (int8) models follow docs/int8.md: an operator whose input is an int8 activation runs
// in int8 and its output takes the TFLite output's quantization; int8 model inputs become float
// inputs followed by a QUANTIZE node, int8 model outputs are read through a DEQUANTIZE node
// (output()), and the operators Polyhead runs in float only (SOFTMAX, DIV, PRELU, transposed
// convolution) are wrapped in DEQUANTIZE / QUANTIZE. See docs/tflite_import.md.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "converters/tflite/tflite_model.h"
#include "polyhead/model_builder.h"
#include "polyhead/quantization.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

// The one message listing every operator the converter cannot map, with counts
// ("unsupported operators: GATHER x3, CUSTOM(Foo) x1"), or ok.
Status check_supported_operators(const TfModel& model);

// "CONV_2D" or "CUSTOM(name)".
std::string operator_name(const TfModel& model, const TfOperator& op);

class GraphConverter {
 public:
  GraphConverter(const TfModel& model, ModelBuilder& builder) : m_(model), b_(builder) {}

  // Adds the subgraph's inputs (rank <= 6) with `preprocess`: float32 inputs as they are, int8
  // inputs as a float32 input of the same name followed by a QUANTIZE node.
  Status add_inputs(const Preprocess& preprocess);
  // Converts every operator; stops at the first failure, naming the operator.
  Status convert_operators();

  // Our tensor for a TFLite tensor produced by an operator or an input; -1 when none.
  int mapped(int tf_tensor) const;
  // Our float tensor for model output `tf_tensor`: mapped(), or for an int8 output a DEQUANTIZE
  // of it (added once); -1 when the tensor is not computed.
  Result<int> output(int tf_tensor);

  // Counts by TFLite operator name and by written .phm node kind.
  const std::map<std::string, int>& source_op_counts() const { return source_ops_; }
  const std::map<std::string, int>& node_counts() const { return nodes_; }

 private:
  Status convert(size_t index, const TfOperator& op);
  Result<Shape> tf_shape(int t) const;
  // Our tensor for TFLite tensor `t`: its producer's output, an input, or a new constant (int8
  // constants stay int8). While an operator runs in float (float_mode_), float_value(t).
  Result<int> value(int t);
  Result<int> value_impl(int t);
  // b_.reshape, keeping an int8 input's quantization.
  Result<int> reshape(const std::string& name, int x, const Shape& shape);
  bool is_constant(int t) const;
  // A constant's values as floats: float32, float16, or int8/int32 dequantized with their
  // quantization (per tensor or per channel).
  Result<std::vector<float>> const_floats(int t) const;
  Result<std::vector<int64_t>> const_ints(int t) const;
  // The checked quantization of TFLite tensor `t`: present, without custom details, scales finite
  // and > 0, one zero point per scale within the type's range, per tensor or one scale per
  // element of the quantized dimension. `per_tensor` requires a single scale (activations).
  Result<Quantization> quantization(int t, bool per_tensor) const;
  // An int8 constant (per-tensor quantized operand of ADD, MUL, ...).
  Result<int> int8_constant(int t);
  // Our float version of TFLite tensor `t` (for operators Polyhead runs in float only): float
  // values as they are, int8 activations through a DEQUANTIZE node, quantized constants
  // dequantized. Cached.
  Result<int> float_value(int t);
  // The weights (int8, [O, ...] per channel along 0 or per tensor) and bias (int32, scale
  // input_scale x weight_scale[o], checked) of an int8 CONV_2D / FULLY_CONNECTED.
  Result<int> int8_weights(int t, const Shape& our_shape, const std::vector<int8_t>& values,
                           const Quantization& q);
  Result<int> int32_bias(int t, const Quantization& input_q, const Quantization& weights_q,
                         int64_t channels);
  bool is_int8(int ours) const { return q8_.count(ours) != 0; }
  const Quantization& q8(int ours) const { return q8_.at(ours); }
  // `x` (int8) requantized to `q` through DEQUANTIZE + QUANTIZE.
  Result<int> requantize(const std::string& name, int x, const Quantization& q);
  std::string unique_name(const std::string& base);
  // Records `result` as TFLite tensor `out`, reshaping to the declared shape when only the
  // arrangement differs (FULLY_CONNECTED's flattening); a real mismatch is an error.
  Status bind(const std::string& name, int out, int result);
  Result<int> finish_activation(const std::string& name, int result, int fused_code);
  void count(const char* kind) { ++nodes_[kind]; }

  const TfModel& m_;
  ModelBuilder& b_;
  std::map<int, int> map_;                    // TFLite tensor -> our tensor
  std::map<int, std::vector<float>> folded_;  // DEQUANTIZE outputs of constants
  std::map<int, Quantization> q8_;            // our int8 tensors and their quantization
  std::map<int, int> float_of_;               // our int8 tensor -> its DEQUANTIZE
  std::map<int, int> float_const_;            // TFLite constant -> our dequantized f32 constant
  std::map<int, int> outputs_;                // TFLite output -> our float output tensor
  bool float_mode_ = false;  // the operator being converted runs in float inside an int8 model
  bool int8_mode_ = false;   // the operator being converted runs in int8
  std::set<std::string> names_;
  std::map<std::string, int> source_ops_, nodes_;
};

}  // namespace polyhead::tflite
