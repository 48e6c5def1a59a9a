// TFLite BuiltinOperator codes used by the converter, and the names of all codes for messages.
#pragma once

#include <string>

namespace polyhead::tflite {

enum TfBuiltin : int {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDepthToSpace = 5,
  kDequantize = 6,
  kFullyConnected = 9,
  kLogistic = 14,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kReluN1To1 = 20,
  kRelu6 = 21,
  kReshape = 22,
  kResizeBilinear = 23,
  kSoftmax = 25,
  kTanh = 28,
  kCustom = 32,
  kPad = 34,
  kMean = 40,
  kSub = 41,
  kDiv = 42,
  kPrelu = 54,
  kTransposeConv = 67,
  kResizeNearestNeighbor = 97,
  kAbs = 101,
  kLeakyRelu = 98,
  kQuantize = 114,
  kHardSwish = 117,
  kDensify = 124,
};

// "CONV_2D"; "BUILTIN(200)" for codes this table does not know.
std::string builtin_name(int code);

}  // namespace polyhead::tflite
