// Operator semantics shared by validation, the builder and the tools: the output shapes a node
// produces and how much arithmetic it costs, through each operator's rules in the operator table
// (op_table.h, which also names the operators).
#pragma once

#include <cstdint>
#include <vector>

#include "polyhead/kernels/op_table.h"
#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"
#include "polyhead/tensor.h"

namespace polyhead::kernels {

// Checks the node's inputs and options and returns the shapes of its outputs. Errors say what is
// wrong and the value found; the caller prefixes the node's name. An operator kind this build
// does not know is a kUnsupported error.
Result<std::vector<Shape>> infer_output_shapes(const schema::Node& node,
                                               const std::vector<InputShape>& inputs);

// Multiply-accumulate count of one execution (elementwise operators count one per element), for
// shapes infer_output_shapes returned. An unknown operator kind is the same error as there.
Result<uint64_t> count_macs(const schema::Node& node, const std::vector<InputShape>& inputs,
                            const std::vector<Shape>& outputs);

// Fused activation bounds of a node (-inf, +inf when it has none).
struct ActivationRange {
  float min;
  float max;
};
ActivationRange fused_activation(const schema::Node& node);

}  // namespace polyhead::kernels
