// Presets for known public models: task names and kinds, which model output feeds which task,
// pre-processing and post-processing facts taken from the models' public MediaPipe graphs
// (see docs/tflite_import.md for the sources).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "converters/tflite/tflite_model.h"
#include "polyhead/model.h"
#include "polyhead/model_builder.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

struct PresetOutput {
  std::string name;  // the output's name within its task
  int tensor = -1;   // the TFLite tensor
};

struct PresetTask {
  std::string name;
  TaskKind kind = TaskKind::kOther;
  std::vector<PresetOutput> outputs;
  PostProcessParams post;
};

struct Preset {
  Preprocess preprocess;
  std::vector<PresetTask> tasks;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string description;
};

std::vector<std::string> preset_names();

// The preset `name` applied to `model`: outputs are found by shape, and the model's input shape
// is checked against what the preset expects. Unknown names are kInvalidArgument.
Result<Preset> make_preset(const std::string& name, const TfModel& model);

}  // namespace polyhead::tflite
