#include "converters/tflite/tensor_data.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "converters/tflite/sparse_tensor.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tflite_ops.h"

namespace polyhead::tflite {
namespace {

// Index along dimension `axis` of element `i` of a tensor of `shape` (row-major).
size_t channel_of(size_t i, const Shape& shape, int axis) {
  size_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.rank(); ++d)
    inner *= static_cast<size_t>(shape[d]);
  return (i / inner) % static_cast<size_t>(shape[static_cast<size_t>(axis)]);
}

// IEEE half precision to float, exactly (subnormals, infinities and NaN included).
float half_to_float(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float v;
  if (exponent == 0)
    v = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    v = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  return (h & 0x8000) ? -v : v;
}

// Bytes per element of the types a sparse tensor may have: TFLite's DENSIFY takes float32,
// float16 and int8.
size_t sparse_element_size(int type) {
  return type == kTfFloat32 ? 4 : type == kTfFloat16 ? 2 : type == kTfInt8 ? 1 : 0;
}

}  // namespace

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.7g", v);
  return buf;
}

Result<Shape> tensor_shape(const TfModel& m, int t) {
  if (t < 0 || static_cast<size_t>(t) >= m.tensors.size())
    return invalid("a required operator input is absent");
  const TfTensor& tensor = m.tensors[static_cast<size_t>(t)];
  if (tensor.shape.size() > Shape::kMaxDims)
    return unsupported("tensor '" + tensor.name + "' has rank " +
                       std::to_string(tensor.shape.size()) + " (at most 6 is supported)");
  Shape s;
  int64_t elements = 1;
  for (int32_t d : tensor.shape) {
    if (d < 1 || d > kMaxDim)
      return invalid("tensor '" + tensor.name + "' has dimension " + std::to_string(d) +
                     " (dynamic or out of range)");
    s.push_back(d);
    // Checked as it grows: six dimensions of 2^24 would overflow int64_t (Shape::elements()).
    elements *= d;
    if (elements > kMaxElements)
      return invalid("tensor '" + tensor.name + "' has shape " + s.to_string() + "..., more than " +
                     std::to_string(kMaxElements) + " elements");
  }
  return s;
}

Status densify_sparse_constants(TfModel& m) {
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TfTensor& tensor = m.tensors[i];
    if (!tensor.sparse) continue;
    const std::string where = "sparse tensor '" + tensor.name + "'";
    const size_t width = sparse_element_size(tensor.type);
    if (width == 0)
      return unsupported(where + " has type " + tensor_type_name(tensor.type) +
                         " (float32, float16 or int8 expected)");
    PH_ASSIGN_OR_RETURN(Shape shape, tensor_shape(m, static_cast<int>(i)));
    const TfBuffer stored = m.stored(static_cast<int>(i));
    PH_ASSIGN_OR_RETURN(m.densified[static_cast<int>(i)],
                        densify(tensor.sparsity, std::vector<int64_t>(shape.begin(), shape.end()),
                                width, stored.data, stored.size, where));
  }

  std::vector<int> writers(m.tensors.size(), 0);
  for (const TfOperator& op : m.operators)
    for (int32_t o : op.outputs) ++writers[static_cast<size_t>(o)];
  for (int32_t t : m.inputs) ++writers[static_cast<size_t>(t)];
  for (size_t i = 0; i < m.operators.size(); ++i) {
    const TfOperator& op = m.operators[i];
    if (m.operator_codes[op.opcode_index].builtin != kDensify) continue;
    const std::string where = "operator " + std::to_string(i) + " (DENSIFY)";
    if (op.inputs.size() != 1 || op.outputs.size() != 1 || op.inputs[0] < 0)
      return invalid(where + " has " + std::to_string(op.inputs.size()) + " inputs and " +
                     std::to_string(op.outputs.size()) + " outputs (1 and 1 expected)");
    const int in = op.inputs[0], out = op.outputs[0];
    const TfTensor& from = m.tensors[static_cast<size_t>(in)];
    const TfTensor& to = m.tensors[static_cast<size_t>(out)];
    if (!from.sparse) return invalid(where + ": input '" + from.name + "' is not a sparse tensor");
    if (to.sparse || m.stored(out).size != 0 || writers[static_cast<size_t>(out)] != 1)
      return invalid(where + ": output '" + to.name + "' already has a value");
    if (to.type != from.type)
      return invalid(where + ": output '" + to.name + "' is " + tensor_type_name(to.type) +
                     ", input '" + from.name + "' " + tensor_type_name(from.type));
    if (to.shape != from.shape) {
      auto text = [](const std::vector<int32_t>& dims) {
        std::string s = "[";
        for (size_t d = 0; d < dims.size(); ++d) s += (d ? "," : "") + std::to_string(dims[d]);
        return s + "]";
      };
      return invalid(where + ": output '" + to.name + "' has shape " + text(to.shape) +
                     ", input '" + from.name + "' " + text(from.shape));
    }
    m.densified[out] = m.densified[in];
    m.densify_outputs.insert(out);
  }
  return Status::ok();
}

Result<std::vector<float>> constant_floats(const TfModel& m, int t) {
  if (t < 0 || static_cast<size_t>(t) >= m.tensors.size())
    return invalid("a required operator input is absent");
  const TfTensor& tensor = m.tensors[static_cast<size_t>(t)];
  const TfBuffer buf = m.constant(t);
  PH_ASSIGN_OR_RETURN(Shape shape, tensor_shape(m, t));
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
      values[i] = half_to_float(h);
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
    PH_ASSIGN_OR_RETURN(Quantization q, tensor_quantization(m, t, false));
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

Result<std::vector<int64_t>> constant_ints(const TfModel& m, int t) {
  if (t < 0 || static_cast<size_t>(t) >= m.tensors.size())
    return invalid("a required operator input is absent");
  const TfTensor& tensor = m.tensors[static_cast<size_t>(t)];
  const TfBuffer buf = m.constant(t);
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

Result<std::vector<int8_t>> constant_int8(const TfModel& m, int t, const Shape& shape) {
  const TfTensor& tensor = m.tensors[static_cast<size_t>(t)];
  const TfBuffer buf = m.constant(t);
  const size_t n = static_cast<size_t>(shape.elements());
  if (buf.size != n)
    return invalid("constant '" + tensor.name + "' holds " + std::to_string(buf.size) +
                   " bytes, its shape " + shape.to_string() + " needs " + std::to_string(n));
  std::vector<int8_t> values(n);
  if (n) std::memcpy(values.data(), buf.data, n);
  return values;
}

Result<Quantization> tensor_quantization(const TfModel& m, int t, bool per_tensor) {
  if (t < 0 || static_cast<size_t>(t) >= m.tensors.size())
    return invalid("a required operator input is absent");
  const TfTensor& tensor = m.tensors[static_cast<size_t>(t)];
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
      return invalid(where + " has quantization scale " + number_text(s) +
                     (tq.scale.size() > 1 ? " at channel " + std::to_string(i) : std::string()) +
                     " (must be finite and > 0)");
    // Scales whose reciprocal overflows cannot be requantized.
    if (s < 1e-30f || s > 1e30f)
      return unsupported(where + " has quantization scale " + number_text(s) +
                         " (outside [1e-30, 1e30])");
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

}  // namespace polyhead::tflite
