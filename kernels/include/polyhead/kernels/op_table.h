// The operator table: what Polyhead knows about each schema::OpKind, in one entry per operator,
// so that the loader, the builder, the kernel factory, the quantizer, the converters and the
// tools ask one place instead of keeping their own lists. docs/architecture.md ("Adding an
// operator") lists what else a new operator needs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"
#include "polyhead/tensor.h"

namespace polyhead::kernels {

// One operator input as the shape rules see it.
struct InputShape {
  bool present = false;
  Shape shape;
  bool constant = false;
};

// Checks a node's inputs and options and returns the shapes of its outputs. Errors say what is
// wrong and the value found; the caller prefixes the node's name.
using ShapeRule = Result<std::vector<Shape>> (*)(const schema::Node& node,
                                                 const std::vector<InputShape>& inputs);
// Multiply-accumulates of one execution, for inputs and outputs its ShapeRule accepted
// (elementwise operators count one per output element).
using MacRule = uint64_t (*)(const schema::Node& node, const std::vector<InputShape>& inputs,
                             const std::vector<Shape>& outputs);

// How an operator runs in an int8 model (docs/int8.md).
enum class Int8Support {
  // No int8 kernel: an int8 model keeps it in float between a DEQUANTIZE and a QUANTIZE.
  kFloatOnly,
  // An int8 kernel; its output has quantization parameters of its own.
  kOwnQuantization,
  // An int8 kernel that only moves or selects values: its output must carry its input's scale
  // and zero point.
  kInputQuantization,
  // QUANTIZE and DEQUANTIZE: the conversions between float and int8 themselves.
  kConversion,
};

struct OpInfo {
  schema::OpKind kind;
  const char* name;           // as in schema/phm.fbs: "CONV_2D"
  schema::OpOptions options;  // the options table the operator takes; NONE when it takes none
  bool options_optional;      // the table may be left out: every field has a usable default
  ShapeRule infer_shapes;
  MacRule count_macs;
  Int8Support int8;
  uint32_t since_minor;  // the format 1.x minor version that introduced the operator

  constexpr bool float_only() const { return int8 == Int8Support::kFloatOnly; }
  constexpr bool has_int8_kernel() const {
    return int8 == Int8Support::kOwnQuantization || int8 == Int8Support::kInputQuantization;
  }
  constexpr bool shares_input_quantization() const {
    return int8 == Int8Support::kInputQuantization;
  }
};

// The entry of `kind`. A value this build does not know (a file from a newer producer) is a
// kUnsupported error "unknown operator kind UNKNOWN(<n>)", never a default entry.
Result<const OpInfo*> op_info(schema::OpKind kind);

// The entry named `name` as in schema/phm.fbs ("CONV_2D"); kNotFound for any other name.
Result<const OpInfo*> op_info(std::string_view name);

// Name of an operator kind ("CONV_2D"), or "UNKNOWN(<n>)" for a value this build does not know,
// for messages.
std::string op_kind_name(schema::OpKind kind);

}  // namespace polyhead::kernels
