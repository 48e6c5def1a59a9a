// NumPy arrays in and out: dtypes of the library's element types, shapes as tuples, output
// tensors as arrays (a copy, or a read-only view that keeps its owner alive), and reading a
// caller's float32 array into a tensor whatever its strides.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>
#include <vector>

#include "polyhead/tensor.h"

namespace polyhead::python {

namespace nb = nanobind;

// Any array the caller passes, read only, without conversion.
using InArray = nb::ndarray<nb::ro, nb::device::cpu>;

// "float32", "float16", "int8", "uint8", "int32": the NumPy name of a library element type.
const char* numpy_dtype_name(ElementType type);
// The NumPy name of an array's dtype ("float64", "uint8", "bool", ...), for messages.
std::string dtype_name(nb::dlpack::dtype dtype);
bool has_element_type(const InArray& array, ElementType type);

// The shortest decimal that reads back as `value` (0.485f -> 0.485, not 0.48500001430511475):
// for declared numbers (mean, std, thresholds) that people wrote as decimals.
double declared_number(float value);
std::vector<double> declared_numbers(const std::vector<float>& values);

nb::tuple shape_tuple(const Shape& shape);
// "(224, 224, 3)": an array's shape as Python prints it.
std::string shape_text(const InArray& array);
bool has_shape(const InArray& array, const Shape& shape);
bool is_c_contiguous(const InArray& array);

// A new, writable NumPy array holding a copy of `view`.
nb::object copy_to_numpy(const TensorView& view);
// A read-only NumPy array over `view`'s memory that keeps `owner` alive while it exists.
nb::object view_as_numpy(const TensorView& view, nb::handle owner);

// Copies the elements of `array` (of `dst`'s element size, any strides) into `dst` in C order.
void copy_c_order(const InArray& array, void* dst);

}  // namespace polyhead::python
