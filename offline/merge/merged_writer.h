// Serialises a merged graph as a .phm file (docs/format.md): the FlatBuffer first, then each
// distinct constant once, at 64-byte aligned offsets. Tensors, nodes, pre- and post-processing are
// copied from the source models; inputs come from the first model.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "offline/merge/constant_pool.h"
#include "offline/merge/merged_graph.h"
#include "offline/merge/merged_names.h"
#include "offline/graph/source_graph.h"
#include "polyhead/result.h"

namespace polyhead::merge {

struct MergedTask {
  size_t model = 0;  // the source model
  int source = -1;   // task index in that model
  std::string name;  // its name in the merged model
};

struct MergedHeader {
  std::string producer;
  std::string description;
  std::vector<std::pair<std::string, std::string>> metadata;
};

Result<std::vector<uint8_t>> write_merged_model(const MergedGraph& mg, const MergedNames& names,
                                                const std::vector<SourceGraph>& graphs,
                                                const ConstantPool& pool,
                                                const std::vector<MergedTask>& tasks,
                                                const MergedHeader& header);

}  // namespace polyhead::merge
