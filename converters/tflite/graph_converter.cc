#include "converters/tflite/graph_converter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "converters/tflite/tflite_ops.h"

namespace polyhead::tflite {
namespace {

constexpr const char* kTransposeConvBias = "Convolution2DTransposeBias";
constexpr int64_t kMaxDim = int64_t{1} << 24;

// ActivationFunctionType and Padding of the TFLite schema.
enum { kActNone = 0, kActRelu = 1, kActReluN1To1 = 2, kActRelu6 = 3, kActTanh = 4 };
enum { kPadSame = 0, kPadValid = 1 };

Status invalid(const std::string& m) {
  return Status(ErrorCode::kInvalidModel, m);
}
Status unsupported(const std::string& m) {
  return Status(ErrorCode::kUnsupported, m);
}

bool supported_builtin(int code) {
  switch (code) {
    case kAdd:
    case kAveragePool2D:
    case kConcatenation:
    case kConv2D:
    case kDepthwiseConv2D:
    case kDequantize:
    case kFullyConnected:
    case kLogistic:
    case kMaxPool2D:
    case kMul:
    case kRelu:
    case kReluN1To1:
    case kRelu6:
    case kReshape:
    case kResizeBilinear:
    case kSoftmax:
    case kTanh:
    case kPad:
    case kMean:
    case kSub:
    case kDiv:
    case kPrelu:
    case kTransposeConv:
    case kResizeNearestNeighbor:
    case kLeakyRelu:
    case kHardSwish:
    case kQuantize:
      return true;
    default:
      return false;
  }
}

// SAME padding: total = max((out-1)*stride + (k-1)*dilation + 1 - in, 0), out = ceil(in/stride);
// the odd pixel goes after.
void same_pads(int64_t in, int64_t k, int64_t stride, int64_t dilation, int* before, int* after) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
  *before = static_cast<int>(total / 2);
  *after = static_cast<int>(total - total / 2);
}

bool valid_stride(int64_t s) {
  return s >= 1 && s <= 4096;
}

bool same_quantization(const Quantization& a, const Quantization& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point && a.axis == b.axis;
}

std::string str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.7g", v);
  return buf;
}

// Index along dimension `axis` of element `i` of a tensor of `shape` (row-major).
size_t channel_of(size_t i, const Shape& shape, int axis) {
  size_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.rank(); ++d)
    inner *= static_cast<size_t>(shape[d]);
  return (i / inner) % static_cast<size_t>(shape[static_cast<size_t>(axis)]);
}

// [1, KH, KW, C*m] -> [C*m, KH, KW, 1]: TFLite's depthwise weights in our grouped layout.
template <typename T>
std::vector<T> depthwise_to_grouped(const std::vector<T>& w, int64_t kh, int64_t kw, int64_t oc) {
  std::vector<T> t(w.size());
  for (int64_t y = 0; y < kh; ++y)
    for (int64_t x = 0; x < kw; ++x)
      for (int64_t c = 0; c < oc; ++c)
        t[static_cast<size_t>((c * kh + y) * kw + x)] =
            w[static_cast<size_t>((y * kw + x) * oc + c)];
  return t;
}

// Operators Polyhead runs in float only: in an int8 model they are wrapped in DEQUANTIZE/QUANTIZE.
bool float_only(int code, bool custom) {
  return custom || code == kSoftmax || code == kDiv || code == kPrelu || code == kTransposeConv;
}

}  // namespace

std::string operator_name(const TfModel& model, const TfOperator& op) {
  const TfOperatorCode& code = model.operator_codes[op.opcode_index];
  if (code.builtin == kCustom) return "CUSTOM(" + code.custom + ")";
  return builtin_name(code.builtin);
}

Status check_supported_operators(const TfModel& model) {
  std::vector<std::pair<std::string, int>> missing;  // in first-seen order
  for (const TfOperator& op : model.operators) {
    const TfOperatorCode& code = model.operator_codes[op.opcode_index];
    const bool ok = code.builtin == kCustom ? code.custom == kTransposeConvBias
                                            : supported_builtin(code.builtin);
    if (ok) continue;
    const std::string name = operator_name(model, op);
    auto it = std::find_if(missing.begin(), missing.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == missing.end())
      missing.emplace_back(name, 1);
    else
      ++it->second;
  }
  if (missing.empty()) return Status::ok();
  std::string message = "unsupported operators: ";
  for (size_t i = 0; i < missing.size(); ++i) {
    if (i) message += ", ";
    message += missing[i].first + " x" + std::to_string(missing[i].second);
  }
  return unsupported(message);
}

int GraphConverter::mapped(int tf_tensor) const {
  auto it = map_.find(tf_tensor);
  return it == map_.end() ? -1 : it->second;
}

Result<Shape> GraphConverter::tf_shape(int t) const {
  if (t < 0 || static_cast<size_t>(t) >= m_.tensors.size())
    return invalid("a required operator input is absent");
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  if (tensor.shape.size() > Shape::kMaxDims)
    return unsupported("tensor '" + tensor.name + "' has rank " +
                       std::to_string(tensor.shape.size()) + " (at most 6 is supported)");
  Shape s;
  for (int32_t d : tensor.shape) {
    if (d < 1 || d > kMaxDim)
      return invalid("tensor '" + tensor.name + "' has dimension " + std::to_string(d) +
                     " (dynamic or out of range)");
    s.push_back(d);
  }
  return s;
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
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  const TfBuffer buf = m_.constant(t);
  PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
  const size_t n = static_cast<size_t>(shape.elements());
  std::vector<float> values(n);
  if (tensor.type == kTfFloat32) {
    if (buf.size != n * 4)
      return invalid("constant '" + tensor.name + "' holds " + std::to_string(buf.size) +
                     " bytes, its shape " + shape.to_string() + " needs " + std::to_string(n * 4));
    if (n) std::memcpy(values.data(), buf.data, n * 4);
  } else if (tensor.type == kTfFloat16) {
    if (buf.size != n * 2)
      return invalid("fp16 constant '" + tensor.name + "' holds " + std::to_string(buf.size) +
                     " bytes, its shape " + shape.to_string() + " needs " + std::to_string(n * 2));
    for (size_t i = 0; i < n; ++i) {
      uint16_t h = 0;
      std::memcpy(&h, buf.data + 2 * i, 2);
      const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
      float v;
      if (exponent == 0)
        v = std::ldexp(static_cast<float>(mantissa), -24);
      else if (exponent == 31)
        v = mantissa ? std::numeric_limits<float>::quiet_NaN()
                     : std::numeric_limits<float>::infinity();
      else
        v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
      values[i] = (h & 0x8000) ? -v : v;
    }
  } else if (tensor.type == kTfInt8 || tensor.type == kTfInt32) {
    // A quantized constant (int8 weights, int32 bias) read as floats: hybrid models, DEQUANTIZE
    // of a constant, operators that run in float.
    const size_t width = tensor.type == kTfInt8 ? 1 : 4;
    if (buf.size != n * width)
      return invalid("constant '" + tensor.name + "' holds " + std::to_string(buf.size) +
                     " bytes, its shape " + shape.to_string() + " needs " +
                     std::to_string(n * width));
    if (!tensor.quantized)
      return unsupported("constant '" + tensor.name + "' has type " +
                         tensor_type_name(tensor.type) + " without quantization parameters");
    PH_ASSIGN_OR_RETURN(Quantization q, quantization(t, false));
    for (size_t i = 0; i < n; ++i) {
      const size_t c = q.axis < 0 ? 0 : channel_of(i, shape, q.axis);
      int32_t v;
      if (width == 1) {
        v = static_cast<int8_t>(buf.data[i]);
      } else {
        std::memcpy(&v, buf.data + 4 * i, 4);
      }
      values[i] = static_cast<float>(static_cast<double>(q.scale[c]) *
                                     (static_cast<double>(v) - q.zero_point[c]));
    }
  } else {
    return unsupported("constant '" + tensor.name + "' has type " + tensor_type_name(tensor.type) +
                       " (float32 or float16 expected)");
  }
  for (float v : values)
    if (!std::isfinite(v)) return invalid("constant '" + tensor.name + "' holds NaN or inf");
  return values;
}

Result<std::vector<int64_t>> GraphConverter::const_ints(int t) const {
  if (t < 0 || static_cast<size_t>(t) >= m_.tensors.size())
    return invalid("a required operator input is absent");
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  const TfBuffer buf = m_.constant(t);
  if (buf.size == 0) return unsupported("tensor '" + tensor.name + "' must be a constant");
  const size_t width = tensor.type == kTfInt32 ? 4 : tensor.type == kTfInt64 ? 8 : 0;
  if (width == 0)
    return unsupported("constant '" + tensor.name + "' has type " + tensor_type_name(tensor.type) +
                       " (int32 or int64 expected)");
  int64_t expected = 1;
  for (int32_t d : tensor.shape) {
    if (d < 0 || d > kMaxDim) return invalid("constant '" + tensor.name + "' has a bad shape");
    expected *= d;
  }
  if (buf.size % width != 0 || buf.size / width != static_cast<size_t>(expected))
    return invalid("constant '" + tensor.name + "' holds " + std::to_string(buf.size) +
                   " bytes, which does not match its shape");
  std::vector<int64_t> values(buf.size / width);
  for (size_t i = 0; i < values.size(); ++i) {
    if (width == 4) {
      int32_t v;
      std::memcpy(&v, buf.data + 4 * i, 4);
      values[i] = v;
    } else {
      std::memcpy(&values[i], buf.data + 8 * i, 8);
    }
  }
  return values;
}

Result<Quantization> GraphConverter::quantization(int t, bool per_tensor) const {
  if (t < 0 || static_cast<size_t>(t) >= m_.tensors.size())
    return invalid("a required operator input is absent");
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  const TfQuantization& tq = tensor.quantization;
  const std::string where = "tensor '" + tensor.name + "' (" + tensor_type_name(tensor.type) + ")";
  if (tq.scale.empty()) return invalid(where + " has no quantization parameters");
  if (tq.details_type != 0)
    return unsupported(where + " uses custom quantization details (type " +
                       std::to_string(tq.details_type) +
                       "); only affine quantization is supported");
  if (tq.zero_point.size() != tq.scale.size())
    return invalid(where + " has " + std::to_string(tq.scale.size()) + " scales but " +
                   std::to_string(tq.zero_point.size()) + " zero points");
  if (per_tensor && tq.scale.size() != 1)
    return unsupported(where + " is quantized per channel (" + std::to_string(tq.scale.size()) +
                       " scales); int8 activations must be quantized per tensor");
  Quantization q;
  if (tq.scale.size() > 1) {
    const int32_t dim = tq.quantized_dimension;
    if (dim < 0 || static_cast<size_t>(dim) >= tensor.shape.size())
      return invalid(where + " has quantized_dimension " + std::to_string(dim) + " outside its " +
                     std::to_string(tensor.shape.size()) + " dimensions");
    const int64_t channels = tensor.shape[static_cast<size_t>(dim)];
    if (static_cast<int64_t>(tq.scale.size()) != channels)
      return invalid(where + " has " + std::to_string(tq.scale.size()) + " scales for its " +
                     std::to_string(channels) + " channels along dimension " + std::to_string(dim));
    q.axis = dim;
  }
  const int64_t lo = tensor.type == kTfInt8 ? -128 : 0, hi = tensor.type == kTfInt8 ? 127 : 0;
  for (size_t i = 0; i < tq.scale.size(); ++i) {
    const float s = tq.scale[i];
    if (!std::isfinite(s) || !(s > 0.f))
      return invalid(where + " has quantization scale " + str(s) +
                     (tq.scale.size() > 1 ? " at channel " + std::to_string(i) : std::string()) +
                     " (must be finite and > 0)");
    // Scales whose reciprocal overflows cannot be requantized.
    if (s < 1e-30f || s > 1e30f)
      return unsupported(where + " has quantization scale " + str(s) + " (outside [1e-30, 1e30])");
    const int64_t zp = tq.zero_point[i];
    if (zp < lo || zp > hi)
      return invalid(where + " has zero point " + std::to_string(zp) +
                     (tq.scale.size() > 1 ? " at channel " + std::to_string(i) : std::string()) +
                     " (must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "])");
    q.scale.push_back(s);
    q.zero_point.push_back(static_cast<int32_t>(zp));
  }
  return q;
}

Result<int> GraphConverter::int8_constant(int t) {
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
  const TfBuffer buf = m_.constant(t);
  const size_t n = static_cast<size_t>(shape.elements());
  if (buf.size != n)
    return invalid("constant '" + tensor.name + "' holds " + std::to_string(buf.size) +
                   " bytes, its shape " + shape.to_string() + " needs " + std::to_string(n));
  PH_ASSIGN_OR_RETURN(Quantization q, quantization(t, true));
  std::vector<int8_t> values(n);
  if (n) std::memcpy(values.data(), buf.data, n);
  const int c =
      b_.add_constant_i8(tensor.name.empty() ? "constant" : tensor.name, shape, values, q);
  q8_[c] = q;
  return c;
}

Result<int> GraphConverter::float_value(int t) {
  if (t < 0) return invalid("a required operator input is absent");
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
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
  PH_ASSIGN_OR_RETURN(int x, value_impl(t));
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

Result<int> GraphConverter::output(int tf) {
  auto it = outputs_.find(tf);
  if (it != outputs_.end()) return it->second;
  int ours = mapped(tf);
  if (ours >= 0 && is_int8(ours)) {
    auto f = float_of_.find(ours);
    if (f != float_of_.end()) {
      ours = f->second;
    } else {
      const std::string& n = m_.tensors[static_cast<size_t>(tf)].name;
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

Result<int> GraphConverter::requantize(const std::string& name, int x, const Quantization& q) {
  PH_ASSIGN_OR_RETURN(int d, b_.dequantize(unique_name(name + "/dequantize"), x));
  count("DEQUANTIZE");
  PH_ASSIGN_OR_RETURN(int r, b_.quantize(unique_name(name + "/requantize"), d, q));
  count("QUANTIZE");
  q8_[r] = q;
  return r;
}

Result<int> GraphConverter::int8_weights(int t, const Shape& our_shape,
                                         const std::vector<int8_t>& values, const Quantization& q) {
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  for (size_t c = 0; c < q.zero_point.size(); ++c)
    if (q.zero_point[c] != 0)
      return unsupported(
          "weights '" + tensor.name + "' have zero point " + std::to_string(q.zero_point[c]) +
          (q.zero_point.size() > 1 ? " at channel " + std::to_string(c) : std::string()) +
          " (int8 weights must be symmetric: zero point 0)");
  const int w =
      b_.add_constant_i8(tensor.name.empty() ? "weights" : tensor.name, our_shape, values, q);
  q8_[w] = q;
  return w;
}

Result<int> GraphConverter::int32_bias(int t, const Quantization& input_q,
                                       const Quantization& weights_q, int64_t channels) {
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  if (tensor.type != kTfInt32)
    return unsupported("bias '" + tensor.name + "' of an int8 operator has type " +
                       tensor_type_name(tensor.type) + " (int32 expected)");
  if (!is_constant(t)) return unsupported("bias '" + tensor.name + "' must be a constant");
  PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
  if (shape.elements() != channels)
    return invalid("bias '" + tensor.name + "' has shape " + shape.to_string() + " for " +
                   std::to_string(channels) + " output channels");
  const TfBuffer buf = m_.constant(t);
  if (buf.size != static_cast<size_t>(channels) * 4)
    return invalid("bias '" + tensor.name + "' holds " + std::to_string(buf.size) +
                   " bytes, its shape " + shape.to_string() + " needs " +
                   std::to_string(channels * 4));
  PH_ASSIGN_OR_RETURN(Quantization bq, quantization(t, false));
  Quantization ours;
  ours.axis = weights_q.per_channel() ? 0 : -1;
  const size_t n = ours.axis == 0 ? static_cast<size_t>(channels) : 1;
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    const double expected =
        static_cast<double>(input_q.scale[0]) * weights_q.scale[weights_q.per_channel() ? c : 0];
    const double found = bq.scale[bq.scale.size() == 1 ? 0 : c];
    if (std::fabs(found - expected) > 1e-4 * expected)
      return invalid("bias '" + tensor.name + "' has scale " + str(found) +
                     (channels > 1 ? " at channel " + std::to_string(c) : std::string()) +
                     ", but input scale x weight scale is " + str(expected) +
                     " (TFLite requires them equal, to 1e-4 relative)");
    if (c < n) {
      ours.scale.push_back(static_cast<float>(expected));
      ours.zero_point.push_back(0);
    }
  }
  std::vector<int32_t> values(static_cast<size_t>(channels));
  std::memcpy(values.data(), buf.data, buf.size);
  return b_.add_constant_i32(tensor.name.empty() ? "bias" : tensor.name, Shape{channels}, values,
                             ours);
}

Result<int> GraphConverter::value(int t) {
  if (float_mode_) return float_value(t);
  return value_impl(t);
}

Result<int> GraphConverter::value_impl(int t) {
  if (t < 0) return invalid("a required operator input is absent");
  const int ours = mapped(t);
  if (ours >= 0) return ours;
  const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
  if (!is_constant(t))
    return invalid("tensor '" + tensor.name + "' is read before any operator writes it");
  if (tensor.type == kTfInt8 && folded_.count(t) == 0) return int8_constant(t);
  PH_ASSIGN_OR_RETURN(std::vector<float> values, const_floats(t));
  PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
  const int c = b_.add_constant(tensor.name.empty() ? "constant" : tensor.name, shape, values);
  map_[t] = c;
  return c;
}

std::string GraphConverter::unique_name(const std::string& base_in) {
  const std::string base = base_in.empty() ? "node" : base_in;
  std::string name = base;
  for (int i = 2; names_.count(name); ++i) name = base + "_" + std::to_string(i);
  names_.insert(name);
  return name;
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

Result<int> GraphConverter::finish_activation(const std::string& name, int result, int code) {
  if (code != kActTanh) return result;
  if (int8_mode_) return unsupported("a fused TANH on an int8 operator is not supported");
  count("TANH");
  return b_.unary(unique_name(name + "/tanh"), UnaryOp::kTanh, result);
}

namespace {

Result<Activation> fused_activation(int code) {
  switch (code) {
    case kActNone:
    case kActTanh:  // added as a node after the operator
      return Activation::none();
    case kActRelu:
      return Activation::relu();
    case kActRelu6:
      return Activation::relu6();
    case kActReluN1To1:
      return Activation{-1.f, 1.f};
    default:
      return unsupported("fused activation " + std::to_string(code) + " is not supported");
  }
}

}  // namespace

Status GraphConverter::add_inputs(const Preprocess& preprocess) {
  if (m_.inputs.empty()) return invalid("the model has no input");
  for (int32_t t : m_.inputs) {
    const TfTensor& tensor = m_.tensors[static_cast<size_t>(t)];
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

Status GraphConverter::convert_operators() {
  for (size_t i = 0; i < m_.operators.size(); ++i) {
    const TfOperator& op = m_.operators[i];
    Status s = convert(i, op);
    if (!s.is_ok())
      return Status(s.code(), "operator " + std::to_string(i) + " (" + operator_name(m_, op) +
                                  "): " + s.message());
    ++source_ops_[operator_name(m_, op)];
  }
  return Status::ok();
}

Status GraphConverter::convert(size_t index, const TfOperator& op) {
  const int code = m_.operator_codes[op.opcode_index].builtin;
  const bool custom = code == kCustom;
  if (op.outputs.size() != 1)
    return unsupported("has " + std::to_string(op.outputs.size()) + " outputs (1 supported)");
  const int out = op.outputs[0];
  if (mapped(out) >= 0 || is_constant(out))
    return invalid("writes a tensor that already has a value");
  const std::string& out_name = m_.tensors[static_cast<size_t>(out)].name;
  const std::string base = out_name.empty() ? "op" + std::to_string(index) : out_name;
  const Table& o = op.options;
  auto in = [&](size_t k) { return k < op.inputs.size() ? op.inputs[k] : -1; };
  auto need_inputs = [&](size_t lo, size_t hi) -> Status {
    if (op.inputs.size() < lo || op.inputs.size() > hi)
      return invalid("has " + std::to_string(op.inputs.size()) + " inputs");
    return Status::ok();
  };

  const TfTensor& out_tensor = m_.tensors[static_cast<size_t>(out)];
  const bool out_int8 = out_tensor.type == kTfInt8;
  float_mode_ = int8_mode_ = false;

  if (code == kDequantize) {
    PH_RETURN_IF_ERROR(need_inputs(1, 1));
    if (out_tensor.type != kTfFloat32)
      return unsupported("output '" + out_name + "' has type " + tensor_type_name(out_tensor.type) +
                         " (float32 expected)");
    if (is_constant(in(0))) {
      // fp16 weights, or int8 weights of a model that computes in float: folded into floats.
      PH_ASSIGN_OR_RETURN(std::vector<float> values, const_floats(in(0)));
      PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(out));
      if (static_cast<size_t>(shape.elements()) != values.size())
        return invalid("output shape does not match its input");
      folded_[out] = std::move(values);
      return Status::ok();
    }
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    if (!is_int8(x))
      return unsupported("input '" + m_.tensors[static_cast<size_t>(in(0))].name + "' has type " +
                         tensor_type_name(m_.tensors[static_cast<size_t>(in(0))].type) +
                         " (int8 expected)");
    const std::string name = unique_name(base);
    PH_ASSIGN_OR_RETURN(int result, b_.dequantize(name, x));
    count("DEQUANTIZE");
    return bind(name, out, result);
  }

  if (code == kQuantize) {
    // float -> int8 is our QUANTIZE; int8 -> int8 a requantization (nothing when the parameters
    // are the same).
    PH_RETURN_IF_ERROR(need_inputs(1, 1));
    if (!out_int8)
      return unsupported("output '" + out_name + "' has type " + tensor_type_name(out_tensor.type) +
                         " (int8 expected)");
    PH_ASSIGN_OR_RETURN(Quantization q, quantization(out, true));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    const std::string name = unique_name(base);
    int result = x;
    if (is_int8(x)) {
      if (!same_quantization(q8(x), q)) {
        PH_ASSIGN_OR_RETURN(result, requantize(name, x, q));
      }
    } else {
      PH_ASSIGN_OR_RETURN(result, b_.quantize(name, x, q));
      count("QUANTIZE");
      q8_[result] = q;
    }
    return bind(name, out, result);
  }

  // Every other operator reads its first data input as a graph value. It runs in int8 when that
  // input is int8; the operators Polyhead has in float only then run in float in between a
  // DEQUANTIZE and a QUANTIZE.
  const int first = code == kTransposeConv ? in(2) : in(0);
  const bool in_int8 = first >= 0 && m_.tensors[static_cast<size_t>(first)].type == kTfInt8;
  for (int32_t t : op.inputs) {
    if (first < 0 || t < 0 || t == first || is_constant(t)) continue;
    const int8_t type = m_.tensors[static_cast<size_t>(t)].type;
    if ((type == kTfInt8 && !in_int8) || (type == kTfFloat32 && in_int8))
      return unsupported(
          "mixes int8 and float inputs ('" + m_.tensors[static_cast<size_t>(first)].name + "' is " +
          tensor_type_name(m_.tensors[static_cast<size_t>(first)].type) + ", '" +
          m_.tensors[static_cast<size_t>(t)].name + "' is " + tensor_type_name(type) + ")");
  }
  if (float_only(code, custom)) {
    float_mode_ = in_int8 || out_int8;
  } else {
    int8_mode_ = in_int8;
    if (first >= 0 && in_int8 != out_int8)
      return unsupported("input '" + m_.tensors[static_cast<size_t>(first)].name + "' is " +
                         tensor_type_name(m_.tensors[static_cast<size_t>(first)].type) +
                         " but output '" + out_name + "' is " + tensor_type_name(out_tensor.type) +
                         " (an int8 operator has int8 inputs and outputs)");
  }
  const std::string name = unique_name(base);
  int result = -1;
  int shares_from = -1;  // int8 operators whose output keeps this input's quantization

  if (code == kConv2D || code == kDepthwiseConv2D) {
    PH_RETURN_IF_ERROR(need_inputs(2, 3));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    const Shape xs = b_.shape(x);
    PH_ASSIGN_OR_RETURN(Shape ws, tf_shape(in(1)));
    if (xs.rank() != 4 || ws.rank() != 4) return invalid("input and weights must be 4-D");
    if (!is_constant(in(1)))
      return unsupported("weights '" + m_.tensors[static_cast<size_t>(in(1))].name +
                         "' must be a constant");
    const bool dw = code == kDepthwiseConv2D;
    Conv2DParams p;
    p.stride_w = o.i32(1);
    p.stride_h = o.i32(2);
    const int act = dw ? o.byte_enum(4) : o.byte_enum(3);
    p.dilation_w = dw ? o.i32(5, 1) : o.i32(4, 1);
    p.dilation_h = dw ? o.i32(6, 1) : o.i32(5, 1);
    if (!valid_stride(p.stride_w) || !valid_stride(p.stride_h) || !valid_stride(p.dilation_w) ||
        !valid_stride(p.dilation_h))
      return invalid("bad stride or dilation");
    PH_ASSIGN_OR_RETURN(p.activation, fused_activation(act));
    const int64_t kh = ws[1], kw = ws[2];
    Shape our_ws = ws;
    if (dw) {
      // [1, KH, KW, C*m] -> [C*m, KH, KW, 1], groups = C.
      if (ws[0] != 1) return invalid("depthwise weights must have a leading 1");
      our_ws = Shape{ws[3], kh, kw, 1};
      p.groups = static_cast<int>(xs[3]);
    } else {
      if (ws[3] <= 0 || xs[3] % ws[3] != 0)
        return invalid("input channels " + std::to_string(xs[3]) +
                       " are not a multiple of the weights' " + std::to_string(ws[3]));
      p.groups = static_cast<int>(xs[3] / ws[3]);
    }
    if (o.byte_enum(0) == kPadSame) {
      same_pads(xs[1], kh, p.stride_h, p.dilation_h, &p.pad_top, &p.pad_bottom);
      same_pads(xs[2], kw, p.stride_w, p.dilation_w, &p.pad_left, &p.pad_right);
    }
    const int64_t oc = our_ws[0];
    int wt = -1, bias = -1;
    const TfTensor& wtensor = m_.tensors[static_cast<size_t>(in(1))];
    if (int8_mode_) {
      // Per-channel int8 weights: TFLite quantizes CONV_2D weights along dimension 0 and
      // DEPTHWISE_CONV_2D weights [1, KH, KW, C*m] along dimension 3; both become our axis 0.
      if (wtensor.type != kTfInt8)
        return unsupported("weights '" + wtensor.name + "' of an int8 convolution have type " +
                           tensor_type_name(wtensor.type) + " (int8 expected)");
      PH_ASSIGN_OR_RETURN(Quantization wq, quantization(in(1), false));
      const int axis = dw ? 3 : 0;
      if (wq.per_channel() && wq.axis != axis)
        return unsupported("weights '" + wtensor.name + "' are quantized along dimension " +
                           std::to_string(wq.axis) + "; " + (dw ? "DEPTHWISE_CONV_2D" : "CONV_2D") +
                           " weights are quantized per output channel, along dimension " +
                           std::to_string(axis));
      if (wq.per_channel()) wq.axis = 0;
      const TfBuffer buf = m_.constant(in(1));
      const size_t n = static_cast<size_t>(ws.elements());
      if (buf.size != n)
        return invalid("constant '" + wtensor.name + "' holds " + std::to_string(buf.size) +
                       " bytes, its shape " + ws.to_string() + " needs " + std::to_string(n));
      std::vector<int8_t> w(n);
      if (n) std::memcpy(w.data(), buf.data, n);
      if (dw) w = depthwise_to_grouped(w, kh, kw, oc);
      PH_ASSIGN_OR_RETURN(wt, int8_weights(in(1), our_ws, w, wq));
      if (in(2) >= 0) {
        PH_ASSIGN_OR_RETURN(bias, int32_bias(in(2), q8(x), wq, oc));
      }
    } else {
      // Float weights; int8 weights of a hybrid model (float activations) are dequantized.
      PH_ASSIGN_OR_RETURN(std::vector<float> w, const_floats(in(1)));
      if (dw) w = depthwise_to_grouped(w, kh, kw, oc);
      wt = b_.add_constant(wtensor.name, our_ws, w);
      if (in(2) >= 0) {
        PH_ASSIGN_OR_RETURN(bias, float_value(in(2)));
      }
    }
    PH_ASSIGN_OR_RETURN(result, b_.conv2d(name, x, wt, bias, p));
    count("CONV_2D");
    PH_ASSIGN_OR_RETURN(result, finish_activation(name, result, act));
  } else if (code == kTransposeConv || custom) {
    // TRANSPOSE_CONV: output_shape, weights, input, [bias]; the MediaPipe custom op:
    // input, weights, bias with a raw {padding, stride_w, stride_h} int32 struct as options.
    int x_t, w_t, b_t, padding_same, sw, sh, act = kActNone;
    if (custom) {
      PH_RETURN_IF_ERROR(need_inputs(3, 3));
      if (op.custom_options_size < 12) return invalid("custom options are shorter than 12 bytes");
      int32_t raw[3];
      std::memcpy(raw, op.custom_options, 12);
      if (raw[0] != 1 && raw[0] != 2) return invalid("unknown padding " + std::to_string(raw[0]));
      x_t = in(0), w_t = in(1), b_t = in(2);
      padding_same = raw[0] == 1;
      sw = raw[1], sh = raw[2];
    } else {
      PH_RETURN_IF_ERROR(need_inputs(3, 4));
      x_t = in(2), w_t = in(1), b_t = in(3);
      padding_same = o.byte_enum(0) == kPadSame;
      sw = o.i32(1), sh = o.i32(2), act = o.byte_enum(3);
    }
    if (!valid_stride(sw) || !valid_stride(sh)) return invalid("bad stride");
    PH_ASSIGN_OR_RETURN(int x, value(x_t));
    const Shape xs = b_.shape(x);
    PH_ASSIGN_OR_RETURN(Shape ws, tf_shape(w_t));
    if (xs.rank() != 4 || ws.rank() != 4) return invalid("input and weights must be 4-D");
    // The requested output size: a constant input, else the declared output shape.
    int64_t oh = 0, ow = 0;
    if (!custom) {
      PH_ASSIGN_OR_RETURN(std::vector<int64_t> os, const_ints(in(0)));
      if (os.size() != 4) return invalid("output_shape must have 4 values");
      oh = os[1], ow = os[2];
    } else {
      PH_ASSIGN_OR_RETURN(Shape os, tf_shape(out));
      if (os.rank() != 4) return invalid("output must be 4-D");
      oh = os[1], ow = os[2];
    }
    if (oh < 1 || ow < 1 || oh > kMaxDim || ow > kMaxDim) return invalid("bad output size");
    TransposeConv2DParams p;
    p.stride_h = sh, p.stride_w = sw;
    PH_ASSIGN_OR_RETURN(p.activation, fused_activation(act));
    auto fit = [&](int64_t in_size, int64_t k, int64_t s, int64_t want, int* before, int* after,
                   int* adjustment) -> Status {
      const int64_t full = (in_size - 1) * s + k;
      const int64_t total = padding_same ? std::max<int64_t>(full - want, 0) : 0;
      *before = static_cast<int>(total / 2);
      *after = static_cast<int>(total - total / 2);
      const int64_t adj = want - (full - total);
      if (adj < 0 || adj >= s)
        return unsupported("output size " + std::to_string(want) + " cannot be reached from " +
                           std::to_string(in_size));
      *adjustment = static_cast<int>(adj);
      return Status::ok();
    };
    PH_RETURN_IF_ERROR(fit(xs[1], ws[1], sh, oh, &p.pad_top, &p.pad_bottom, &p.adjustment_h));
    PH_RETURN_IF_ERROR(fit(xs[2], ws[2], sw, ow, &p.pad_left, &p.pad_right, &p.adjustment_w));
    PH_ASSIGN_OR_RETURN(int wt, value(w_t));
    int bias = -1;
    if (b_t >= 0) {
      PH_ASSIGN_OR_RETURN(bias, value(b_t));
    }
    PH_ASSIGN_OR_RETURN(result, b_.transpose_conv2d(name, x, wt, bias, p));
    count("TRANSPOSE_CONV_2D");
    PH_ASSIGN_OR_RETURN(result, finish_activation(name, result, act));
  } else if (code == kFullyConnected) {
    PH_RETURN_IF_ERROR(need_inputs(2, 3));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    PH_ASSIGN_OR_RETURN(Shape ws, tf_shape(in(1)));
    if (ws.rank() != 2) return invalid("weights must be 2-D");
    const int act = o.byte_enum(0);
    const bool keep_dims = o.boolean(2);
    Shape xs = b_.shape(x);
    if (!keep_dims && (xs.rank() != 2 || xs[1] != ws[1])) {
      // TFLite flattens the input to [elements / I, I].
      if (ws[1] <= 0 || xs.elements() % ws[1] != 0)
        return invalid("input " + xs.to_string() + " does not divide into rows of " +
                       std::to_string(ws[1]));
      PH_ASSIGN_OR_RETURN(
          x, reshape(unique_name(name + "/flatten"), x, Shape{xs.elements() / ws[1], ws[1]}));
    }
    int wt = -1, bias = -1;
    if (int8_mode_) {
      const TfTensor& wtensor = m_.tensors[static_cast<size_t>(in(1))];
      if (wtensor.type != kTfInt8 || !is_constant(in(1)))
        return unsupported("weights '" + wtensor.name +
                           "' of an int8 FULLY_CONNECTED must be an "
                           "int8 constant (found " +
                           tensor_type_name(wtensor.type) +
                           (is_constant(in(1)) ? ")" : ", not constant)"));
      PH_ASSIGN_OR_RETURN(Quantization wq, quantization(in(1), false));
      if (wq.per_channel() && wq.axis != 0)
        return unsupported("weights '" + wtensor.name + "' are quantized along dimension " +
                           std::to_string(wq.axis) +
                           "; FULLY_CONNECTED weights are quantized per output channel, along "
                           "dimension 0");
      const TfBuffer buf = m_.constant(in(1));
      const size_t n = static_cast<size_t>(ws.elements());
      if (buf.size != n)
        return invalid("constant '" + wtensor.name + "' holds " + std::to_string(buf.size) +
                       " bytes, its shape " + ws.to_string() + " needs " + std::to_string(n));
      std::vector<int8_t> w(n);
      if (n) std::memcpy(w.data(), buf.data, n);
      PH_ASSIGN_OR_RETURN(wt, int8_weights(in(1), ws, w, wq));
      if (in(2) >= 0) {
        PH_ASSIGN_OR_RETURN(bias, int32_bias(in(2), q8(x), wq, ws[0]));
      }
    } else {
      PH_ASSIGN_OR_RETURN(wt, float_value(in(1)));
      if (in(2) >= 0) {
        PH_ASSIGN_OR_RETURN(bias, float_value(in(2)));
      }
    }
    PH_ASSIGN_OR_RETURN(Activation a, fused_activation(act));
    PH_ASSIGN_OR_RETURN(result, b_.fully_connected(name, x, wt, bias, a));
    count("FULLY_CONNECTED");
    PH_ASSIGN_OR_RETURN(result, finish_activation(name, result, act));
  } else if (code == kAdd || code == kSub || code == kMul || code == kDiv) {
    PH_RETURN_IF_ERROR(need_inputs(2, 2));
    PH_ASSIGN_OR_RETURN(int a, value(in(0)));
    PH_ASSIGN_OR_RETURN(int bb, value(in(1)));
    const int act = o.byte_enum(0);
    PH_ASSIGN_OR_RETURN(Activation fa, fused_activation(act));
    const BinaryOp bop = code == kAdd   ? BinaryOp::kAdd
                         : code == kSub ? BinaryOp::kSub
                         : code == kMul ? BinaryOp::kMul
                                        : BinaryOp::kDiv;
    PH_ASSIGN_OR_RETURN(result, b_.binary(name, bop, a, bb, fa));
    count(code == kAdd ? "ADD" : code == kSub ? "SUB" : code == kMul ? "MUL" : "DIV");
    PH_ASSIGN_OR_RETURN(result, finish_activation(name, result, act));
  } else if (code == kPad) {
    PH_RETURN_IF_ERROR(need_inputs(2, 2));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> pads, const_ints(in(1)));
    const size_t rank = b_.shape(x).rank();
    if (pads.size() != 2 * rank) return invalid("paddings must be [rank, 2]");
    std::vector<int> before(rank), after(rank);
    for (size_t d = 0; d < rank; ++d) {
      if (pads[2 * d] < 0 || pads[2 * d + 1] < 0 || pads[2 * d] > (1 << 20) ||
          pads[2 * d + 1] > (1 << 20))
        return unsupported("paddings must be in [0, 2^20]");
      before[d] = static_cast<int>(pads[2 * d]);
      after[d] = static_cast<int>(pads[2 * d + 1]);
    }
    PH_ASSIGN_OR_RETURN(result, b_.pad(name, x, before, after));
    count("PAD");
    shares_from = x;
  } else if (code == kMaxPool2D || code == kAveragePool2D) {
    PH_RETURN_IF_ERROR(need_inputs(1, 1));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    const Shape xs = b_.shape(x);
    if (xs.rank() != 4) return invalid("input must be 4-D");
    Pool2DParams p;
    p.stride_w = o.i32(1), p.stride_h = o.i32(2);
    p.filter_w = o.i32(3), p.filter_h = o.i32(4);
    const int act = o.byte_enum(5);
    if (!valid_stride(p.stride_w) || !valid_stride(p.stride_h) || p.filter_w < 1 ||
        p.filter_h < 1 || p.filter_w > 65536 || p.filter_h > 65536)
      return invalid("bad filter or stride");
    PH_ASSIGN_OR_RETURN(p.activation, fused_activation(act));
    if (o.byte_enum(0) == kPadSame) {
      same_pads(xs[1], p.filter_h, p.stride_h, 1, &p.pad_top, &p.pad_bottom);
      same_pads(xs[2], p.filter_w, p.stride_w, 1, &p.pad_left, &p.pad_right);
    }
    const bool max = code == kMaxPool2D;
    PH_ASSIGN_OR_RETURN(result, b_.pool2d(name, max ? PoolOp::kMax : PoolOp::kAverage, x, p));
    count(max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D");
    if (max) shares_from = x;
    PH_ASSIGN_OR_RETURN(result, finish_activation(name, result, act));
  } else if (code == kRelu || code == kRelu6 || code == kReluN1To1) {
    PH_RETURN_IF_ERROR(need_inputs(1, 1));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    const float lo = code == kReluN1To1 ? -1.f : 0.f;
    const float hi = code == kRelu    ? std::numeric_limits<float>::infinity()
                     : code == kRelu6 ? 6.f
                                      : 1.f;
    PH_ASSIGN_OR_RETURN(result, b_.clamp(name, x, lo, hi));
    count("CLAMP");
  } else if (code == kLogistic || code == kTanh || code == kHardSwish) {
    PH_RETURN_IF_ERROR(need_inputs(1, 1));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    const UnaryOp u = code == kLogistic ? UnaryOp::kSigmoid
                      : code == kTanh   ? UnaryOp::kTanh
                                        : UnaryOp::kHardSwish;
    PH_ASSIGN_OR_RETURN(result, b_.unary(name, u, x));
    count(code == kLogistic ? "SIGMOID" : code == kTanh ? "TANH" : "HARD_SWISH");
  } else if (code == kLeakyRelu) {
    PH_RETURN_IF_ERROR(need_inputs(1, 1));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    PH_ASSIGN_OR_RETURN(result, b_.leaky_relu(name, x, o.f32(0, 0.f)));
    count("LEAKY_RELU");
  } else if (code == kPrelu) {
    PH_RETURN_IF_ERROR(need_inputs(2, 2));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    const Shape xs = b_.shape(x);
    PH_ASSIGN_OR_RETURN(std::vector<float> alpha, const_floats(in(1)));
    const int64_t c = xs.rank() ? xs[xs.rank() - 1] : 1;
    if (static_cast<int64_t>(alpha.size()) != c)
      return unsupported("PReLU slopes must be one per channel (" + std::to_string(c) + "), got " +
                         std::to_string(alpha.size()));
    const int slope = b_.add_constant(m_.tensors[static_cast<size_t>(in(1))].name, Shape{c}, alpha);
    PH_ASSIGN_OR_RETURN(result, b_.prelu(name, x, slope));
    count("PRELU");
  } else if (code == kReshape) {
    PH_RETURN_IF_ERROR(need_inputs(1, 2));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    std::vector<int64_t> dims;
    if (in(1) >= 0 && m_.constant(in(1)).size) {
      PH_ASSIGN_OR_RETURN(dims, const_ints(in(1)));
    } else {
      const uint8_t* data = nullptr;
      size_t n = 0;
      if (o.vector(0, 4, &data, &n) && n > 0) {
        for (size_t k = 0; k < n; ++k) {
          int32_t v;
          std::memcpy(&v, data + 4 * k, 4);
          dims.push_back(v);
        }
      } else {
        PH_ASSIGN_OR_RETURN(Shape s, tf_shape(out));
        dims.assign(s.begin(), s.end());
      }
    }
    if (dims.size() > Shape::kMaxDims) return unsupported("reshape to more than 6 dimensions");
    const int64_t total = b_.shape(x).elements();
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
    PH_ASSIGN_OR_RETURN(result, b_.reshape(name, x, s));
    count("RESHAPE");
    shares_from = x;
  } else if (code == kConcatenation) {
    if (op.inputs.empty()) return invalid("has no inputs");
    std::vector<int> xs;
    for (int32_t t : op.inputs) {
      PH_ASSIGN_OR_RETURN(int v, value(t));
      xs.push_back(v);
    }
    const int act = o.byte_enum(1);
    PH_ASSIGN_OR_RETURN(Activation a, fused_activation(act));
    PH_ASSIGN_OR_RETURN(result, b_.concatenation(name, xs, o.i32(0), a));
    count("CONCATENATION");
    PH_ASSIGN_OR_RETURN(result, finish_activation(name, result, act));
  } else if (code == kResizeBilinear || code == kResizeNearestNeighbor) {
    PH_RETURN_IF_ERROR(need_inputs(2, 2));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    const Shape xs = b_.shape(x);
    if (xs.rank() != 4) return invalid("input must be 4-D");
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> size, const_ints(in(1)));
    if (size.size() != 2 || size[0] < 1 || size[1] < 1 || size[0] > 65536 || size[1] > 65536)
      return invalid("size must be 2 values in [1, 65536]");
    const bool bilinear = code == kResizeBilinear;
    const bool align = bilinear ? o.boolean(2) : o.boolean(0);
    const bool half = bilinear ? o.boolean(3) : o.boolean(1);
    ResizeCoordinates coords = align  ? ResizeCoordinates::kAlignCorners
                               : half ? ResizeCoordinates::kHalfPixel
                                      : ResizeCoordinates::kAsymmetric;
    if (!bilinear && coords == ResizeCoordinates::kAsymmetric) {
      // TFLite takes floor(d * in / out) here; for whole-number upscaling that equals the
      // half-pixel rule floor((d + 0.5) * in / out), which our NEAREST computes.
      if (size[0] % xs[1] != 0 || size[1] % xs[2] != 0)
        return unsupported(
            "nearest-neighbour resize without half_pixel_centers is supported "
            "for whole-number upscaling only");
      coords = ResizeCoordinates::kHalfPixel;
    }
    PH_ASSIGN_OR_RETURN(result,
                        b_.resize(name, x, static_cast<int>(size[0]), static_cast<int>(size[1]),
                                  bilinear ? ResizeMode::kBilinear : ResizeMode::kNearest, coords));
    count("RESIZE");
    shares_from = x;
  } else if (code == kMean) {
    PH_RETURN_IF_ERROR(need_inputs(2, 2));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> axes, const_ints(in(1)));
    const int64_t rank = static_cast<int64_t>(b_.shape(x).rank());
    for (int64_t& a : axes)
      if (a < 0) a += rank;
    std::sort(axes.begin(), axes.end());
    if (rank != 4 || axes != std::vector<int64_t>{1, 2})
      return unsupported("MEAN is supported over height and width of a 4-D tensor only");
    PH_ASSIGN_OR_RETURN(result, b_.mean(name, x, o.boolean(0)));
    count("MEAN");
  } else if (code == kSoftmax) {
    PH_RETURN_IF_ERROR(need_inputs(1, 1));
    PH_ASSIGN_OR_RETURN(int x, value(in(0)));
    PH_ASSIGN_OR_RETURN(result, b_.softmax(name, x, o.f32(0, 1.f)));
    count("SOFTMAX");
  } else {
    return unsupported("is not supported");
  }
  if (float_mode_ && out_int8) {
    // Back to int8 after an operator that ran in float.
    PH_ASSIGN_OR_RETURN(Quantization q, quantization(out, true));
    PH_ASSIGN_OR_RETURN(result, b_.quantize(unique_name(name + "/quantize"), result, q));
    count("QUANTIZE");
    q8_[result] = q;
  } else if (int8_mode_) {
    PH_ASSIGN_OR_RETURN(Quantization q, quantization(out, true));
    if (shares_from >= 0) {
      // The output keeps the input's parameters; TFLite's converter gives both the same ones, a
      // file that does not is requantized to the declared output parameters.
      const Quantization in_q = q8(shares_from);
      PH_RETURN_IF_ERROR(b_.set_quantization(result, in_q));
      q8_[result] = in_q;
      if (!same_quantization(in_q, q)) {
        PH_ASSIGN_OR_RETURN(result, requantize(name, result, q));
      }
    } else {
      PH_RETURN_IF_ERROR(b_.set_quantization(result, q));
      q8_[result] = q;
    }
  }
  float_mode_ = int8_mode_ = false;
  return bind(name, out, result);
}

}  // namespace polyhead::tflite
