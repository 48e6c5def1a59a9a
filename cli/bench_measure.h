// The measurements behind `polyhead bench`: load and prepare times, latency over repeated runs,
// the per-node profile, memory figures, every task on its own and a sweep over thread counts.
#pragma once

#include "cli/bench_result.h"
#include "cli/progress.h"
#include "polyhead/result.h"

namespace polyhead::cli {

// Fills every input with a fixed pattern and measures what `config` asks for. A problem with the
// options that only the model can reveal (an unknown task) comes back as kInvalidArgument naming
// the option; load and engine failures keep their own codes. Each stage (load, prepare, every
// measurement) is announced on `progress`.
Result<BenchResult> run_bench(const BenchConfig& config, Progress& progress);

}  // namespace polyhead::cli
