// Models that share one frozen backbone, as teams ship them after fine-tuning separate heads: the
// same backbone weights, different node and tensor names, different heads, and backbones cut at
// different depths. For the tests of `polyhead merge`.
//
// The backbone has five stages on a [1,16,16,3] input:
//   0 conv 3x3 (3->8)            1 node   [1,16,16,8]
//   1 conv 3x3 stride 2 (8->8)   1 node   [1,8,8,8]
//   2 depthwise 3x3, conv 1x1, residual add   3 nodes  [1,8,8,8]
//   3 conv 3x3 stride 2 (8->16)  1 node   [1,4,4,16]
//   4 conv 1x1 (16->16)          1 node   [1,4,4,16]
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/model_builder.h"

namespace polyhead::testing {

// Nodes of backbone stages 0..k, for k = 0..4.
constexpr size_t kBackboneNodesThrough[] = {1, 2, 5, 6, 7};

struct BackboneSpec {
  std::string prefix = "net";  // every node and constant name starts with it
  int stages = 5;              // how deep the model's backbone goes (1..5)
  int differ_at = -1;          // from this stage on, weights are seeded differently (-1: never)
  Shape input = {1, 16, 16, 3};
  Preprocess preprocess;
};

// Adds the backbone on `input`; returns each stage's output tensor.
std::vector<int> add_backbone(ModelBuilder& b, int input, const BackboneSpec& spec);

// Full backbone, then mean + fully connected: task `task` with output "logits" [1,10].
std::vector<uint8_t> classify_model(const BackboneSpec& spec, const std::string& task = "classify");
// Backbone through stage 2 only; the head reads stages 1 and 2 (a skip connection): task
// "segment" with output "mask" [1,8,8,4]. 4 head nodes.
std::vector<uint8_t> segment_model(const BackboneSpec& spec);
// Full backbone; the head reads stages 2 and 4 (two scales) and its constants are added before the
// backbone's, so tensor order differs from the other models: task "detect" with outputs "boxes"
// and "scores". 6 head nodes.
std::vector<uint8_t> detect_model(const BackboneSpec& spec);

}  // namespace polyhead::testing
