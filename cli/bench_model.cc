#include "cli/bench_model.h"

#include <algorithm>
#include <cstdint>

#include "cli/format.h"
#include "converters/tflite/tflite_converter.h"

namespace polyhead::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A .tflite file is converted in memory with the importer's defaults (one task per output).
Result<Model> load_model(const std::string& path, std::string& format) {
  if (ends_with(path, ".tflite")) {
    format = "tflite";
    PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, tflite::convert_file(path, {}));
    return Model::from_bytes(bytes);
  }
  format = "phm";
  return Model::load_file(path);
}

}  // namespace

Result<Model> load_bench_model(const std::string& path, std::string& format) {
  auto loaded = load_model(path, format);
  if (!loaded.is_ok()) {
    // kInvalidArgument is kept for option errors, so the caller can report those as usage.
    const ErrorCode code = loaded.status().code();
    return Status(code == ErrorCode::kInvalidArgument ? ErrorCode::kInvalidModel : code,
                  "cannot load the model: " + loaded.status().message());
  }
  return *loaded;
}

Status check_bench_tasks(const Model& model, const std::vector<std::string>& tasks) {
  std::vector<std::string> names;
  for (const TaskInfo& t : model.tasks()) names.push_back(t.name);
  for (const std::string& task : tasks)
    if (std::find(names.begin(), names.end(), task) == names.end())
      return Status(ErrorCode::kInvalidArgument, "invalid value '" + task +
                                                     "' for --tasks: the model has no such task "
                                                     "(it has " +
                                                     join(names, ", ") + ")");
  return Status::ok();
}

}  // namespace polyhead::cli
