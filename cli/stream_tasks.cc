#include "cli/stream_tasks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "cli/args.h"
#include "cli/format.h"

namespace polyhead::cli {
namespace {

Status usage(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

struct TaskRef {
  size_t model = 0;
  std::string task;
};

bool has_task(const Model& model, const std::string& task) {
  for (const TaskInfo& t : model.tasks())
    if (t.name == task) return true;
  return false;
}

std::vector<std::string> all_task_names(const std::vector<StreamModel>& models) {
  std::vector<std::string> names;
  for (const StreamModel& m : models)
    for (const TaskInfo& t : m.model->tasks()) names.push_back(m.label + ":" + t.name);
  return names;
}

// "task" or "label:task" -> the model and task it names.
Result<TaskRef> resolve(const std::vector<StreamModel>& models, const std::string& option,
                        const std::string& name) {
  std::vector<size_t> found;
  for (size_t m = 0; m < models.size(); ++m)
    if (has_task(*models[m].model, name)) found.push_back(m);
  const size_t colon = name.find(':');
  if (found.empty() && colon != std::string::npos) {
    const std::string label = name.substr(0, colon), task = name.substr(colon + 1);
    std::vector<std::string> labels;
    for (size_t m = 0; m < models.size(); ++m) {
      labels.push_back(models[m].label);
      if (models[m].label != label) continue;
      if (has_task(*models[m].model, task)) return TaskRef{m, task};
      std::vector<std::string> tasks;
      for (const TaskInfo& t : models[m].model->tasks()) tasks.push_back(t.name);
      return usage(option + ": model '" + label + "' has no task '" + task +
                   "' (its tasks: " + join(tasks, ", ") + ")");
    }
    return usage(option + ": no model is labelled '" + label + "' in '" + name +
                 "' (labels are the model file stems: " + join(labels, ", ") + ")");
  }
  if (found.size() == 1) return TaskRef{found[0], name};
  if (found.empty())
    return usage(option + ": no model has a task '" + name +
                 "' (tasks: " + join(all_task_names(models), ", ") + ")");
  std::vector<std::string> qualified;
  for (size_t m : found) qualified.push_back(models[m].label + ":" + name);
  return usage(option + ": task '" + name + "' is ambiguous: write " + join(qualified, " or "));
}

// "TASK=VALUE" -> {TASK, VALUE}.
Result<std::pair<std::string, std::string>> split_setting(const std::string& option,
                                                          const std::string& text) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return usage("invalid value '" + text + "' for " + option + ": expected TASK=VALUE");
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Status parse_rate(const std::string& text, const std::string& value, TaskSchedule& schedule) {
  const std::string v = lower(value);
  if (v.size() > 2 && v.compare(v.size() - 2, 2, "hz") == 0) {
    auto hz = parse_double("--rate", value.substr(0, value.size() - 2), 1e-6, 1e6);
    if (!hz.is_ok())
      return usage("invalid value '" + text +
                   "' for --rate: a rate in Hz must be a number in (0, 1e6] such as 7.5hz");
    schedule.rate_hz = *hz;
    return Status::ok();
  }
  auto n = parse_int("--rate", value, 1, 1000000);
  if (!n.is_ok())
    return usage("invalid value '" + text +
                 "' for --rate: give every Nth frame (an integer in [1, 1000000]) or a rate in "
                 "Hz such as 7.5hz");
  schedule.every_n_frames = static_cast<uint32_t>(*n);
  return Status::ok();
}

}  // namespace

std::vector<std::string> model_labels(const std::vector<std::string>& paths) {
  std::vector<std::string> labels;
  std::map<std::string, int> seen;
  for (const std::string& path : paths) {
    std::string label = std::filesystem::path(path).stem().string();
    if (label.empty()) label = "model";
    const int n = ++seen[label];
    if (n > 1) label += "-" + std::to_string(n);
    labels.push_back(label);
  }
  return labels;
}

Result<std::vector<ModelTasks>> resolve_stream_tasks(const std::vector<StreamModel>& models,
                                                     const StreamTaskOptions& options) {
  std::vector<ModelTasks> out(models.size());
  // --tasks: the chosen tasks, per model in the order given.
  std::set<std::pair<size_t, std::string>> chosen;
  for (const std::string& text : options.tasks) {
    PH_ASSIGN_OR_RETURN(const std::vector<std::string> names, parse_list("--tasks", text));
    for (const std::string& name : names) {
      PH_ASSIGN_OR_RETURN(const TaskRef ref, resolve(models, "--tasks", name));
      if (!chosen.insert({ref.model, ref.task}).second)
        return usage("--tasks: task '" + models[ref.model].label + ":" + ref.task +
                     "' is listed twice");
      out[ref.model].tasks.push_back(ref.task);
    }
  }
  if (!options.tasks.empty())
    for (size_t m = 0; m < models.size(); ++m)
      if (out[m].tasks.empty())
        return usage("--tasks names no task of model '" + models[m].label +
                     "' (its tasks: " + join(all_task_names({models[m]}), ", ") + ")");

  // The per-task settings, each task at most once per option.
  const auto schedule_of = [&](const TaskRef& ref) -> TaskSchedule& {
    for (TaskSchedule& s : out[ref.model].schedule)
      if (s.task == ref.task) return s;
    out[ref.model].schedule.push_back({});
    out[ref.model].schedule.back().task = ref.task;
    return out[ref.model].schedule.back();
  };
  struct Setting {
    const char* option;
    const std::vector<std::string>* values;
  };
  for (const Setting& setting :
       {Setting{"--rate", &options.rates}, Setting{"--priority", &options.priorities},
        Setting{"--deadline-ms", &options.deadlines}}) {
    const std::string option = setting.option;
    std::set<std::pair<size_t, std::string>> seen;
    for (const std::string& text : *setting.values) {
      PH_ASSIGN_OR_RETURN(const auto pair, split_setting(option, text));
      PH_ASSIGN_OR_RETURN(const TaskRef ref, resolve(models, option, pair.first));
      const std::string qualified = models[ref.model].label + ":" + ref.task;
      if (!seen.insert({ref.model, ref.task}).second)
        return usage(option + ": task '" + qualified + "' is given twice");
      if (!options.tasks.empty() && !chosen.count({ref.model, ref.task}))
        return usage(option + ": task '" + qualified + "' is not among --tasks");
      TaskSchedule& schedule = schedule_of(ref);
      if (option == "--rate") {
        PH_RETURN_IF_ERROR(parse_rate(text, pair.second, schedule));
      } else if (option == "--priority") {
        auto p = parse_int(option, pair.second, -1000000, 1000000);
        if (!p.is_ok())
          return usage("invalid value '" + text +
                       "' for --priority: expected an integer in [-1000000, 1000000]");
        schedule.priority = static_cast<int>(*p);
      } else {
        auto d = parse_double(option, pair.second, 0, 1e6);
        if (!d.is_ok() || !(*d > 0))
          return usage("invalid value '" + text +
                       "' for --deadline-ms: expected milliseconds in (0, 1e6]");
        schedule.deadline_ms = *d;
      }
    }
  }
  return out;
}

}  // namespace polyhead::cli
