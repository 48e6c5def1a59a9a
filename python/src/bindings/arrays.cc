#include "arrays.h"

#include <charconv>
#include <cstring>
#include <new>

namespace polyhead::python {

namespace {

nb::dlpack::dtype dlpack_dtype(ElementType type) {
  switch (type) {
    case ElementType::kF32:
      return nb::dtype<float>();
    case ElementType::kF16:
      return {static_cast<uint8_t>(nb::dlpack::dtype_code::Float), 16, 1};
    case ElementType::kI8:
      return nb::dtype<int8_t>();
    case ElementType::kU8:
      return nb::dtype<uint8_t>();
    case ElementType::kI32:
      return nb::dtype<int32_t>();
  }
  return nb::dtype<float>();
}

}  // namespace

const char* numpy_dtype_name(ElementType type) {
  switch (type) {
    case ElementType::kF32:
      return "float32";
    case ElementType::kF16:
      return "float16";
    case ElementType::kI8:
      return "int8";
    case ElementType::kU8:
      return "uint8";
    case ElementType::kI32:
      return "int32";
  }
  return "unknown";
}

std::string dtype_name(nb::dlpack::dtype dtype) {
  const auto code = static_cast<nb::dlpack::dtype_code>(dtype.code);
  std::string kind;
  switch (code) {
    case nb::dlpack::dtype_code::Int:
      kind = "int";
      break;
    case nb::dlpack::dtype_code::UInt:
      kind = "uint";
      break;
    case nb::dlpack::dtype_code::Float:
      kind = "float";
      break;
    case nb::dlpack::dtype_code::Bool:
      return "bool";
    case nb::dlpack::dtype_code::Complex:
      kind = "complex";
      break;
    case nb::dlpack::dtype_code::Bfloat:
      kind = "bfloat";
      break;
    default:
      kind = "dtype code " + std::to_string(dtype.code) + " of ";
      break;
  }
  return kind + std::to_string(dtype.bits) +
         (dtype.lanes > 1 ? "x" + std::to_string(dtype.lanes) : "");
}

bool has_element_type(const InArray& array, ElementType type) {
  return array.dtype() == dlpack_dtype(type);
}

double declared_number(float value) {
  // to_chars/from_chars: shortest round trip, independent of the C locale.
  char text[64];
  const auto written = std::to_chars(text, text + sizeof(text), value);
  double result = value;
  std::from_chars(text, written.ptr, result);
  return result;
}

std::vector<double> declared_numbers(const std::vector<float>& values) {
  std::vector<double> v;
  for (float f : values) v.push_back(declared_number(f));
  return v;
}

nb::tuple shape_tuple(const Shape& shape) {
  nb::list dims;
  for (int64_t d : shape) dims.append(d);
  return nb::tuple(dims);
}

std::string shape_text(const InArray& array) {
  std::string s = "(";
  for (size_t i = 0; i < array.ndim(); ++i) s += (i ? ", " : "") + std::to_string(array.shape(i));
  return s + (array.ndim() == 1 ? ",)" : ")");
}

bool has_shape(const InArray& array, const Shape& shape) {
  if (array.ndim() != shape.rank()) return false;
  for (size_t i = 0; i < shape.rank(); ++i)
    if (static_cast<int64_t>(array.shape(i)) != shape[i]) return false;
  return true;
}

bool is_c_contiguous(const InArray& array) {
  int64_t expected = 1;
  for (size_t i = array.ndim(); i-- > 0;) {
    // A dimension of extent 1 may carry any stride.
    if (array.shape(i) != 1 && array.stride(i) != expected) return false;
    expected *= static_cast<int64_t>(array.shape(i));
  }
  return true;
}

nb::object copy_to_numpy(const TensorView& view) {
  const size_t bytes = view.bytes();
  void* data = ::operator new(bytes == 0 ? 1 : bytes);
  // The capsule frees the copy when the array (its last user) goes away.
  nb::capsule owner(data, [](void* p) noexcept { ::operator delete(p); });
  if (bytes) std::memcpy(data, view.data, bytes);
  size_t dims[Shape::kMaxDims];
  for (size_t i = 0; i < view.shape.rank(); ++i) dims[i] = static_cast<size_t>(view.shape[i]);
  return nb::ndarray<nb::numpy>(data, view.shape.rank(), dims, owner, nullptr,
                                dlpack_dtype(view.type))
      .cast();
}

nb::object view_as_numpy(const TensorView& view, nb::handle owner) {
  size_t dims[Shape::kMaxDims];
  for (size_t i = 0; i < view.shape.rank(); ++i) dims[i] = static_cast<size_t>(view.shape[i]);
  return nb::ndarray<nb::numpy, nb::ro>(view.data, view.shape.rank(), dims, owner, nullptr,
                                        dlpack_dtype(view.type))
      .cast();
}

void copy_c_order(const InArray& array, void* dst) {
  const size_t item = array.itemsize();
  const size_t count = array.size();
  if (count == 0) return;
  const auto* src = static_cast<const uint8_t*>(array.data());
  if (is_c_contiguous(array)) {
    std::memcpy(dst, src, count * item);
    return;
  }
  // An odometer over the indices, innermost fastest; strides are in elements and may be negative.
  const size_t ndim = array.ndim();
  size_t index[Shape::kMaxDims + 2] = {};
  auto* out = static_cast<uint8_t*>(dst);
  for (size_t n = 0; n < count; ++n) {
    int64_t offset = 0;
    for (size_t d = 0; d < ndim; ++d) offset += static_cast<int64_t>(index[d]) * array.stride(d);
    std::memcpy(out + n * item, src + offset * static_cast<int64_t>(item), item);
    for (size_t d = ndim; d-- > 0;) {
      if (++index[d] < array.shape(d)) break;
      index[d] = 0;
    }
  }
}

}  // namespace polyhead::python
