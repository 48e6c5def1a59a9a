// Serialises a merged graph as a .phm file through the one .phm writer
// (polyhead/internal/phm_writer.h). What is merge's own: tensors and nodes take their merged names,
// each distinct constant is stored once however many tensors read it, tasks read the merged
// tensors; operator options, quantization, pre- and post-processing are copied from the source
// models, and the inputs come from the first model.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/merge/constant_pool.h"
#include "offline/merge/merged_graph.h"
#include "offline/merge/merged_names.h"
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
