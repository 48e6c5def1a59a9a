// polyhead_vision end to end on real models and photos: the MediaPipe face detector, selfie
// segmenter and pose landmark model, converted with their presets, on the sample photos
// (scripts/fetch_data.sh) and Debian's scikit-image test images (python3-skimage).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "converters/tflite/tflite_converter.h"
#include "polyhead/engine.h"
#include "polyhead/vision/detection.h"
#include "polyhead/vision/landmarks.h"
#include "polyhead/vision/preprocess.h"
#include "polyhead/vision/segmentation.h"
#include "support/test_files.h"

using namespace polyhead;
using namespace polyhead::vision;
namespace fs = std::filesystem;

namespace {

// build/data, or $POLYHEAD_DATA_DIR.
std::string data_file(const std::string& name) {
  const std::string dir = polyhead::testing::data_dir();
  const std::string path = (fs::path(dir) / name).string();
  if (!fs::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
  return path;
}

// scikit-image's sample photos, or $POLYHEAD_SKIMAGE_DATA.
std::string skimage_file(const std::string& name) {
  const std::string dir = polyhead::testing::skimage_dir();
  const std::string path = (fs::path(dir) / name).string();
  if (!fs::exists(path))
    FAIL("missing " << path << ": install python3-skimage (scripts/install_deps.sh)");
  return path;
}

Model convert(const std::string& tflite, const std::string& preset) {
  polyhead::tflite::ConvertOptions options;
  options.preset = preset;
  auto bytes = polyhead::tflite::convert_file(data_file(tflite), options);
  if (!bytes.is_ok())
    FAIL(tflite << " with preset " << preset << ": " << bytes.status().to_string());
  auto model = Model::from_bytes(*bytes);
  if (!model.is_ok()) FAIL(model.status().to_string());
  return *model;
}

const TaskInfo& task_named(const Model& model, const std::string& name) {
  for (const TaskInfo& t : model.tasks())
    if (t.name == name) return t;
  FAIL("no task " << name);
  return model.tasks()[0];
}

// Runs every task of `model` on the photo at `path`.
struct Run {
  Model model;
  Engine engine;
  Plan plan;
  ImageTransform transform;
  cv::Mat image;
};

Run run_on(const Model& model, const std::string& path) {
  auto image = load_image(path);
  if (!image.is_ok()) FAIL(image.status().to_string());
  auto engine = Engine::create(model);
  if (!engine.is_ok()) FAIL(engine.status().to_string());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL(plan.status().to_string());
  const InputInfo& in = model.inputs()[0];
  auto dst = plan->input_buffer(in.name);
  if (!dst.is_ok()) FAIL(dst.status().to_string());
  auto t = preprocess(*image, in, *dst);
  if (!t.is_ok()) FAIL(t.status().to_string());
  const Status s = plan->run();
  if (!s.is_ok()) FAIL(s.to_string());
  return Run{model, *engine, *plan, *t, *image};
}

std::vector<Detection> faces(const Model& model, const std::string& path) {
  Run r = run_on(model, path);
  const TaskInfo& task = task_named(model, "faces");
  auto options = detection_options(model, task);
  if (!options.is_ok()) FAIL(options.status().to_string());
  auto d = decode_detections(*r.plan.output("faces", "boxes"), *r.plan.output("faces", "scores"),
                             *options, r.transform);
  if (!d.is_ok()) FAIL(d.status().to_string());
  return *d;
}

Mask mask_of(const Run& r, const std::string& task) {
  auto options = mask_options(r.model, task_named(r.model, task));
  if (!options.is_ok()) FAIL(options.status().to_string());
  auto m = mask_to_image(*r.plan.output(task, "mask"), *options, r.transform);
  if (!m.is_ok()) FAIL(m.status().to_string());
  return *m;
}

}  // namespace

TEST_CASE("face detector: every sample photo has faces of plausible size, the coffee none") {
  const Model model =
      convert("face_detection_short_range.tflite", "mediapipe-face-detection-short");
  for (int i = 1; i <= 6; ++i) {
    const std::string path = data_file("sample" + std::to_string(i) + ".jpg");
    INFO(path);
    const cv::Mat image = *load_image(path);
    const std::vector<Detection> d = faces(model, path);
    CHECK(d.size() >= 1);
    CHECK(d.size() <= 6);
    for (const Detection& f : d) {
      CHECK(f.score >= 0.5f);
      // Group photos of 1920 px: faces are a few hundred pixels, about square.
      CHECK(f.box.width > 0.05f * image.cols);
      CHECK(f.box.width < 0.5f * image.cols);
      CHECK(f.box.height / f.box.width == Approx(1.0).margin(0.3));
      const cv::Point2f centre(f.box.x + f.box.width / 2, f.box.y + f.box.height / 2);
      CHECK(cv::Rect2f(0, 0, image.cols, image.rows).contains(centre));
      REQUIRE(f.keypoints.size() == 6);
      // Eyes, nose and mouth inside the box.
      for (int k = 0; k < 4; ++k) CHECK(f.box.contains(f.keypoints[k]));
    }
  }
  CHECK(faces(model, skimage_file("coffee.png")).empty());
  const std::vector<Detection> astronaut = faces(model, skimage_file("astronaut.png"));
  REQUIRE(astronaut.size() == 1);
  // Her face is around (225, 125) in the 512x512 photo.
  CHECK(astronaut[0].box.contains(cv::Point2f(225, 125)));
}

TEST_CASE("selfie segmentation covers the astronaut and little of the coffee cup") {
  const Model model = convert("selfie_segmentation.tflite", "mediapipe-selfie-segmentation");
  const Run astronaut = run_on(model, skimage_file("astronaut.png"));
  const Mask m = mask_of(astronaut, "mask");
  REQUIRE(m.binary.size() == astronaut.image.size());
  CHECK(m.coverage > 0.4);
  // Face, chest and the upper-left sky of the rocket side.
  CHECK(m.binary.at<uint8_t>(125, 225) == 255);
  CHECK(m.binary.at<uint8_t>(350, 150) == 255);
  CHECK(m.binary.at<uint8_t>(100, 460) == 0);
  const Run coffee = run_on(model, skimage_file("coffee.png"));
  const Mask c = mask_of(coffee, "mask");
  CHECK(c.coverage < 0.3);
  CHECK(c.coverage < m.coverage / 2);
}

TEST_CASE("pose landmarks fall on the astronaut, the nose inside her face box") {
  const Model faces_model =
      convert("face_detection_short_range.tflite", "mediapipe-face-detection-short");
  const std::vector<Detection> face = faces(faces_model, skimage_file("astronaut.png"));
  REQUIRE(face.size() == 1);

  const Model model = convert("pose_landmark_lite.tflite", "mediapipe-pose-landmark-lite");
  const Run r = run_on(model, skimage_file("astronaut.png"));
  auto options = landmark_options(model, task_named(model, "landmarks"));
  REQUIRE(options.is_ok());
  auto l = decode_landmarks(*r.plan.output("landmarks", "landmarks"), *options, r.transform);
  REQUIRE(l.is_ok());
  REQUIRE(l->size() == 39);
  const cv::Rect2f photo(0, 0, 512, 512);
  int visible = 0;
  for (int i = 0; i < 33; ++i) {
    const Landmark& p = (*l)[i];
    if (p.visibility < 0.5f) continue;
    ++visible;
    INFO("landmark " << i << " at " << p.point.x << "," << p.point.y);
    CHECK(photo.contains(p.point));
  }
  CHECK(visible >= 15);  // head, shoulders, arms; the legs are out of the picture
  const cv::Point2f nose = (*l)[0].point;
  CHECK((*l)[0].visibility > 0.9f);
  CHECK(face[0].box.contains(nose));
  // Shoulders below the nose, on either side of it.
  CHECK((*l)[11].point.y > nose.y + 30);
  CHECK((*l)[12].point.y > nose.y + 30);
  CHECK(std::min((*l)[11].point.x, (*l)[12].point.x) < nose.x);
  CHECK(std::max((*l)[11].point.x, (*l)[12].point.x) > nose.x);
  // Most landmarks on the person: inside the selfie-style mask the pose model also gives.
  const Mask m = mask_of(r, "segmentation");
  int on_person = 0;
  for (int i = 0; i < 33; ++i)
    if ((*l)[i].visibility >= 0.5f && photo.contains((*l)[i].point) &&
        m.binary.at<uint8_t>(cvRound((*l)[i].point.y) < 512 ? cvRound((*l)[i].point.y) : 511,
                             cvRound((*l)[i].point.x) < 512 ? cvRound((*l)[i].point.x) : 511))
      ++on_person;
  CHECK(on_person >= visible * 3 / 4);
}
