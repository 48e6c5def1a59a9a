// Named views of the TFLite builtin options tables the converter reads, over the bounds-checked
// Table (an absent or broken table reads every field's fallback). A field's slot is its position
// in its table in the public TFLite schema.fbs (FlatBuffers gives fields vtable slots in
// declaration order); each slot is written once, here, next to the field's name. Fallbacks are
// the schema defaults unless a comment says otherwise.
//
// Also: the schema's ActivationFunctionType and Padding values and what they mean for Polyhead,
// and MediaPipe's Convolution2DTransposeBias custom options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "converters/tflite/flatbuffer_view.h"
#include "polyhead/model_builder.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

// ActivationFunctionType of the TFLite schema.
enum TfActivation : int {
  kActNone = 0,
  kActRelu = 1,
  kActReluN1To1 = 2,
  kActRelu6 = 3,
  kActTanh = 4,
};
// Padding of the TFLite schema.
enum TfPadding : int { kPadSame = 0, kPadValid = 1 };

// The node activation for a fused ActivationFunctionType: NONE, RELU, RELU6, RELU_N1_TO_1; TANH
// gives none here (it becomes a TANH node after the operator); anything else is unsupported.
Result<Activation> fused_activation(int code);

// SAME padding of one spatial dimension: total = max((out-1)*stride + (k-1)*dilation + 1 - in,
// 0) with out = ceil(in/stride); the odd pixel goes after.
void same_pads(int64_t in, int64_t k, int64_t stride, int64_t dilation, int* before, int* after);

// Strides and dilations the converter accepts.
inline bool valid_stride(int64_t s) {
  return s >= 1 && s <= 4096;
}

// Conv2DOptions.
class Conv2DOptions {
 public:
  explicit Conv2DOptions(const Table& t) : t_(t) {}
  int padding() const { return t_.byte_enum(0); }
  int32_t stride_w() const { return t_.i32(1); }
  int32_t stride_h() const { return t_.i32(2); }
  int fused_activation() const { return t_.byte_enum(3); }
  int32_t dilation_w() const { return t_.i32(4, 1); }
  int32_t dilation_h() const { return t_.i32(5, 1); }

 private:
  Table t_;
};

// DepthwiseConv2DOptions (depth_multiplier, slot 3, is implied by the weights' shape).
class DepthwiseConv2DOptions {
 public:
  explicit DepthwiseConv2DOptions(const Table& t) : t_(t) {}
  int padding() const { return t_.byte_enum(0); }
  int32_t stride_w() const { return t_.i32(1); }
  int32_t stride_h() const { return t_.i32(2); }
  int fused_activation() const { return t_.byte_enum(4); }
  int32_t dilation_w() const { return t_.i32(5, 1); }
  int32_t dilation_h() const { return t_.i32(6, 1); }

 private:
  Table t_;
};

// TransposeConvOptions.
class TransposeConvOptions {
 public:
  explicit TransposeConvOptions(const Table& t) : t_(t) {}
  int padding() const { return t_.byte_enum(0); }
  int32_t stride_w() const { return t_.i32(1); }
  int32_t stride_h() const { return t_.i32(2); }
  int fused_activation() const { return t_.byte_enum(3); }

 private:
  Table t_;
};

// Pool2DOptions (MAX_POOL_2D, AVERAGE_POOL_2D).
class Pool2DOptions {
 public:
  explicit Pool2DOptions(const Table& t) : t_(t) {}
  int padding() const { return t_.byte_enum(0); }
  int32_t stride_w() const { return t_.i32(1); }
  int32_t stride_h() const { return t_.i32(2); }
  int32_t filter_width() const { return t_.i32(3); }
  int32_t filter_height() const { return t_.i32(4); }
  int fused_activation() const { return t_.byte_enum(5); }

 private:
  Table t_;
};

// FullyConnectedOptions (weights_format, slot 1, is not read).
class FullyConnectedOptions {
 public:
  explicit FullyConnectedOptions(const Table& t) : t_(t) {}
  int fused_activation() const { return t_.byte_enum(0); }
  bool keep_num_dims() const { return t_.boolean(2); }

 private:
  Table t_;
};

// AddOptions, SubOptions, MulOptions and DivOptions, which all begin with
// fused_activation_function.
class ArithmeticOptions {
 public:
  explicit ArithmeticOptions(const Table& t) : t_(t) {}
  int fused_activation() const { return t_.byte_enum(0); }

 private:
  Table t_;
};

// ConcatenationOptions.
class ConcatenationOptions {
 public:
  explicit ConcatenationOptions(const Table& t) : t_(t) {}
  int32_t axis() const { return t_.i32(0); }
  int fused_activation() const { return t_.byte_enum(1); }

 private:
  Table t_;
};

// ReshapeOptions.
class ReshapeOptions {
 public:
  explicit ReshapeOptions(const Table& t) : t_(t) {}
  // new_shape; empty when absent, broken or empty.
  std::vector<int64_t> new_shape() const;

 private:
  Table t_;
};

// ResizeBilinearOptions (slots 0 and 1 are the deprecated new_height and new_width).
class ResizeBilinearOptions {
 public:
  explicit ResizeBilinearOptions(const Table& t) : t_(t) {}
  bool align_corners() const { return t_.boolean(2); }
  bool half_pixel_centers() const { return t_.boolean(3); }

 private:
  Table t_;
};

// ResizeNearestNeighborOptions.
class ResizeNearestNeighborOptions {
 public:
  explicit ResizeNearestNeighborOptions(const Table& t) : t_(t) {}
  bool align_corners() const { return t_.boolean(0); }
  bool half_pixel_centers() const { return t_.boolean(1); }

 private:
  Table t_;
};

// ReducerOptions (MEAN).
class ReducerOptions {
 public:
  explicit ReducerOptions(const Table& t) : t_(t) {}
  bool keep_dims() const { return t_.boolean(0); }

 private:
  Table t_;
};

// DepthToSpaceOptions.
class DepthToSpaceOptions {
 public:
  explicit DepthToSpaceOptions(const Table& t) : t_(t) {}
  int32_t block_size() const { return t_.i32(0); }

 private:
  Table t_;
};

// SoftmaxOptions.
class SoftmaxOptions {
 public:
  explicit SoftmaxOptions(const Table& t) : t_(t) {}
  // The schema's default is 0, but a softmax without options means beta 1.
  float beta() const { return t_.f32(0, 1.f); }

 private:
  Table t_;
};

// LeakyReluOptions.
class LeakyReluOptions {
 public:
  explicit LeakyReluOptions(const Table& t) : t_(t) {}
  float alpha() const { return t_.f32(0, 0.f); }

 private:
  Table t_;
};

// The custom_options of MediaPipe's Convolution2DTransposeBias: the first fields of
// TfLiteTransposeConvParams stored raw, {int32 padding (1 SAME, 2 VALID), int32 stride_w,
// int32 stride_h}.
struct TransposeConvBiasOptions {
  bool padding_same = false;
  int32_t stride_w = 0, stride_h = 0;

  static Result<TransposeConvBiasOptions> parse(const uint8_t* data, size_t size);
};

}  // namespace polyhead::tflite
