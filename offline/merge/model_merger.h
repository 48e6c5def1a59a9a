// Merges models that share a backbone (heads fine-tuned on one frozen pretrained network, shipped
// as separate models) into one model whose backbone runs once (docs/merge.md).
//
//   auto report = polyhead::merge::merge_models({classify, segment, detect},
//                                               {{"classify.phm", "segment.phm", "detect.phm"}});
//   // report->bytes is the new .phm; report->nodes tells which models contain each node.
//
// Nodes are matched by structure from the shared inputs, never by name or file order: the longest
// common prefix (same operators, options and constant bytes, fed by matched nodes) is kept once,
// the rest of each model becomes its tasks' heads. Each task's outputs are bit-identical to the
// source model's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::merge {

struct MergeOptions {
  // How messages name each model, usually its file path ("model 1", "model 2", ... when empty).
  std::vector<std::string> sources;
  // One short name per model (`--names`): a model with one task has that task renamed to the name,
  // a model with several has each task renamed "name.task". The name also prefixes the model's
  // head nodes. Empty: tasks keep their names (two tasks of one name are an error) and head nodes
  // are prefixed with the source's file stem.
  std::vector<std::string> names;
  // `--split-at`: when set, the backbone is the first model's nodes up to and including the one
  // writing this tensor, or this node (names of the first model); every model must contain it, and
  // nothing past it is shared.
  std::string split_at;
};

struct MergedNodeInfo {
  std::string name;            // in the merged model
  std::vector<size_t> models;  // the source models containing the node, ascending
};

struct MergedModelInfo {
  std::string name;                // prefix of its head nodes in the merged model
  std::string source;              // as in MergeOptions::sources
  std::vector<std::string> tasks;  // its tasks' names in the merged model, in source order
  size_t nodes = 0;                // nodes of the source model
  size_t head_nodes = 0;           // merged nodes no other model contains
  uint64_t param_bytes = 0;        // distinct constant bytes its nodes read
  uint64_t head_param_bytes = 0;   // of those, the bytes no other model reads
  uint64_t file_bytes = 0;         // of the source file
  // Where sharing with the first model ends and why ("'b.phm' node 'conv5' ... holds different
  // values"); empty for the first model and for a model identical to it.
  std::string divergence;
};

struct MergeReport {
  std::vector<uint8_t> bytes;  // the merged .phm file; loads with Model::from_bytes
  std::vector<std::string> warnings;
  std::vector<MergedModelInfo> models;
  std::vector<MergedNodeInfo> nodes;  // in the merged file's order
  size_t shared_nodes = 0;            // contained in every model: the backbone
  size_t partly_shared_nodes = 0;     // contained in two models or more, not all
  uint64_t shared_param_bytes = 0;
  uint64_t partly_shared_param_bytes = 0;
  uint64_t param_bytes = 0;  // distinct constant bytes of the merged model
};

// Needs two models or more with the same inputs (shape, type, pre-processing; names may differ).
// Errors name the model (by its source) and the input, task, tensor or node at fault.
Result<MergeReport> merge_models(const std::vector<Model>& models, const MergeOptions& options);

}  // namespace polyhead::merge
