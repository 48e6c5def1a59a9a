// Reads the tensors of a parsed TFLite model: static shapes, constant data decoded into floats or
// integers, and quantization parameters checked for sense. Functions of the TfModel only; every
// failure names the tensor and the value found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "converters/tflite/tflite_model.h"
#include "polyhead/quantization.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"

namespace polyhead::tflite {

// The largest dimension (and output size) the converter accepts.
constexpr int64_t kMaxDim = int64_t{1} << 24;

// The most elements a tensor may have: the engine's limit on a tensor's bytes (model_validator.cc),
// so that element counts and byte sizes computed from a shape never overflow.
constexpr int64_t kMaxElements = sizeof(size_t) >= 8 ? int64_t{1} << 34 : int64_t{1} << 30;

// Decodes every sparse tensor of `m` into its dense bytes (sparse_tensor.h), and gives every
// DENSIFY operator's output the dense bytes of its input: after this, TfModel::constant() of
// either is the dense tensor, and converting a DENSIFY writes nothing. A DENSIFY must read a
// sparse constant of its output's type and shape and be its output's only writer. Errors name the
// tensor (and the operator) and the value found.
Status densify_sparse_constants(TfModel& m);

// The shape of tensor `t`: rank <= 6, every dimension known and in [1, kMaxDim], at most
// kMaxElements elements.
Result<Shape> tensor_shape(const TfModel& m, int t);

// A constant's values as floats: float32, float16, or int8/int32 dequantized with their
// quantization (per tensor or per channel).
Result<std::vector<float>> constant_floats(const TfModel& m, int t);
// An int32 or int64 constant's values.
Result<std::vector<int64_t>> constant_ints(const TfModel& m, int t);
// An int8 constant's bytes, which must be exactly `shape`'s elements.
Result<std::vector<int8_t>> constant_int8(const TfModel& m, int t, const Shape& shape);

// The checked quantization of tensor `t`: present, without custom details, scales finite and
// > 0, one zero point per scale within the type's range, per tensor or one scale per element of
// the quantized dimension. `per_tensor` requires a single scale (activations).
Result<Quantization> tensor_quantization(const TfModel& m, int t, bool per_tensor);

// Whether two quantizations are exactly the same parameters.
inline bool same_quantization(const Quantization& a, const Quantization& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point && a.axis == b.axis;
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

// A number for messages ("%.7g").
std::string number_text(double v);

}  // namespace polyhead::tflite
