// Reading the per-task metadata conventions of the vision post-processing ("<task>.<key>").
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::vision::detail {

inline std::string task_key(const TaskInfo& task, const char* key) {
  return task.name + "." + key;
}

inline Status bad_metadata(const TaskInfo& task, const char* key, const std::string& value,
                           const std::string& expected) {
  return Status(ErrorCode::kInvalidModel, "task '" + task.name + "': metadata '" +
                                              task_key(task, key) + "' is '" + value +
                                              "', expected " + expected);
}

// Comma-separated finite numbers.
inline bool parse_floats(const std::string& text, std::vector<float>& out) {
  out.clear();
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.empty()) return false;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(item.c_str(), &end);
    while (end && *end == ' ') ++end;
    if (errno != 0 || !end || end == item.c_str() || *end != '\0' || !std::isfinite(v))
      return false;
    out.push_back(static_cast<float>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return !out.empty();
}

// An optional number; `fallback` when the key is absent.
inline Result<float> metadata_float(const Model& model, const TaskInfo& task, const char* key,
                                    float fallback, float min, float max) {
  const std::string text = model.metadata(task_key(task, key));
  if (text.empty()) return fallback;
  std::vector<float> v;
  if (!parse_floats(text, v) || v.size() != 1 || v[0] < min || v[0] > max)
    return bad_metadata(task, key, text,
                        "a number in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v[0];
}

inline float sigmoid(float x) {
  return 1.f / (1.f + std::exp(-x));
}

}  // namespace polyhead::vision::detail
