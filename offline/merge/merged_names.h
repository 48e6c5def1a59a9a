// Names in a merged model. A node (and the tensors it writes or alone reads) that every model
// contains keeps the name it has in the first model containing it; one that a single model
// contains is prefixed with that model's name ("segment/head.conv"); one that some models share is
// prefixed with their names joined by '+' ("classify+detect/block5"). Node names must be unique:
// a clash left after that gets a "#2" suffix and a warning.
#pragma once

#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/merge/merged_graph.h"

namespace polyhead::merge {

struct MergedNames {
  std::vector<std::string> nodes;    // per merged node
  std::vector<std::string> tensors;  // per merged tensor
  std::vector<std::string> warnings;
};

// `prefixes` has one name per source model.
MergedNames name_merged_graph(const MergedGraph& mg, const std::vector<SourceGraph>& graphs,
                              const std::vector<std::string>& prefixes);

}  // namespace polyhead::merge
