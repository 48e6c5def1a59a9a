// The shape and cost rules of each operator, reached through the operator table (op_table.cc):
// each ShapeRule checks a node's inputs and options and returns its output shapes, each MacRule
// counts the multiply-accumulates of shapes its ShapeRule accepted. Input shapes are already
// bounded by infer_output_shapes, so the rules do their arithmetic in int64 without overflow.
#pragma once

#include "polyhead/kernels/op_table.h"

namespace polyhead::kernels::shape_rules {

// ShapeRule per family of operators (docs/format.md, "Operators").
Result<std::vector<Shape>> conv2d(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> transpose_conv2d(const schema::Node& node,
                                            const std::vector<InputShape>& in);
Result<std::vector<Shape>> fully_connected(const schema::Node& node,
                                           const std::vector<InputShape>& in);
Result<std::vector<Shape>> binary(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> pool2d(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> mean(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> pad(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> resize(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> softmax(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> clamp(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> leaky_relu(const schema::Node& node, const std::vector<InputShape>& in);
// One input of rank >= 1, output of the same shape; no options to check.
Result<std::vector<Shape>> elementwise(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> prelu(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> depth_to_space(const schema::Node& node,
                                          const std::vector<InputShape>& in);
Result<std::vector<Shape>> reshape(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> concatenation(const schema::Node& node,
                                         const std::vector<InputShape>& in);
Result<std::vector<Shape>> transpose(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> slice(const schema::Node& node, const std::vector<InputShape>& in);
Result<std::vector<Shape>> channel_shuffle(const schema::Node& node,
                                           const std::vector<InputShape>& in);

// MacRules; `out` holds at least one shape.
uint64_t conv2d_macs(const schema::Node& node, const std::vector<InputShape>& in,
                     const std::vector<Shape>& out);
uint64_t transpose_conv2d_macs(const schema::Node& node, const std::vector<InputShape>& in,
                               const std::vector<Shape>& out);
uint64_t fully_connected_macs(const schema::Node& node, const std::vector<InputShape>& in,
                              const std::vector<Shape>& out);
uint64_t pool2d_macs(const schema::Node& node, const std::vector<InputShape>& in,
                     const std::vector<Shape>& out);
uint64_t mean_macs(const schema::Node& node, const std::vector<InputShape>& in,
                   const std::vector<Shape>& out);
// Elementwise and data-moving operators: one per output element.
uint64_t per_output_element(const schema::Node& node, const std::vector<InputShape>& in,
                            const std::vector<Shape>& out);

}  // namespace polyhead::kernels::shape_rules
