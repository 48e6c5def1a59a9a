// Structural matching of several models into one merged graph. Models are added one after another,
// each in topological order; a node joins an existing merged node when it has the same operator,
// the same options, the same output declarations and the same inputs: the same model input by
// position, a constant with the same type, shape, quantization and bytes, or the output of a node
// it already joined. Names never take part. What matches is therefore closed under ancestors: the
// longest common prefix of the models, including parts shared by some of them only. A merged node
// is joined at most once per model, so a model's own repeated computations stay separate.
#pragma once

#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/merge/constant_pool.h"
#include "offline/merge/merged_graph.h"
#include "polyhead/result.h"

namespace polyhead::merge {

// Every graph must have as many model inputs as the first (the caller checks their shapes). With a
// non-empty `backbone` (one flag per node of the first model) only those nodes may be shared.
Result<MergedGraph> match_graphs(const std::vector<SourceGraph>& graphs, ConstantPool& pool,
                                 const std::vector<char>& backbone);

}  // namespace polyhead::merge
