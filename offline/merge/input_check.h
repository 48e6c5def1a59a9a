// Models merged onto one input must take the same inputs: the same count and, position by
// position, the same shape, element type, quantization and pre-processing. Names may differ (the
// first model's are kept, with a warning).
#pragma once

#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "polyhead/result.h"

namespace polyhead::merge {

// Fails naming both models, the input and the first field that differs.
Status check_same_inputs(const std::vector<SourceGraph>& graphs,
                         std::vector<std::string>* warnings);

}  // namespace polyhead::merge
