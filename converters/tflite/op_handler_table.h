// The TFLite operators the converter maps, in one table: builtin code (and, for CUSTOM, custom
// code) -> handler, the Polyhead node it becomes and how int8 applies to it. The same table is
// the supported-operator list: check_supported_operators() reads it.
#pragma once

#include <string>

#include "converters/tflite/op_context.h"
#include "converters/tflite/tflite_model.h"
#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::tflite {

struct OpHandlerEntry {
  OpHandler convert;
  schema::OpKind becomes;  // the Polyhead node the operator becomes (decides float_only())
  int data_input = 0;      // the input whose type, int8 or float, decides how the operator runs
  // QUANTIZE and DEQUANTIZE convert between int8 and float themselves: no OpMode, no requantizing
  // of their output.
  bool converts_quantization = false;
  // DENSIFY writes no node either: its output is already the dense constant
  // (densify_sparse_constants()); no OpMode, no quantization.
  bool writes_no_node = false;
};

// The handler of operator code `code`; null when the converter does not map it.
const OpHandlerEntry* find_handler(const TfOperatorCode& code);

// Polyhead node kinds that run in float only: in an int8 model the operators becoming them are
// wrapped in DEQUANTIZE / QUANTIZE.
bool float_only(schema::OpKind kind);

// "CONV_2D" or "CUSTOM(name)".
std::string operator_name(const TfModel& model, const TfOperator& op);

// The one message listing every operator the converter cannot map, with counts
// ("unsupported operators: GATHER x3, CUSTOM(Foo) x1"), or ok.
Status check_supported_operators(const TfModel& model);

}  // namespace polyhead::tflite
