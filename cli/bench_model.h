// The model of `polyhead bench` (and of its soak): a .phm file, or a .tflite file converted in
// memory, and the check of --tasks against it.
#pragma once

#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::cli {

// Loads a .phm file, or converts a .tflite file in memory (importer defaults: one task per
// output); `format` becomes "phm" or "tflite". Failures never come back as kInvalidArgument,
// which is kept for option errors.
Result<Model> load_bench_model(const std::string& path, std::string& format);

// kInvalidArgument naming --tasks and listing the model's tasks when one of `tasks` is unknown.
Status check_bench_tasks(const Model& model, const std::vector<std::string>& tasks);

}  // namespace polyhead::cli
