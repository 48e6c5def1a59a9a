// Which tasks a comparison covers and how each is compared. Tasks are paired by name; both models
// must have the same task names (or at least the requested ones), kinds and output names. Output
// shapes must be equal, except what follows the input size when the student's differs: the height
// and width of masks and the anchor count of decoded detections (those are compared in photo
// pixels). Errors name the task, the output and both shapes.
#pragma once

#include <string>
#include <vector>

#include "eval/compare_report.h"
#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/vision/detection.h"
#include "polyhead/vision/landmarks.h"
#include "polyhead/vision/segmentation.h"

namespace polyhead::compare {

struct TaskPair {
  const TaskInfo* teacher = nullptr;
  const TaskInfo* student = nullptr;
  Method method = Method::kRaw;
  std::string note;  // why a task whose kind has a decoder is compared raw
  // Each model decodes with its own metadata (thresholds, anchors, scales).
  vision::DetectionOptions teacher_detection, student_detection;
  vision::MaskOptions teacher_mask, student_mask;
  vision::LandmarkOptions teacher_landmarks, student_landmarks;
  std::string output;  // kMask, kClassMap, kLandmarks: the output read (same name in both)
};

// `tasks` empty: every task, and both models must have the same set.
Result<std::vector<TaskPair>> pair_tasks(const Model& teacher, const Model& student,
                                         const std::vector<std::string>& tasks);

}  // namespace polyhead::compare
