// The numbers `polyhead compare` reports: per task, how far the student's results are from the
// teacher's on the same images, plus size, arena and latency ratios. Plain data, no OpenCV, so the
// CLI's text and JSON writers can read it (docs/compare.md describes every field).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "polyhead/model_enums.h"

namespace polyhead::compare {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

inline double mean_of(double sum, size_t count) {
  return count ? sum / static_cast<double>(count) : kNoValue;
}

// Classification: one sample per output row (per image for a [1, C] output).
struct ClassificationSummary {
  std::string scores;  // how outputs became probabilities: "logits", "probabilities", "sigmoid"
  size_t classes = 0;
  size_t samples = 0;
  size_t top1_agree = 0;
  size_t top5_agree = 0;  // the teacher's top-1 class is among the student's top 5
  double kl_sum = 0, kl_max = 0;

  double top1() const { return mean_of(static_cast<double>(top1_agree), samples); }
  // Meaningless (always 1) with 5 classes or fewer: reported as no value then.
  double top5() const {
    return classes > 5 ? mean_of(static_cast<double>(top5_agree), samples) : kNoValue;
  }
  double kl_mean() const { return mean_of(kl_sum, samples); }
};

// Foreground masks (one or two channels, or a declared threshold), compared in photo pixels.
struct MaskSummary {
  float teacher_threshold = 0.5f, student_threshold = 0.5f;
  size_t images = 0;
  double iou_sum = 0, iou_min = 1;
  double probability_error_sum = 0;  // mean |p_teacher - p_student| per image
  double teacher_coverage_sum = 0, student_coverage_sum = 0;

  double iou_mean() const { return mean_of(iou_sum, images); }
  double probability_error_mean() const { return mean_of(probability_error_sum, images); }
};

// Multi-class masks (more than two channels, no threshold): per-pixel argmax in photo pixels.
struct ClassMapSummary {
  size_t classes = 0;
  size_t images = 0;
  double miou_sum = 0, miou_min = 1;
  double pixel_agreement_sum = 0;

  double miou_mean() const { return mean_of(miou_sum, images); }
  double pixel_agreement_mean() const { return mean_of(pixel_agreement_sum, images); }
};

// Detections decoded and NMS'd as `run --image` does, matched greedily by IoU.
struct DetectionSummary {
  double match_iou = 0.5;  // the least IoU for a teacher and a student box to match
  size_t images = 0;
  size_t teacher_boxes = 0, student_boxes = 0, matched = 0;
  double iou_sum = 0, score_error_sum = 0;

  double recall() const { return mean_of(static_cast<double>(matched), teacher_boxes); }
  size_t extra() const { return student_boxes - matched; }
  double iou_mean() const { return mean_of(iou_sum, matched); }
  double score_error_mean() const { return mean_of(score_error_sum, matched); }
};

// Landmarks in photo pixels; errors as a fraction of the teacher's model input size.
struct LandmarkSummary {
  size_t images = 0;
  size_t points = 0;
  double error_sum = 0, error_max = 0;
  double visibility_error_sum = 0;

  double error_mean() const { return mean_of(error_sum, points); }
  double visibility_error_mean() const { return mean_of(visibility_error_sum, points); }
};

// Tasks with nothing to decode (regression, embedding, other, undecodable heads): raw values.
struct RawSummary {
  size_t images = 0;
  size_t elements = 0;  // compared per image
  double abs_error_sum = 0, abs_error_max = 0;
  double cosine_sum = 0;  // per image, over every output of the task

  double abs_error_mean() const { return mean_of(abs_error_sum, elements * images); }
  double cosine_mean() const { return mean_of(cosine_sum, images); }
};

enum class Method { kClassification, kMask, kClassMap, kDetection, kLandmarks, kRaw };
const char* method_name(Method m);

struct TaskComparison {
  std::string task;
  TaskKind kind = TaskKind::kOther;
  Method method = Method::kRaw;
  std::string note;  // why a task is compared raw, when its kind has a decoder
  ClassificationSummary classification;
  MaskSummary mask;
  ClassMapSummary class_map;
  DetectionSummary detection;
  LandmarkSummary landmarks;
  RawSummary raw;
  // The task's headline number for each image, in image order (see docs/compare.md).
  std::vector<double> per_image;
};

struct ModelSummary {
  std::string path;
  size_t file_bytes = 0;
  size_t arena_bytes = 0;  // the plan of the compared tasks
  std::string input;
  int input_width = 0, input_height = 0;
  double latency_ms = 0;  // median of the interleaved runs
};

struct CompareReport {
  ModelSummary teacher, student;
  double temperature = 1;
  std::vector<std::string> images;
  std::vector<std::string> skipped;  // files in the image folders that are not images
  std::vector<TaskComparison> tasks;
  int latency_rounds = 0, latency_runs = 0;
  size_t threads = 1;

  static double ratio(double student, double teacher) {
    return teacher > 0 ? student / teacher : kNoValue;
  }
  double file_ratio() const {
    return ratio(static_cast<double>(student.file_bytes), static_cast<double>(teacher.file_bytes));
  }
  double arena_ratio() const {
    return ratio(static_cast<double>(student.arena_bytes),
                 static_cast<double>(teacher.arena_bytes));
  }
  double latency_ratio() const { return ratio(student.latency_ms, teacher.latency_ms); }
};

}  // namespace polyhead::compare
