#include "converters/onnx/onnx_tensor.h"

#include <cmath>
#include <cstring>

#include "onnx/onnx_pb.h"

namespace polyhead::onnx_import {
namespace {

// A limit a hostile file cannot push past (a 160-byte ConstantOfShape could ask for gigabytes).
constexpr size_t kMaxElements = size_t{1} << 27;  // 512 MiB of floats: no edge model holds more

float half_to_float(uint16_t h) {
  const int sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float v;
  if (exponent == 0)
    v = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    v = mantissa ? NAN : INFINITY;
  else
    v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  return sign ? -v : v;
}

template <typename T>
T read_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // the host is little-endian (x86-64, ARM Linux)
  return v;
}

}  // namespace

Result<size_t> element_count(const std::vector<int64_t>& dims, const std::string& what) {
  size_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return Status(ErrorCode::kInvalidModel,
                    what + " has a negative dimension in " + dims_text(dims));
    // In 64 bits: on 32-bit targets a dimension such as 2^40 would truncate to 0 in size_t.
    if (d != 0 && n > kMaxElements / static_cast<uint64_t>(d))
      return Status(ErrorCode::kInvalidModel, what + " is too large: " + dims_text(dims));
    n *= static_cast<size_t>(d);
  }
  return n;
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t k = 0; k < dims.size(); ++k) s += (k ? "," : "") + std::to_string(dims[k]);
  return s + "]";
}

ConstTensor float_tensor(std::vector<int64_t> dims, std::vector<float> values) {
  ConstTensor t;
  t.dims = std::move(dims);
  t.f = std::move(values);
  return t;
}

ConstTensor int_tensor(std::vector<int64_t> dims, std::vector<int64_t> values) {
  ConstTensor t;
  t.dims = std::move(dims);
  t.is_float = false;
  t.i = std::move(values);
  return t;
}

Result<ConstTensor> decode_tensor(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    return Status(ErrorCode::kUnsupported,
                  what +
                      " keeps its data in an external file; save the model with the weights "
                      "inside (onnx.save(model, path, save_as_external_data=False))");
  ConstTensor out;
  out.dims.assign(t.dims().begin(), t.dims().end());
  PH_ASSIGN_OR_RETURN(size_t n, element_count(out.dims, what));
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data();
  auto check_count = [&](size_t have, size_t element_bytes) -> Status {
    const size_t count = has_raw ? raw.size() / element_bytes : have;
    if ((has_raw && raw.size() != n * element_bytes) || count != n)
      return Status(ErrorCode::kInvalidModel, what + " declares " + dims_text(out.dims) + " (" +
                                                  std::to_string(n) + " values) but holds " +
                                                  std::to_string(count));
    return Status::ok();
  };
  using TP = onnx::TensorProto;
  switch (t.data_type()) {
    case TP::FLOAT: {
      PH_RETURN_IF_ERROR(check_count(static_cast<size_t>(t.float_data_size()), 4));
      out.f.resize(n);
      for (size_t k = 0; k < n; ++k)
        out.f[k] = has_raw ? read_le<float>(raw.data() + 4 * k) : t.float_data(static_cast<int>(k));
      return out;
    }
    case TP::FLOAT16: {
      // Typed fp16 values sit in int32_data, one per entry.
      PH_RETURN_IF_ERROR(check_count(static_cast<size_t>(t.int32_data_size()), 2));
      out.f.resize(n);
      for (size_t k = 0; k < n; ++k)
        out.f[k] =
            half_to_float(has_raw ? read_le<uint16_t>(raw.data() + 2 * k)
                                  : static_cast<uint16_t>(t.int32_data(static_cast<int>(k))));
      return out;
    }
    case TP::DOUBLE: {
      PH_RETURN_IF_ERROR(check_count(static_cast<size_t>(t.double_data_size()), 8));
      out.f.resize(n);
      for (size_t k = 0; k < n; ++k)
        out.f[k] = static_cast<float>(has_raw ? read_le<double>(raw.data() + 8 * k)
                                              : t.double_data(static_cast<int>(k)));
      return out;
    }
    case TP::INT64: {
      PH_RETURN_IF_ERROR(check_count(static_cast<size_t>(t.int64_data_size()), 8));
      out.is_float = false;
      out.i.resize(n);
      for (size_t k = 0; k < n; ++k)
        out.i[k] =
            has_raw ? read_le<int64_t>(raw.data() + 8 * k) : t.int64_data(static_cast<int>(k));
      return out;
    }
    case TP::INT32:
    case TP::INT16:
    case TP::INT8:
    case TP::UINT8:
    case TP::UINT16:
    case TP::BOOL: {
      const int type = t.data_type();
      const size_t bytes = type == TP::INT32                           ? 4
                           : (type == TP::INT16 || type == TP::UINT16) ? 2
                                                                       : 1;
      PH_RETURN_IF_ERROR(check_count(static_cast<size_t>(t.int32_data_size()), bytes));
      out.is_float = false;
      out.i.resize(n);
      for (size_t k = 0; k < n; ++k) {
        if (!has_raw) {
          out.i[k] = t.int32_data(static_cast<int>(k));
          continue;
        }
        const char* p = raw.data() + bytes * k;
        switch (type) {
          case TP::INT32:
            out.i[k] = read_le<int32_t>(p);
            break;
          case TP::INT16:
            out.i[k] = read_le<int16_t>(p);
            break;
          case TP::UINT16:
            out.i[k] = read_le<uint16_t>(p);
            break;
          case TP::INT8:
            out.i[k] = read_le<int8_t>(p);
            break;
          default:
            out.i[k] = read_le<uint8_t>(p);
            break;
        }
      }
      return out;
    }
    default:
      return Status(ErrorCode::kUnsupported,
                    what + " has data type " + std::to_string(t.data_type()) +
                        " (supported: float, float16, double, int8..int64, uint8, bool)");
  }
}

}  // namespace polyhead::onnx_import
