#include "cli/heads_summary.h"

namespace polyhead::cli {

std::string heads_summary(size_t parallel_head_groups, bool heads_in_parallel, ParallelHeads mode,
                          size_t threads) {
  const std::string option = std::string("--parallel-heads ") + parallel_heads_name(mode);
  if (parallel_head_groups == 0) {
    const char* why = mode == ParallelHeads::kNever  ? option.c_str()
                      : threads < 2                  ? "1 thread"
                      : mode == ParallelHeads::kAuto ? "--parallel-heads auto: fewer than two "
                                                       "heads, or one does most of their work"
                                                     : "fewer than two heads";
    return std::string("one after another (") + why + ")";
  }
  std::string s = std::to_string(parallel_head_groups) +
                  " heads may run in parallel; in parallel: " + (heads_in_parallel ? "yes" : "no") +
                  " (" + option;
  // auto runs them one after another until its timing of the first runs picks parallel.
  if (mode == ParallelHeads::kAuto) s += ", measured over the first runs";
  return s + ")";
}

}  // namespace polyhead::cli
