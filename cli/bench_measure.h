// The measurements behind `polyhead bench`: load and prepare times, latency over repeated runs,
// the per-node profile, memory figures, every task on its own and a sweep over thread counts.
#pragma once

#include "cli/bench_result.h"
#include "cli/progress.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::cli {

// Loads a .phm file, or converts a .tflite file in memory (importer defaults); `format` becomes
// "phm" or "tflite". Failures never come back as kInvalidArgument (kept for option errors).
Result<Model> load_bench_model(const std::string& path, std::string& format);
// kInvalidArgument naming --tasks and listing the model's tasks when one of `tasks` is unknown.
Status check_bench_tasks(const Model& model, const std::vector<std::string>& tasks);

// Fills every input with a fixed pattern and measures what `config` asks for. A problem with the
// options that only the model can reveal (an unknown task) comes back as kInvalidArgument naming
// the option; load and engine failures keep their own codes. Each stage (load, prepare, every
// measurement) is announced on `progress`.
Result<BenchResult> run_bench(const BenchConfig& config, Progress& progress);

}  // namespace polyhead::cli
