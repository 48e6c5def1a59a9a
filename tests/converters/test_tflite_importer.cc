// The TFLite importer on the three public MediaPipe models fetched by scripts/fetch_data.sh:
// conversion with and without presets, operator coverage, running the result, and hostile files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "converters/tflite/tflite_model.h"
#include "converters/tflite/tflite_ops.h"
#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "support/test_files.h"

namespace {

using polyhead::tflite::convert;
using polyhead::tflite::ConvertOptions;
using polyhead::tflite::ConvertReport;

const char* const kFace = "face_detection_short_range.tflite";
const char* const kSelfie = "selfie_segmentation.tflite";
const char* const kPose = "pose_landmark_lite.tflite";

using polyhead::testing::data_dir;

// The model's bytes; fails the test (not skips) when the data was not fetched.
std::vector<uint8_t> load(const char* name) {
  const std::string path = data_dir() + "/" + name;
  std::ifstream f(path, std::ios::binary);
  if (!f) FAIL("missing " << path << ": run scripts/fetch_data.sh (or set POLYHEAD_DATA_DIR)");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

polyhead::Model load_phm(const std::vector<uint8_t>& phm) {
  auto model = polyhead::Model::from_bytes(phm);
  REQUIRE(model.is_ok());
  return *model;
}

// Runs every task on a seeded input in [lo, hi] and checks every output is finite and, when it
// has more than one element, not constant.
void run_and_check(const polyhead::Model& model, float lo, float hi) {
  auto engine = polyhead::Engine::create(model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (const auto& input : model.inputs()) {
    std::vector<float> x(static_cast<size_t>(input.shape.elements()));
    for (float& v : x) v = dist(rng);
    REQUIRE(plan->set_input(input.name, x.data(), x.size()).is_ok());
  }
  const polyhead::Status run = plan->run();
  INFO(run.to_string());
  REQUIRE(run.is_ok());
  for (const auto& task : model.tasks()) {
    for (const auto& out : task.outputs) {
      auto view = plan->output(task.name, out.name);
      REQUIRE(view.is_ok());
      const float* p = view->f32();
      REQUIRE(p != nullptr);
      const size_t n = static_cast<size_t>(view->shape.elements());
      INFO(task.name << "/" << out.name);
      float mn = p[0], mx = p[0];
      for (size_t i = 0; i < n; ++i) {
        REQUIRE(std::isfinite(p[i]));
        mn = std::min(mn, p[i]);
        mx = std::max(mx, p[i]);
      }
      if (n > 1) CHECK(mx > mn);
    }
  }
}

const polyhead::TaskInfo* find_task(const polyhead::Model& m, const std::string& name) {
  for (const auto& t : m.tasks())
    if (t.name == name) return &t;
  return nullptr;
}

void check_output(const polyhead::TaskInfo* task, const std::string& name,
                  const polyhead::Shape& shape) {
  REQUIRE(task != nullptr);
  INFO(task->name << "/" << name);
  auto it = std::find_if(task->outputs.begin(), task->outputs.end(),
                         [&](const auto& o) { return o.name == name; });
  REQUIRE(it != task->outputs.end());
  CHECK(it->shape == shape);
}

}  // namespace

TEST_CASE("tflite: the three MediaPipe models convert without options", "[tflite]") {
  for (const char* name : {kFace, kSelfie, kPose}) {
    INFO(name);
    const auto bytes = load(name);
    ConvertReport report;
    auto phm = convert(bytes, ConvertOptions{}, &report);
    INFO((phm.is_ok() ? "" : phm.status().to_string()));
    REQUIRE(phm.is_ok());
    const polyhead::Model model = load_phm(*phm);
    REQUIRE(model.inputs().size() == 1);
    CHECK(model.inputs()[0].preprocess.width == model.inputs()[0].shape[2]);
    CHECK(model.inputs()[0].preprocess.fit == polyhead::ImageFit::kStretch);
    CHECK(model.metadata("source_format") == "tflite");
    // One task per model output, named after it.
    for (const auto& t : model.tasks()) {
      REQUIRE(t.outputs.size() == 1);
      CHECK(t.outputs[0].name == t.name);
      CHECK(t.name.find(',') == std::string::npos);
    }
  }
  auto face = convert(load(kFace), ConvertOptions{});
  REQUIRE(face.is_ok());
  const polyhead::Model m = load_phm(*face);
  check_output(find_task(m, "regressors"), "regressors", {1, 896, 16});
  check_output(find_task(m, "classificators"), "classificators", {1, 896, 1});
}

TEST_CASE("tflite: --task groups outputs and pre-processing options are recorded", "[tflite]") {
  ConvertOptions o;
  o.tasks = {{"faces", {"regressors", "classificators"}}};
  o.mean = {127.5f, 127.5f, 127.5f};
  o.std = {127.5f};
  o.color = polyhead::ColorOrder::kBgr;
  auto phm = convert(load(kFace), o);
  REQUIRE(phm.is_ok());
  const polyhead::Model m = load_phm(*phm);
  REQUIRE(m.tasks().size() == 1);
  check_output(find_task(m, "faces"), "regressors", {1, 896, 16});
  check_output(find_task(m, "faces"), "classificators", {1, 896, 1});
  const auto& pre = m.inputs()[0].preprocess;
  CHECK(pre.color == polyhead::ColorOrder::kBgr);
  CHECK(pre.mean == std::vector<float>{127.5f, 127.5f, 127.5f});
  CHECK(pre.std == std::vector<float>{127.5f});

  o.tasks = {{"faces", {"nope"}}};
  auto bad = convert(load(kFace), o);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("no output 'nope'") != std::string::npos);
}

TEST_CASE("tflite: face detection preset", "[tflite]") {
  ConvertOptions o;
  o.preset = "mediapipe-face-detection-short";
  ConvertReport report;
  auto phm = convert(load(kFace), o, &report);
  INFO((phm.is_ok() ? "" : phm.status().to_string()));
  REQUIRE(phm.is_ok());
  const polyhead::Model m = load_phm(*phm);
  const auto& pre = m.inputs()[0].preprocess;
  CHECK(pre.width == 128);
  CHECK(pre.height == 128);
  CHECK(pre.color == polyhead::ColorOrder::kRgb);
  CHECK(pre.fit == polyhead::ImageFit::kLetterbox);
  CHECK(pre.mean == std::vector<float>{127.5f, 127.5f, 127.5f});
  CHECK(pre.std == std::vector<float>{127.5f, 127.5f, 127.5f});
  CHECK(pre.pixel_scale == 255.f);
  REQUIRE(m.tasks().size() == 1);
  const auto* faces = find_task(m, "faces");
  REQUIRE(faces);
  CHECK(faces->kind == polyhead::TaskKind::kDetection);
  check_output(faces, "boxes", {1, 896, 16});
  check_output(faces, "scores", {1, 896, 1});
  const auto& post = faces->postprocess;
  CHECK(post.activation == polyhead::OutputActivation::kSigmoid);
  CHECK(post.score_threshold == Approx(0.5f));
  CHECK(post.nms_iou == Approx(0.3f));
  CHECK(post.max_detections == 100);
  REQUIRE(post.anchors.size() == 896 * 4);
  auto anchor = [&](size_t i) {
    return std::vector<float>(post.anchors.begin() + static_cast<long>(4 * i),
                              post.anchors.begin() + static_cast<long>(4 * i + 4));
  };
  // Stride 8: 16x16 cells x 2 anchors; stride 16: 8x8 cells x 6 anchors; fixed size 1x1.
  CHECK(anchor(0) == std::vector<float>{0.03125f, 0.03125f, 1.f, 1.f});
  CHECK(anchor(1) == std::vector<float>{0.03125f, 0.03125f, 1.f, 1.f});
  CHECK(anchor(2) == std::vector<float>{0.03125f, 0.09375f, 1.f, 1.f});
  CHECK(anchor(511) == std::vector<float>{0.96875f, 0.96875f, 1.f, 1.f});
  CHECK(anchor(512) == std::vector<float>{0.0625f, 0.0625f, 1.f, 1.f});
  CHECK(anchor(517) == std::vector<float>{0.0625f, 0.0625f, 1.f, 1.f});
  CHECK(anchor(518) == std::vector<float>{0.0625f, 0.1875f, 1.f, 1.f});
  CHECK(anchor(895) == std::vector<float>{0.9375f, 0.9375f, 1.f, 1.f});
  CHECK(m.metadata("faces.box_format") == "mediapipe");
  CHECK(m.metadata("faces.box_scale") == "128,128,128,128");
  CHECK(m.metadata("faces.keypoints") == "6");
  CHECK(m.metadata("faces.nms") == "weighted");
  CHECK(m.metadata("faces.score_clip") == "100");
  run_and_check(m, -1.f, 1.f);
}

TEST_CASE("tflite: selfie segmentation preset", "[tflite]") {
  ConvertOptions o;
  o.preset = "mediapipe-selfie-segmentation";
  ConvertReport report;
  auto phm = convert(load(kSelfie), o, &report);
  INFO((phm.is_ok() ? "" : phm.status().to_string()));
  REQUIRE(phm.is_ok());
  const polyhead::Model m = load_phm(*phm);
  const auto& pre = m.inputs()[0].preprocess;
  CHECK(pre.width == 256);
  CHECK(pre.fit == polyhead::ImageFit::kStretch);
  CHECK(pre.pixel_scale == 1.f);
  const auto* mask = find_task(m, "mask");
  REQUIRE(mask);
  CHECK(mask->kind == polyhead::TaskKind::kSegmentation);
  check_output(mask, "mask", {1, 256, 256, 1});
  // The model ends in a LOGISTIC operator: its output is already a probability.
  CHECK(mask->postprocess.activation == polyhead::OutputActivation::kNone);
  CHECK(m.metadata("mask.threshold") == "0.5");
  CHECK(report.source_ops.count("CUSTOM(Convolution2DTransposeBias)") == 1);
  run_and_check(m, 0.f, 1.f);
}

TEST_CASE("tflite: pose landmark preset, and a head runs alone", "[tflite]") {
  ConvertOptions o;
  o.preset = "mediapipe-pose-landmark-lite";
  auto phm = convert(load(kPose), o);
  INFO((phm.is_ok() ? "" : phm.status().to_string()));
  REQUIRE(phm.is_ok());
  const polyhead::Model m = load_phm(*phm);
  CHECK(m.inputs()[0].preprocess.fit == polyhead::ImageFit::kLetterbox);
  REQUIRE(m.tasks().size() == 5);
  check_output(find_task(m, "landmarks"), "landmarks", {1, 195});
  check_output(find_task(m, "presence"), "score", {1, 1});
  check_output(find_task(m, "segmentation"), "mask", {1, 256, 256, 1});
  check_output(find_task(m, "heatmap"), "heatmap", {1, 64, 64, 39});
  check_output(find_task(m, "world_landmarks"), "world_landmarks", {1, 117});
  CHECK(find_task(m, "landmarks")->kind == polyhead::TaskKind::kLandmarks);
  CHECK(find_task(m, "presence")->kind == polyhead::TaskKind::kClassification);
  // The pose flag ends in Sigmoid + Reshape (already a probability); the mask ends in an ADD
  // (logits), so only the mask gets a sigmoid in post-processing.
  CHECK(find_task(m, "presence")->postprocess.activation == polyhead::OutputActivation::kNone);
  CHECK(find_task(m, "segmentation")->kind == polyhead::TaskKind::kSegmentation);
  CHECK(find_task(m, "segmentation")->postprocess.activation ==
        polyhead::OutputActivation::kSigmoid);
  CHECK(find_task(m, "heatmap")->kind == polyhead::TaskKind::kOther);
  CHECK(find_task(m, "world_landmarks")->kind == polyhead::TaskKind::kRegression);
  CHECK(m.metadata("landmarks.format") == "xyzvp");
  CHECK(m.metadata("landmarks.count") == "39");
  CHECK(m.metadata("landmarks.scale") == "256,256");
  run_and_check(m, 0.f, 1.f);

  auto engine = polyhead::Engine::create(m);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  std::vector<float> x(256 * 256 * 3, 0.5f);
  REQUIRE(plan->set_input(m.inputs()[0].name, x.data(), x.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  const size_t all = plan->last_run_nodes();
  REQUIRE(plan->run({"landmarks"}).is_ok());
  const size_t landmarks = plan->last_run_nodes();
  CHECK(landmarks > 0);
  CHECK(landmarks < all);
}

TEST_CASE("tflite: operator coverage of the three models", "[tflite]") {
  std::map<std::string, int> source, nodes;
  for (const char* name : {kFace, kSelfie, kPose}) {
    ConvertReport report;
    auto phm = convert(load(name), ConvertOptions{}, &report);
    REQUIRE(phm.is_ok());
    for (const auto& kv : report.source_ops) source[kv.first] += kv.second;
    for (const auto& kv : report.nodes) nodes[kv.first] += kv.second;
  }
  std::string listing;
  for (const auto& kv : source) listing += kv.first + " x" + std::to_string(kv.second) + ", ";
  INFO("TFLite operators converted: " << listing);
  for (const char* op : {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MUL", "PAD", "MAX_POOL_2D",
                         "RESHAPE", "CONCATENATION", "RESIZE_BILINEAR", "LOGISTIC",
                         "CUSTOM(Convolution2DTransposeBias)", "DEQUANTIZE"}) {
    INFO(op);
    CHECK(source[op] > 0);
  }
  for (const char* kind : {"CONV_2D", "TRANSPOSE_CONV_2D", "ADD", "MUL", "PAD", "MAX_POOL_2D",
                           "RESHAPE", "CONCATENATION", "RESIZE", "SIGMOID"}) {
    INFO(kind);
    CHECK(nodes[kind] > 0);
  }
}

TEST_CASE("tflite: truncated files are errors, never crashes", "[tflite][fuzz]") {
  const auto bytes = load(kSelfie);
  for (size_t k = 0; k < 64; ++k) {
    const std::vector<uint8_t> prefix(bytes.begin(),
                                      bytes.begin() + static_cast<long>(bytes.size() * k / 64));
    auto r = convert(prefix, ConvertOptions{});
    INFO("prefix " << k << "/64");
    CHECK_FALSE(r.is_ok());
  }
}

TEST_CASE("tflite: flipped bytes give an error or a valid model", "[tflite][fuzz]") {
  const auto bytes = load(kFace);
  // Half of the flips land outside the weight buffers, where the structure lives.
  auto model = polyhead::tflite::read_tflite(bytes.data(), bytes.size());
  REQUIRE(model.is_ok());
  std::vector<bool> weight(bytes.size(), false);
  for (const auto& b : model->buffers)
    if (b.data) std::fill_n(weight.begin() + (b.data - bytes.data()), b.size, true);
  std::vector<size_t> structure;
  for (size_t i = 0; i < bytes.size(); ++i)
    if (!weight[i]) structure.push_back(i);
  REQUIRE(!structure.empty());

  std::mt19937 rng(1234);
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<uint8_t> mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t pos = iter % 2 ? structure[rng() % structure.size()] : rng() % bytes.size();
      mutated[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    auto r = convert(mutated, ConvertOptions{});
    if (r.is_ok()) {
      ++ok;
      CHECK(polyhead::Model::from_bytes(*r).is_ok());
    } else {
      ++failed;
      CHECK_FALSE(r.status().message().empty());
    }
  }
  INFO("converted " << ok << ", rejected " << failed);
  CHECK(ok + failed == 300);
  CHECK(failed > 0);
}

TEST_CASE("tflite: files that are not TFLite models", "[tflite]") {
  auto phm = convert(load(kFace), ConvertOptions{});
  REQUIRE(phm.is_ok());
  auto r = convert(*phm, ConvertOptions{});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == polyhead::ErrorCode::kInvalidModel);
  CHECK(r.status().message().find("'PHM1', expected 'TFL3'") != std::string::npos);

  const std::string text = "hello, this is a text file and not a model\n";
  r = convert(std::vector<uint8_t>(text.begin(), text.end()), ConvertOptions{});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("expected 'TFL3'") != std::string::npos);

  r = convert(std::vector<uint8_t>{}, ConvertOptions{});
  REQUIRE_FALSE(r.is_ok());

  auto missing = polyhead::tflite::convert_file(data_dir() + "/no_such.tflite", ConvertOptions{});
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == polyhead::ErrorCode::kIoError);

  ConvertOptions o;
  o.preset = "no-such-preset";
  r = convert(load(kFace), o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == polyhead::ErrorCode::kInvalidArgument);
  o.preset = "mediapipe-pose-landmark-lite";  // the wrong model for the preset
  r = convert(load(kFace), o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("does not fit preset") != std::string::npos);
}

TEST_CASE("tflite: unsupported operators are listed with counts in one message", "[tflite]") {
  auto bytes = load(kFace);
  auto model = polyhead::tflite::read_tflite(bytes.data(), bytes.size());
  REQUIRE(model.is_ok());
  // Turn the CONV_2D operator code into GATHER (36) and DEPTHWISE_CONV_2D into TOPK_V2 (48).
  struct Patch {
    int from, to;
    int count = 0;
  } patches[] = {{polyhead::tflite::kConv2D, 36}, {polyhead::tflite::kDepthwiseConv2D, 48}};
  std::vector<uint8_t> patched = bytes;
  for (Patch& p : patches) {
    bool found = false;
    for (size_t c = 0; c < model->operator_codes.size(); ++c) {
      const auto& code = model->operator_codes[c];
      if (code.builtin != p.from) continue;
      found = true;
      if (code.builtin_code_position) {
        const int32_t v = p.to;
        std::memcpy(&patched[code.builtin_code_position], &v, 4);
      }
      if (code.deprecated_code_position) patched[code.deprecated_code_position] = uint8_t(p.to);
      REQUIRE((code.builtin_code_position || code.deprecated_code_position));
      for (const auto& op : model->operators) p.count += op.opcode_index == c;
    }
    REQUIRE(found);
  }
  auto r = convert(patched, ConvertOptions{});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == polyhead::ErrorCode::kUnsupported);
  INFO(r.status().message());
  CHECK(r.status().message().rfind("unsupported operators: ", 0) == 0);
  CHECK(r.status().message().find("GATHER x" + std::to_string(patches[0].count)) !=
        std::string::npos);
  CHECK(r.status().message().find("TOPK_V2 x" + std::to_string(patches[1].count)) !=
        std::string::npos);
}

TEST_CASE("tflite: uint8 models are rejected, naming the tensor", "[tflite]") {
  auto bytes = load(kFace);
  auto model = polyhead::tflite::read_tflite(bytes.data(), bytes.size());
  REQUIRE(model.is_ok());
  // Mark one tensor whose type is stored explicitly (non-float32) as UINT8. (int8 models are
  // covered by test_tflite_int8_import.cc.)
  size_t pos = 0;
  std::string name;
  for (const auto& t : model->tensors)
    if (t.type_position) pos = t.type_position, name = t.name;
  REQUIRE(pos != 0);
  bytes[pos] = polyhead::tflite::kTfUInt8;
  auto r = convert(bytes, ConvertOptions{});
  REQUIRE_FALSE(r.is_ok());
  INFO(r.status().message());
  CHECK(r.status().message().find("tensor '" + name + "' is UINT8") != std::string::npos);
  CHECK(r.status().message().find("uint8 (asymmetric) models are not supported") !=
        std::string::npos);
}
