// One line on how a plan runs its heads (EngineOptions::parallel_heads), for `polyhead run
// --parallel-heads` and `polyhead bench`: how many heads may run at the same time and whether they
// do, or why they run one after another.
#pragma once

#include <cstddef>
#include <string>

#include "polyhead/engine.h"

namespace polyhead::cli {

// "3 heads may run in parallel; in parallel: yes (--parallel-heads always)", or
// "one after another (--parallel-heads never)" / "(1 thread)" / "(fewer than two heads)".
std::string heads_summary(size_t parallel_head_groups, bool heads_in_parallel, ParallelHeads mode,
                          size_t threads);

}  // namespace polyhead::cli
