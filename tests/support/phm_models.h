// Small models described for the .phm writer (engine/internal/polyhead/internal/phm_writer.h),
// for tests of what the writer stores. Programs using them link polyhead_engine_internal.
#pragma once

#include <vector>

#include "polyhead/internal/phm_writer.h"

namespace polyhead::testing {

// The smallest loadable model: input "image" [1,2,2,3] + constant "bias" [3] (constant 0, which
// reads `bias`: it must outlive the model) -> ADD -> "out", read by task "t" (kind OTHER) as its
// output "out". Tests add their own tensors, constants and post-processing.
internal::PhmModel add_bias_phm_model(const std::vector<float>& bias);

}  // namespace polyhead::testing
