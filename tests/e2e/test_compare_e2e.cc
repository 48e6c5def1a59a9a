// `polyhead compare` on the real MediaPipe models (converted from .tflite with their presets) and
// real photos (scripts/fetch_data.sh, python3-skimage): each model against itself agrees
// perfectly; against a copy converted with another input mean it measurably does not.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "eval/comparer.h"
#include "support/test_files.h"

using namespace polyhead;
using namespace polyhead::compare;
namespace fs = std::filesystem;

namespace {

std::string data_file(const std::string& name) {
  std::string path = (fs::path(polyhead::testing::data_dir()) / name).string();
  if (!fs::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
  return path;
}

std::string skimage_file(const std::string& name) {
  std::string path = (fs::path(polyhead::testing::skimage_dir()) / name).string();
  if (!fs::exists(path))
    FAIL("missing " << path << ": install python3-skimage (scripts/install_deps.sh)");
  return path;
}

// `mean` empty: the preset's pre-processing; else that mean on every channel (a perturbed copy).
Model convert(const std::string& tflite, const std::string& preset, std::vector<float> mean = {}) {
  polyhead::tflite::ConvertOptions options;
  options.preset = preset;
  options.mean = std::move(mean);
  auto bytes = polyhead::tflite::convert_file(data_file(tflite), options);
  if (!bytes.is_ok()) FAIL(tflite << ": " << bytes.status().to_string());
  auto model = Model::from_bytes(*bytes);
  if (!model.is_ok()) FAIL(model.status().to_string());
  return *model;
}

std::vector<std::string> photos() {
  std::vector<std::string> p;
  for (int i = 1; i <= 6; ++i) p.push_back(data_file("sample" + std::to_string(i) + ".jpg"));
  p.push_back(skimage_file("astronaut.png"));
  p.push_back(skimage_file("coffee.png"));
  return p;
}

CompareReport run_pair(const Model& teacher, const Model& student,
                       const std::vector<std::string>& images) {
  CompareOptions o;
  o.latency.rounds = 1;
  o.latency.runs = 2;
  auto r = compare_models(teacher, student, images, o);
  if (!r.is_ok()) FAIL(r.status().to_string());
  return *r;
}

const TaskComparison& task_of(const CompareReport& r, const std::string& name) {
  for (const TaskComparison& t : r.tasks)
    if (t.task == name) return t;
  FAIL("no task " << name);
  return r.tasks[0];
}

}  // namespace

TEST_CASE("compare e2e: selfie segmentation against itself and a copy with another mean") {
  const Model teacher = convert("selfie_segmentation.tflite", "mediapipe-selfie-segmentation");
  const CompareReport same = run_pair(teacher, teacher, photos());
  const TaskComparison& m = task_of(same, "mask");
  REQUIRE(m.method == Method::kMask);
  CHECK(m.mask.images == 8);
  CHECK(m.mask.iou_mean() == 1.0);
  CHECK(m.mask.iou_min == 1.0);
  CHECK(m.mask.probability_error_mean() == 0.0);
  CHECK(same.file_ratio() == 1.0);
  CHECK(same.arena_ratio() == 1.0);
  CHECK(same.latency_ratio() > 0);

  const Model student =
      convert("selfie_segmentation.tflite", "mediapipe-selfie-segmentation", {0.05f});
  const CompareReport other = run_pair(teacher, student, photos());
  const MaskSummary& s = task_of(other, "mask").mask;
  INFO("IoU mean " << s.iou_mean() << " min " << s.iou_min);
  CHECK(s.iou_mean() < 0.999);
  CHECK(s.iou_mean() > 0.8);  // a small shift of the input still finds the people
  CHECK(s.iou_min < s.iou_mean());
  CHECK(s.probability_error_mean() > 1e-3);
}

TEST_CASE("compare e2e: face detection boxes against itself and a copy with another mean") {
  const Model teacher =
      convert("face_detection_short_range.tflite", "mediapipe-face-detection-short");
  const CompareReport same = run_pair(teacher, teacher, photos());
  const DetectionSummary& d = task_of(same, "faces").detection;
  REQUIRE(task_of(same, "faces").method == Method::kDetection);
  CHECK(d.teacher_boxes >= 6);  // every sample photo has faces
  CHECK(d.matched == d.teacher_boxes);
  CHECK(d.extra() == 0);
  CHECK(d.recall() == 1.0);
  CHECK(d.iou_mean() == Approx(1.0));
  CHECK(d.score_error_mean() == 0.0);

  const Model student =
      convert("face_detection_short_range.tflite", "mediapipe-face-detection-short", {115.f});
  const CompareReport other = run_pair(teacher, student, photos());
  const DetectionSummary& o = task_of(other, "faces").detection;
  INFO("recall " << o.recall() << " IoU " << o.iou_mean() << " score error "
                 << o.score_error_mean());
  CHECK(o.recall() > 0.5);
  CHECK(o.iou_mean() < 0.999);
  CHECK(o.score_error_mean() > 1e-4);
}

TEST_CASE("compare e2e: pose landmarks, presence and mask against itself and a perturbed copy") {
  const Model teacher = convert("pose_landmark_lite.tflite", "mediapipe-pose-landmark-lite");
  const std::vector<std::string> images = {skimage_file("astronaut.png"), data_file("sample1.jpg")};
  const CompareReport same = run_pair(teacher, teacher, images);
  const TaskComparison& l = task_of(same, "landmarks");
  REQUIRE(l.method == Method::kLandmarks);
  CHECK(l.landmarks.points == 2 * 39);
  CHECK(l.landmarks.error_mean() == 0.0);
  CHECK(l.landmarks.error_max == 0.0);
  const TaskComparison& p = task_of(same, "presence");
  REQUIRE(p.method == Method::kClassification);
  CHECK(p.classification.classes == 1);
  CHECK(p.classification.top1() == 1.0);
  CHECK(p.classification.kl_mean() == 0.0);
  CHECK(task_of(same, "segmentation").mask.iou_mean() == 1.0);
  CHECK(task_of(same, "heatmap").method == Method::kRaw);
  CHECK(task_of(same, "heatmap").raw.abs_error_max == 0.0);
  CHECK(task_of(same, "world_landmarks").raw.cosine_mean() == Approx(1.0));

  const Model student =
      convert("pose_landmark_lite.tflite", "mediapipe-pose-landmark-lite", {0.05f});
  const CompareReport other = run_pair(teacher, student, images);
  const LandmarkSummary& e = task_of(other, "landmarks").landmarks;
  INFO("landmark error mean " << e.error_mean() << " max " << e.error_max);
  CHECK(e.error_mean() > 1e-4);
  CHECK(e.error_mean() < 0.05);  // under 5 % of the input side: the same pose
  CHECK(task_of(other, "presence").classification.kl_mean() > 0);
  CHECK(task_of(other, "segmentation").mask.iou_mean() < 1.0);
}

TEST_CASE("compare e2e: models with different tasks are refused, naming the task") {
  const Model selfie = convert("selfie_segmentation.tflite", "mediapipe-selfie-segmentation");
  const Model faces =
      convert("face_detection_short_range.tflite", "mediapipe-face-detection-short");
  CompareOptions o;
  auto r = compare_models(selfie, faces, {data_file("sample1.jpg")}, o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("task 'faces'") != std::string::npos);
  o.tasks = {"mask"};
  r = compare_models(selfie, faces, {data_file("sample1.jpg")}, o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("task 'mask' is not in the student") != std::string::npos);
}
