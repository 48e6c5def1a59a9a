// Operator semantics shared by validation, the builder and the tools: which inputs an operator
// takes, the output shapes it produces, and how much arithmetic it costs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"
#include "polyhead/tensor.h"

namespace polyhead::kernels {

struct InputShape {
  bool present = false;
  Shape shape;
  bool constant = false;
};

// Name of an operator kind as written in schema/phm.fbs ("CONV_2D"), or "UNKNOWN(<n>)".
std::string op_kind_name(schema::OpKind kind);

// Checks the node's inputs and options and returns the shapes of its outputs. Errors say what is
// wrong and the value found; the caller prefixes the node's name.
Result<std::vector<Shape>> infer_output_shapes(const schema::Node& node,
                                               const std::vector<InputShape>& inputs);

// Multiply-accumulate count of one execution (elementwise operators count one per element).
uint64_t count_macs(const schema::Node& node, const std::vector<InputShape>& inputs,
                    const std::vector<Shape>& outputs);

// Fused activation bounds of a node (-inf, +inf when it has none).
struct ActivationRange {
  float min;
  float max;
};
ActivationRange fused_activation(const schema::Node& node);

}  // namespace polyhead::kernels
