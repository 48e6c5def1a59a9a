// Where and why sharing between two models stops: the first node of one model that another model
// could have shared (it has every input) but does not, and how the other model's closest node
// differs. For `--split-at` errors and the merge report.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/merge/constant_pool.h"
#include "offline/merge/merged_graph.h"

namespace polyhead::merge {

// The first merged node (in merged order) that contains model `from`, not model `m`, and whose
// inputs all exist in model `m`; -1 when there is none (`from`'s graph is part of `m`'s). With
// `shareable_only` only nodes that may be shared count.
int first_divergence(const MergedGraph& mg, size_t from, size_t m, bool shareable_only);

// One phrase saying why model `m` has no node matching merged node `node`: the closest node of `m`
// that reads the same data and what differs (operator, inputs, options, a constant's declaration or
// values, an output's declaration), or that no node of `m` reads that data.
std::string explain_missing_node(const MergedGraph& mg, const std::vector<SourceGraph>& graphs,
                                 ConstantPool& pool, size_t m, int node);

}  // namespace polyhead::merge
