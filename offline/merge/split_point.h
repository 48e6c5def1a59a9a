// The backbone `polyhead merge --split-at NAME` names: every node of the first model up to and
// including the one writing tensor NAME, or the node NAME (its ancestors), whatever their order in
// the file.
#pragma once

#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "polyhead/result.h"

namespace polyhead::merge {

// One flag per node of `first`. A tensor of that name wins over a node. Fails when neither has the
// name, when two tensors written by nodes have it, or when it names a model input or a constant.
Result<std::vector<char>> backbone_up_to(const SourceGraph& first, const std::string& name);

}  // namespace polyhead::merge
