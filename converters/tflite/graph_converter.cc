#include "converters/tflite/graph_converter.h"

#include <limits>
#include <utility>

#include "converters/tflite/op_handler_table.h"
#include "converters/tflite/sparse_storage.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tensor_data.h"
#include "converters/tflite/tflite_ops.h"
#include "converters/tflite/tflite_options.h"

namespace polyhead::tflite {

Status GraphConverter::add_inputs(const Preprocess& preprocess) {
  if (m_.inputs.empty()) return invalid("the model has no input");
  for (int32_t t : m_.inputs) {
    const TfTensor& tensor = tf_tensor(t);
    if (tensor.type != kTfFloat32 && tensor.type != kTfInt8)
      return unsupported("input '" + tensor.name + "' has type " + tensor_type_name(tensor.type) +
                         " (float32 or int8 expected)");
    PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
    const std::string name = unique_name(tensor.name.empty() ? "input" : tensor.name);
    const int x = b_.add_input(name, shape, preprocess);
    map_[t] = x;
    if (tensor.type == kTfInt8) {
      // Inputs stay float: the caller feeds real values, a QUANTIZE node makes the int8 tensor.
      PH_ASSIGN_OR_RETURN(Quantization q, quantization(t, true));
      PH_ASSIGN_OR_RETURN(int qx, b_.quantize(unique_name(name + "/quantize"), x, q));
      count("QUANTIZE");
      q8_[qx] = q;
      map_[t] = qx;
    }
  }
  return Status::ok();
}

void GraphConverter::count_readers() {
  readers_.assign(m_.tensors.size(), 0);
  reader_op_.assign(m_.tensors.size(), -1);
  for (size_t i = 0; i < m_.operators.size(); ++i)
    for (int32_t t : m_.operators[i].inputs)
      if (t >= 0 && static_cast<size_t>(t) < readers_.size()) {
        ++readers_[static_cast<size_t>(t)];
        reader_op_[static_cast<size_t>(t)] = static_cast<int>(i);
      }
  for (int32_t t : m_.outputs)
    if (t >= 0 && static_cast<size_t>(t) < readers_.size()) ++readers_[static_cast<size_t>(t)];
}

const Activation* GraphConverter::following_relu(int t) {
  if (t < 0 || static_cast<size_t>(t) >= readers_.size() || readers_[static_cast<size_t>(t)] != 1)
    return nullptr;
  const int reader = reader_op_[static_cast<size_t>(t)];
  if (reader < 0) return nullptr;
  const TfOperator& op = m_.operators[static_cast<size_t>(reader)];
  if (op.inputs.empty() || op.inputs[0] != t || op.outputs.size() != 1) return nullptr;
  if (tf_tensor(op.outputs[0]).type != kTfFloat32) return nullptr;
  const float inf = std::numeric_limits<float>::infinity();
  Activation clamp;
  switch (m_.operator_codes[op.opcode_index].builtin) {
    case kRelu:
      clamp = {0.f, inf};
      break;
    case kRelu6:
      clamp = {0.f, 6.f};
      break;
    case kReluN1To1:
      clamp = {-1.f, 1.f};
      break;
    default:
      return nullptr;
  }
  return &(folded_ops_[static_cast<size_t>(reader)] = clamp);
}

bool GraphConverter::swish_multiply_follows(int s, int x) {
  if (s < 0 || static_cast<size_t>(s) >= readers_.size() || readers_[static_cast<size_t>(s)] != 1)
    return false;
  const int reader = reader_op_[static_cast<size_t>(s)];
  if (reader < 0) return false;
  const TfOperator& op = m_.operators[static_cast<size_t>(reader)];
  if (m_.operator_codes[op.opcode_index].builtin != kMul || op.inputs.size() != 2 ||
      op.outputs.size() != 1 || tf_tensor(op.outputs[0]).type != kTfFloat32)
    return false;
  const bool pair =
      (op.inputs[0] == x && op.inputs[1] == s) || (op.inputs[0] == s && op.inputs[1] == x);
  if (!pair || ArithmeticOptions(op.options).fused_activation() != kActNone) return false;
  folded_ops_[static_cast<size_t>(reader)] = Activation{};
  swish_outputs_.insert(s);
  return true;
}

Status GraphConverter::convert_operators() {
  count_readers();
  for (size_t i = 0; i < m_.operators.size(); ++i) {
    const TfOperator& op = m_.operators[i];
    current_ = i;
    Status s = convert(i, op);
    if (!s.is_ok())
      return Status(s.code(), "operator " + std::to_string(i) + " (" + operator_name(m_, op) +
                                  "): " + s.message());
    ++source_ops_[operator_name(m_, op)];
  }
  return Status::ok();
}

Status GraphConverter::convert(size_t index, const TfOperator& op) {
  if (op.outputs.size() != 1)
    return unsupported("has " + std::to_string(op.outputs.size()) + " outputs (1 supported)");
  const int out = op.outputs[0];
  // A DENSIFY's output is the constant it writes (densify_sparse_constants()).
  if (mapped(out) >= 0 || (is_constant(out) && m_.densify_outputs.count(out) == 0))
    return invalid("writes a tensor that already has a value");
  const std::string& out_name = tf_tensor(out).name;
  std::string base = out_name.empty() ? "op" + std::to_string(index) : out_name;
  const OpHandlerEntry* handler = find_handler(m_.operator_codes[op.opcode_index]);
  if (!handler) return unsupported("is not supported");

  if (handler->converts_quantization || handler->writes_no_node) {
    OpContext c(*this, op, std::move(base), OpMode::kFloat);
    PH_ASSIGN_OR_RETURN(Converted converted, handler->convert(c));
    if (converted.tensor < 0) return Status::ok();  // folded into a constant
    return bind(c.name(), out, converted.tensor);
  }
  PH_ASSIGN_OR_RETURN(OpMode mode, mode_of(op, *handler));
  OpContext c(*this, op, std::move(base), mode);
  c.name();  // taken before the handler adds constants and helper nodes
  PH_ASSIGN_OR_RETURN(Converted converted, handler->convert(c));
  PH_ASSIGN_OR_RETURN(int result, finish_quantization(c, converted));
  return bind(c.name(), out, result);
}

Result<OpMode> GraphConverter::mode_of(const TfOperator& op, const OpHandlerEntry& handler) const {
  // An operator runs in int8 when its data input is int8; the operators Polyhead has in float
  // only then run in float in between a DEQUANTIZE and a QUANTIZE.
  const size_t data_input = static_cast<size_t>(handler.data_input);
  const int first = data_input < op.inputs.size() ? op.inputs[data_input] : -1;
  const int out = op.outputs[0];
  const bool in_int8 = first >= 0 && tf_tensor(first).type == kTfInt8;
  const bool out_int8 = tf_tensor(out).type == kTfInt8;
  auto typed = [&](int t) {  // "'name' is INT8"
    return "'" + tf_tensor(t).name + "' is " + tensor_type_name(tf_tensor(t).type);
  };
  for (int32_t t : op.inputs) {
    if (first < 0 || t < 0 || t == first || is_constant(t)) continue;
    const int8_t type = tf_tensor(t).type;
    if ((type == kTfInt8 && !in_int8) || (type == kTfFloat32 && in_int8))
      return unsupported("mixes int8 and float inputs (" + typed(first) + ", " + typed(t) + ")");
  }
  if (float_only(handler.becomes))
    return in_int8 || out_int8 ? OpMode::kFloatInInt8 : OpMode::kFloat;
  if (first >= 0 && in_int8 != out_int8)
    return unsupported("input " + typed(first) + " but output " + typed(out) +
                       " (an int8 operator has int8 inputs and outputs)");
  return in_int8 ? OpMode::kInt8 : OpMode::kFloat;
}

Result<int> GraphConverter::finish_quantization(OpContext& c, const Converted& converted) {
  int result = converted.tensor;
  if (c.mode == OpMode::kFloatInInt8 && tf_tensor(c.out()).type == kTfInt8) {
    // Back to int8 after an operator that ran in float.
    PH_ASSIGN_OR_RETURN(Quantization q, quantization(c.out(), true));
    PH_ASSIGN_OR_RETURN(result, b_.quantize(unique_name(c.name() + "/quantize"), result, q));
    count("QUANTIZE");
    q8_[result] = q;
  } else if (c.mode == OpMode::kInt8) {
    PH_ASSIGN_OR_RETURN(Quantization q, quantization(c.out(), true));
    const int kept = converted.keeps_quantization_of;
    if (kept >= 0) {
      // The output keeps the input's parameters; TFLite's converter gives both the same ones, a
      // file that does not is requantized to the declared output parameters.
      const Quantization in_q = q8(kept);
      PH_RETURN_IF_ERROR(b_.set_quantization(result, in_q));
      q8_[result] = in_q;
      if (!same_quantization(in_q, q)) {
        PH_ASSIGN_OR_RETURN(result, requantize(c.name(), result, q));
      }
    } else {
      PH_RETURN_IF_ERROR(b_.set_quantization(result, q));
      q8_[result] = q;
    }
  }
  return result;
}

Status GraphConverter::bind(const std::string& name, int out, int result) {
  PH_ASSIGN_OR_RETURN(Shape want, tf_shape(out));
  const Shape got = b_.shape(result);
  if (got != want) {
    if (got.elements() != want.elements())
      return invalid("operator '" + name + "' gives shape " + got.to_string() +
                     " but the model declares " + want.to_string());
    PH_ASSIGN_OR_RETURN(result, reshape(unique_name(name + "/reshape"), result, want));
  }
  map_[out] = result;
  return Status::ok();
}

Result<int> GraphConverter::output(int tf) {
  auto it = outputs_.find(tf);
  if (it != outputs_.end()) return it->second;
  int ours = mapped(tf);
  if (ours >= 0 && is_int8(ours)) {
    auto f = float_of_.find(ours);
    if (f != float_of_.end()) {
      ours = f->second;
    } else {
      const std::string& n = tf_tensor(tf).name;
      PH_ASSIGN_OR_RETURN(
          int d, b_.dequantize(unique_name((n.empty() ? "output" : n) + "/dequantize"), ours));
      count("DEQUANTIZE");
      float_of_[ours] = d;
      ours = d;
    }
  }
  outputs_[tf] = ours;
  return ours;
}

int GraphConverter::mapped(int tf_tensor) const {
  auto it = map_.find(tf_tensor);
  return it == map_.end() ? -1 : it->second;
}

Result<int> GraphConverter::value(int t) {
  if (t < 0) return invalid("a required operator input is absent");
  const int ours = mapped(t);
  if (ours >= 0) return ours;
  const TfTensor& tensor = tf_tensor(t);
  if (!is_constant(t))
    return invalid("tensor '" + tensor.name + "' is read before any operator writes it");
  if (tensor.type == kTfInt8 && folded_.count(t) == 0) return int8_constant(t);
  PH_ASSIGN_OR_RETURN(std::vector<float> values, const_floats(t));
  PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
  const int c = b_.add_constant(tensor.name.empty() ? "constant" : tensor.name, shape, values);
  map_[t] = c;
  return c;
}

Result<int> GraphConverter::float_value(int t) {
  if (t < 0) return invalid("a required operator input is absent");
  const TfTensor& tensor = tf_tensor(t);
  if (mapped(t) < 0 && is_constant(t) && folded_.count(t) == 0 &&
      (tensor.type == kTfInt8 || tensor.type == kTfInt32)) {
    auto it = float_const_.find(t);
    if (it != float_const_.end()) return it->second;
    PH_ASSIGN_OR_RETURN(std::vector<float> values, const_floats(t));
    PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
    const int c = b_.add_constant(tensor.name.empty() ? "constant" : tensor.name, shape, values);
    float_const_[t] = c;
    return c;
  }
  PH_ASSIGN_OR_RETURN(int x, value(t));
  if (!is_int8(x)) return x;
  auto it = float_of_.find(x);
  if (it != float_of_.end()) return it->second;
  PH_ASSIGN_OR_RETURN(
      int f, b_.dequantize(
                 unique_name((tensor.name.empty() ? "tensor" : tensor.name) + "/dequantize"), x));
  count("DEQUANTIZE");
  float_of_[x] = f;
  return f;
}

Result<int> GraphConverter::int8_constant(int t) {
  const TfTensor& tensor = tf_tensor(t);
  PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
  PH_ASSIGN_OR_RETURN(std::vector<int8_t> values, constant_int8(m_, t, shape));
  PH_ASSIGN_OR_RETURN(Quantization q, quantization(t, true));
  const int c =
      b_.add_constant_i8(tensor.name.empty() ? "constant" : tensor.name, shape, values, q);
  q8_[c] = q;
  return c;
}

void GraphConverter::fold(int out, int from, std::vector<float> values) {
  folded_[out] = std::move(values);
  if (from_sparse(from)) sparse_folds_.insert(out);
}

bool GraphConverter::from_sparse(int t) const {
  if (t < 0 || static_cast<size_t>(t) >= m_.tensors.size()) return false;
  return tf_tensor(t).sparse || m_.densify_outputs.count(t) != 0 || sparse_folds_.count(t) != 0;
}

void GraphConverter::keep_sparse(int tensor, const std::vector<float>& values, int64_t rows) {
  if (rows < 1 || values.empty() || values.size() % static_cast<size_t>(rows) != 0) return;
  const auto choice = choose_sparse_storage(values.data(), static_cast<size_t>(rows),
                                            values.size() / static_cast<size_t>(rows));
  if (choice)
    kept_sparse_.push_back({tensor, choice->block_rows, choice->block_cols, choice->density});
}

Result<Shape> GraphConverter::tf_shape(int t) const {
  return tensor_shape(m_, t);
}

bool GraphConverter::is_constant(int t) const {
  if (t < 0) return false;
  return folded_.count(t) != 0 || m_.constant(t).size != 0;
}

Result<std::vector<float>> GraphConverter::const_floats(int t) const {
  if (t < 0 || static_cast<size_t>(t) >= m_.tensors.size())
    return invalid("a required operator input is absent");
  auto folded = folded_.find(t);
  if (folded != folded_.end()) return folded->second;
  return constant_floats(m_, t);
}

Result<std::vector<int64_t>> GraphConverter::const_ints(int t) const {
  return constant_ints(m_, t);
}

Result<Quantization> GraphConverter::quantization(int t, bool per_tensor) const {
  return tensor_quantization(m_, t, per_tensor);
}

Result<int> GraphConverter::requantize(const std::string& name, int x, const Quantization& q) {
  PH_ASSIGN_OR_RETURN(int d, b_.dequantize(unique_name(name + "/dequantize"), x));
  count("DEQUANTIZE");
  PH_ASSIGN_OR_RETURN(int r, b_.quantize(unique_name(name + "/requantize"), d, q));
  count("QUANTIZE");
  q8_[r] = q;
  return r;
}

Result<int> GraphConverter::reshape(const std::string& name, int x, const Shape& shape) {
  PH_ASSIGN_OR_RETURN(int r, b_.reshape(name, x, shape));
  count("RESHAPE");
  if (is_int8(x)) {
    const Quantization q = q8(x);
    PH_RETURN_IF_ERROR(b_.set_quantization(r, q));
    q8_[r] = q;
  }
  return r;
}

std::string GraphConverter::unique_name(const std::string& base_in) {
  const std::string base = base_in.empty() ? "node" : base_in;
  std::string name = base;
  for (int i = 2; names_.count(name); ++i) name = base + "_" + std::to_string(i);
  names_.insert(name);
  return name;
}

}  // namespace polyhead::tflite
