// Maps the operators of a TFLite subgraph onto ModelBuilder calls, one TFLite operator at a time
// in file order (TFLite stores them in execution order), each through its handler in
// op_handler_table.cc. Constants are created lazily when an operator reads them; fp16 (and int8)
// constants behind DEQUANTIZE are folded into f32 constants.
//
// Quantized (int8) models follow docs/int8.md: an operator whose input is an int8 activation runs
// in int8 and its output takes the TFLite output's quantization; int8 model inputs become float
// inputs followed by a QUANTIZE node, int8 model outputs are read through a DEQUANTIZE node
// (output()), and the operators Polyhead runs in float only (float_only()) are wrapped in
// DEQUANTIZE / QUANTIZE. See docs/tflite_import.md.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "converters/tflite/op_context.h"
#include "converters/tflite/tflite_model.h"
#include "polyhead/model_builder.h"
#include "polyhead/quantization.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

struct OpHandlerEntry;

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

  // ---- For the operator handlers (op_handlers_*.cc) ----
  const TfModel& model() const { return m_; }
  // RELU-family operators folded into their producers so far.
  size_t folded_relus() const { return folded_ops_.size() - swish_outputs_.size(); }
  // LOGISTIC + MUL pairs written as one SILU node.
  size_t folded_swishes() const { return swish_outputs_.size(); }
  // TFLite tensor `t`, which the model reader has checked to exist.
  const TfTensor& tf_tensor(int t) const { return m_.tensors[static_cast<size_t>(t)]; }
  ModelBuilder& builder() { return b_; }
  // Counts a written node of `kind`.
  void count(const char* kind) { ++nodes_[kind]; }
  // When TFLite tensor `t` is read by exactly one operator, a RELU, RELU6 or RELU_N1_TO_1 with a
  // float output, and is no model output: that clamp, and the operator is marked to fold into its
  // producer (the producer's node takes the clamp as its fused activation). Null otherwise.
  const Activation* following_relu(int t);
  // True for the operator being converted when its producer took its clamp.
  bool folds_into_producer() const { return folded_ops_.count(current_) != 0; }
  // When TFLite tensor `s` = LOGISTIC(`x`) is read by exactly one operator, a float MUL of `x` and
  // `s` (either order) without a fused activation, and is no model output: true, and that MUL is
  // marked to fold into its producer, the LOGISTIC, which then writes SILU(x) as `s`.
  bool swish_multiply_follows(int s, int x);
  // `s` is the output of a LOGISTIC that wrote SILU(x) for the MUL reading it.
  bool is_swish_output(int s) const { return swish_outputs_.count(s) != 0; }
  std::string unique_name(const std::string& base);

  Result<Shape> tf_shape(int t) const;
  bool is_constant(int t) const;
  // A constant's values as floats (tensor_data.h), including DEQUANTIZE outputs folded away.
  Result<std::vector<float>> const_floats(int t) const;
  Result<std::vector<int64_t>> const_ints(int t) const;
  Result<Quantization> quantization(int t, bool per_tensor) const;
  // Records that TFLite tensor `out` is the constant `values`, computed from constant `from` (a
  // DEQUANTIZE of a constant).
  void fold(int out, int from, std::vector<float> values);
  // Whether TFLite constant `t` holds weights the file stores sparse: a sparse tensor, a DENSIFY
  // output, or a constant folded from one.
  bool from_sparse(int t) const;

  // Weights that came sparse and feed a float layer a sparse kernel can run (a 1x1 convolution
  // with one group, stride 1 and no padding, or a fully connected layer): our constant `tensor`,
  // whose dense values are `values`, read as a [rows] x [values / rows] matrix. Kept sparse when
  // choose_sparse_storage() finds a layout worth it (sparse_storage.h).
  void keep_sparse(int tensor, const std::vector<float>& values, int64_t rows);
  struct KeptSparse {
    int tensor = -1;
    int block_rows = 1, block_cols = 1;
    double density = 1;  // stored values over dense values
  };
  // The weights keep_sparse() chose, in the order seen.
  const std::vector<KeptSparse>& kept_sparse() const { return kept_sparse_; }

  // Our tensor for TFLite tensor `t`: its producer's output, an input, or a new constant (int8
  // constants stay int8).
  Result<int> value(int t);
  // Our float version of TFLite tensor `t` (for operators Polyhead runs in float only): float
  // values as they are, int8 activations through a DEQUANTIZE node, quantized constants
  // dequantized. Cached.
  Result<int> float_value(int t);

  // The weights and bias of an int8 CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED. The weights
  // `w_t` (an int8 constant of TFLite shape `w_shape`) are quantized per tensor, or per output
  // channel along TFLite's dimension `tf_axis`, which becomes our axis 0; zero points must be 0.
  // `depthwise` rearranges [1, KH, KW, C*m] into our [C*m, KH, KW, 1]. The bias `b_t` (optional,
  // -1) must be int32 with scale input_scale x weight_scale[o]. `op` names the operator in
  // messages.
  struct WeightsAndBias {
    int weights = -1, bias = -1;
  };
  Result<WeightsAndBias> int8_weights_and_bias(const char* op, int w_t, int b_t,
                                               const Shape& w_shape, int tf_axis, bool depthwise,
                                               const Quantization& input_q);

  bool is_int8(int ours) const { return q8_.count(ours) != 0; }
  const Quantization& q8(int ours) const { return q8_.at(ours); }
  // Records our tensor `ours` as int8 with `q` (the builder already knows).
  void mark_int8(int ours, const Quantization& q) { q8_[ours] = q; }
  // `x` (int8) requantized to `q` through DEQUANTIZE + QUANTIZE.
  Result<int> requantize(const std::string& name, int x, const Quantization& q);
  // b_.reshape, keeping an int8 input's quantization.
  Result<int> reshape(const std::string& name, int x, const Shape& shape);

 private:
  // Operators reading each TFLite tensor (model outputs count as readers), and the last one.
  void count_readers();
  std::vector<int> readers_;
  std::vector<int> reader_op_;
  std::map<size_t, Activation> folded_ops_;  // operator index -> the clamp its producer took
  size_t current_ = 0;                       // the operator being converted
  std::set<int> swish_outputs_;              // LOGISTIC outputs that hold SILU(x)
  Status convert(size_t index, const TfOperator& op);
  // How a (non-QUANTIZE/DEQUANTIZE) operator runs, from its data input's and output's types.
  Result<OpMode> mode_of(const TfOperator& op, const OpHandlerEntry& handler) const;
  // The output's quantization after a handler: quantized back after a float-only operator,
  // the TFLite output's (or the kept input's) parameters after an int8 one.
  Result<int> finish_quantization(OpContext& c, const Converted& converted);
  // An int8 constant (per-tensor quantized operand of ADD, MUL, ...).
  Result<int> int8_constant(int t);
  Result<int> int32_bias(int t, const Quantization& input_q, const Quantization& weights_q,
                         int64_t channels);
  // Records `result` as TFLite tensor `out`, reshaping to the declared shape when only the
  // arrangement differs (FULLY_CONNECTED's flattening); a real mismatch is an error.
  Status bind(const std::string& name, int out, int result);

  const TfModel& m_;
  ModelBuilder& b_;
  std::map<int, int> map_;                    // TFLite tensor -> our tensor
  std::map<int, std::vector<float>> folded_;  // DEQUANTIZE outputs of constants
  std::set<int> sparse_folds_;                // those folded from sparse constants
  std::vector<KeptSparse> kept_sparse_;
  std::map<int, Quantization> q8_;  // our int8 tensors and their quantization
  std::map<int, int> float_of_;     // our int8 tensor -> its DEQUANTIZE
  std::map<int, int> float_const_;  // TFLite constant -> our dequantized f32 constant
  std::map<int, int> outputs_;      // TFLite output -> our float output tensor
  std::set<std::string> names_;
  std::map<std::string, int> source_ops_, nodes_;
};

}  // namespace polyhead::tflite
