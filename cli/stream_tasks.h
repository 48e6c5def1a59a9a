// The tasks of a `polyhead stream` and how each is scheduled, from the command line: --tasks
// picks them, --rate, --priority and --deadline-ms set them per task. Several models may share a
// task name (two detectors with a task "faces"); a name is then written `label:task`, the label
// being the model file's stem. An unknown or ambiguous name, a repeated one or a bad value is an
// error naming the option, the task and the value.
#pragma once

#include <string>
#include <vector>

#include "polyhead/frame_scheduler.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::cli {

struct StreamModel {
  std::string label;  // file stem; "-2", "-3" ... appended when two files share a stem
  const Model* model = nullptr;
};

// Labels for the model files in order: each file's stem, made unique.
std::vector<std::string> model_labels(const std::vector<std::string>& paths);

// The option values as given (each may be repeated).
struct StreamTaskOptions {
  std::vector<std::string> tasks;       // --tasks a,b (comma lists)
  std::vector<std::string> rates;       // --rate TASK=N | TASK=HZhz
  std::vector<std::string> priorities;  // --priority TASK=P
  std::vector<std::string> deadlines;   // --deadline-ms TASK=D
};

// What one model of the stream runs.
struct ModelTasks {
  std::vector<std::string> tasks;      // to prepare; empty = every task of the model
  std::vector<TaskSchedule> schedule;  // overrides for the scheduler
};

// One entry per model, in order. Errors are kInvalidArgument.
Result<std::vector<ModelTasks>> resolve_stream_tasks(const std::vector<StreamModel>& models,
                                                     const StreamTaskOptions& options);

}  // namespace polyhead::cli
