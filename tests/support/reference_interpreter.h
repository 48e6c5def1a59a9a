// A deliberately naive interpreter of .phm models, the ground truth of the tests. It reads the file
// with the generated FlatBuffers accessors and computes every operator with plain nested loops
// (double accumulation for sums), sharing no code with the runtime or the kernels: a bug there
// cannot hide by being repeated here. Errors (malformed model, unknown operator, wrong input
// size) throw std::runtime_error, which Catch2 reports with the message.
//
// int8 models (docs/int8.md) are simulated in float ("fake quantization"): I8 and I32 constants
// are dequantized when loaded, every I8 tensor holds its dequantized values, and what a node
// writes to an I8 tensor is rounded (half to even) onto that tensor's grid and clamped to int8.
// QUANTIZE and DEQUANTIZE therefore pass values through (the rounding is the I8 output's).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "polyhead/tensor.h"

namespace polyhead::testing {

struct ReferenceTensor {
  Shape shape;
  std::vector<float> values;
};

// Evaluates the nodes that `tasks` need (every node when `tasks` is empty) and returns every
// tensor it knows by name: the given inputs, every constant and the evaluated nodes' outputs.
// Output shapes are computed here from the operator semantics and checked against the shapes the
// file declares.
std::map<std::string, ReferenceTensor> reference_evaluate(
    const std::vector<uint8_t>& model_bytes,
    const std::map<std::string, std::vector<float>>& inputs,
    const std::vector<std::string>& tasks = {});

// Values only, every node evaluated.
std::map<std::string, std::vector<float>> reference_run(
    const std::vector<uint8_t>& model_bytes,
    const std::map<std::string, std::vector<float>>& inputs);

// Names of the nodes that the outputs of `tasks` depend on (every task when empty), in file order.
std::vector<std::string> reference_needed_nodes(const std::vector<uint8_t>& model_bytes,
                                                const std::vector<std::string>& tasks = {});

// The model tensor behind output `output` of task `task`.
std::string reference_task_output_tensor(const std::vector<uint8_t>& model_bytes,
                                         const std::string& task, const std::string& output);

}  // namespace polyhead::testing
