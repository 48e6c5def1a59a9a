#include "converters/tflite/presets.h"

#include "converters/tflite/ssd_anchors.h"
#include "converters/tflite/tflite_ops.h"

namespace polyhead::tflite {
namespace {

constexpr const char* kFaceDetection = "mediapipe-face-detection-short";
constexpr const char* kFaceDetectionFull = "mediapipe-face-detection-full";
constexpr const char* kSelfieSegmentation = "mediapipe-selfie-segmentation";
constexpr const char* kPoseLandmark = "mediapipe-pose-landmark-lite";

Status mismatch(const std::string& preset, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument,
                "the model does not fit preset '" + preset + "': " + what);
}

std::string shape_text(const std::vector<int32_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Status check_input(const std::string& preset, const TfModel& m, int h, int w) {
  if (m.inputs.size() != 1)
    return mismatch(preset, "expected one input, found " + std::to_string(m.inputs.size()));
  const std::vector<int32_t> want = {1, h, w, 3};
  const auto& got = m.tensors[static_cast<size_t>(m.inputs[0])].shape;
  if (got != want)
    return mismatch(preset, "input shape " + shape_text(got) + ", expected " + shape_text(want));
  return Status::ok();
}

// The model output with exactly `shape`; an error when there is none or more than one.
Result<int> output_with_shape(const std::string& preset, const TfModel& m,
                              const std::vector<int32_t>& shape) {
  int found = -1;
  for (int32_t t : m.outputs) {
    if (m.tensors[static_cast<size_t>(t)].shape != shape) continue;
    if (found >= 0) return mismatch(preset, "two outputs have shape " + shape_text(shape));
    found = t;
  }
  if (found < 0) return mismatch(preset, "no output has shape " + shape_text(shape));
  return found;
}

// True when the tensor is written by a LOGISTIC operator (possibly followed by reshapes), i.e. it
// is already a probability and post-processing must not apply a sigmoid again.
bool is_sigmoid_output(const TfModel& m, int t) {
  for (size_t hops = 0; hops <= m.operators.size(); ++hops) {
    const TfOperator* producer = nullptr;
    for (const TfOperator& op : m.operators)
      for (int32_t o : op.outputs)
        if (o == t) producer = &op;
    if (!producer) return false;
    const int code = m.operator_codes[producer->opcode_index].builtin;
    if (code == kLogistic) return true;
    if (code != kReshape || producer->inputs.empty()) return false;
    t = producer->inputs[0];
  }
  return false;
}

Preprocess image_input(int h, int w, std::vector<float> mean, std::vector<float> std,
                       float pixel_scale, ImageFit fit) {
  Preprocess p;
  p.width = w;
  p.height = h;
  p.color = ColorOrder::kRgb;
  p.mean = std::move(mean);
  p.std = std::move(std);
  p.pixel_scale = pixel_scale;
  p.fit = fit;
  return p;
}

// What the short- and full-range face detectors' graphs differ in.
struct FaceDetectorSpec {
  const char* preset;
  const char* description;
  int size;     // square input
  int anchors;  // boxes
  float score_threshold;
  std::vector<int> strides;
  float interpolated_scale_aspect_ratio;
};

// mediapipe/modules/face_detection/face_detection_short_range.pbtxt and
// face_detection_full_range.pbtxt (+ face_detection.pbtxt, the options they share).
Result<Preset> face_detection(const TfModel& m, const FaceDetectorSpec& spec) {
  PH_RETURN_IF_ERROR(check_input(spec.preset, m, spec.size, spec.size));
  PH_ASSIGN_OR_RETURN(int boxes, output_with_shape(spec.preset, m, {1, spec.anchors, 16}));
  PH_ASSIGN_OR_RETURN(int scores, output_with_shape(spec.preset, m, {1, spec.anchors, 1}));
  Preset p;
  p.description = spec.description;
  p.preprocess = image_input(spec.size, spec.size, {127.5f, 127.5f, 127.5f},
                             {127.5f, 127.5f, 127.5f}, 255.f, ImageFit::kLetterbox);
  PresetTask t;
  t.name = "faces";
  t.kind = TaskKind::kDetection;
  t.outputs = {{"boxes", boxes}, {"scores", scores}};
  t.post.activation =
      is_sigmoid_output(m, scores) ? OutputActivation::kNone : OutputActivation::kSigmoid;
  t.post.score_threshold = spec.score_threshold;
  t.post.nms_iou = 0.3f;
  t.post.max_detections = 100;
  SsdAnchorOptions a;
  a.input_height = a.input_width = spec.size;
  a.num_layers = static_cast<int>(spec.strides.size());
  a.min_scale = 0.1484375f;
  a.max_scale = 0.75f;
  a.anchor_offset_x = a.anchor_offset_y = 0.5f;
  a.strides = spec.strides;
  a.aspect_ratios = {1.f};
  a.fixed_anchor_size = true;
  a.interpolated_scale_aspect_ratio = spec.interpolated_scale_aspect_ratio;
  a.reduce_boxes_in_lowest_layer = false;
  t.post.anchors = generate_ssd_anchors(a);
  p.tasks.push_back(std::move(t));
  const std::string size = std::to_string(spec.size);
  p.metadata = {{"faces.box_format", "mediapipe"},
                {"faces.box_scale", size + "," + size + "," + size + "," + size},
                {"faces.keypoints", "6"},
                {"faces.nms", "weighted"},
                {"faces.score_clip", "100"}};
  return p;
}

const FaceDetectorSpec kShortRange = {kFaceDetection,
                                      "MediaPipe face detection (short range), BlazeFace",
                                      128,
                                      896,
                                      0.5f,
                                      {8, 16, 16, 16},
                                      1.f};
// face_detection_full_range.tflite and its pruned twin face_detection_full_range_sparse.tflite.
const FaceDetectorSpec kFullRange = {kFaceDetectionFull,
                                     "MediaPipe face detection (full range), BlazeFace",
                                     192,
                                     2304,
                                     0.6f,
                                     {4},
                                     0.f};

// mediapipe/modules/selfie_segmentation/selfie_segmentation_cpu.pbtxt.
Result<Preset> selfie_segmentation(const TfModel& m) {
  PH_RETURN_IF_ERROR(check_input(kSelfieSegmentation, m, 256, 256));
  if (m.outputs.size() != 1)
    return mismatch(kSelfieSegmentation,
                    "expected one output, found " + std::to_string(m.outputs.size()));
  Preset p;
  p.description = "MediaPipe selfie segmentation (general)";
  p.preprocess = image_input(256, 256, {0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}, 1.f, ImageFit::kStretch);
  PresetTask t;
  t.name = "mask";
  t.kind = TaskKind::kSegmentation;
  t.outputs = {{"mask", m.outputs[0]}};
  t.post.activation =
      is_sigmoid_output(m, m.outputs[0]) ? OutputActivation::kNone : OutputActivation::kSigmoid;
  p.tasks.push_back(std::move(t));
  p.metadata = {{"mask.threshold", "0.5"}};
  return p;
}

// mediapipe/modules/pose_landmark/pose_landmark_by_roi_cpu.pbtxt and
// tensors_to_pose_landmarks_and_segmentation.pbtxt.
Result<Preset> pose_landmark(const TfModel& m) {
  PH_RETURN_IF_ERROR(check_input(kPoseLandmark, m, 256, 256));
  PH_ASSIGN_OR_RETURN(int landmarks, output_with_shape(kPoseLandmark, m, {1, 195}));
  PH_ASSIGN_OR_RETURN(int presence, output_with_shape(kPoseLandmark, m, {1, 1}));
  PH_ASSIGN_OR_RETURN(int mask, output_with_shape(kPoseLandmark, m, {1, 256, 256, 1}));
  PH_ASSIGN_OR_RETURN(int heatmap, output_with_shape(kPoseLandmark, m, {1, 64, 64, 39}));
  PH_ASSIGN_OR_RETURN(int world, output_with_shape(kPoseLandmark, m, {1, 117}));
  Preset p;
  p.description = "MediaPipe pose landmarks (lite), BlazePose GHUM 3D";
  p.preprocess = image_input(256, 256, {0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}, 1.f, ImageFit::kLetterbox);
  auto sigmoid_unless_done = [&](int t) {
    return is_sigmoid_output(m, t) ? OutputActivation::kNone : OutputActivation::kSigmoid;
  };
  // One task per output; sigmoid only where the graph does not already end in one.
  auto task = [&](const char* name, TaskKind kind, const char* output, int tensor, bool activate) {
    PresetTask t;
    t.name = name;
    t.kind = kind;
    t.outputs = {{output, tensor}};
    if (activate) t.post.activation = sigmoid_unless_done(tensor);
    p.tasks.push_back(std::move(t));
  };
  task("landmarks", TaskKind::kLandmarks, "landmarks", landmarks, false);
  task("presence", TaskKind::kClassification, "score", presence, true);
  task("segmentation", TaskKind::kSegmentation, "mask", mask, true);
  task("heatmap", TaskKind::kOther, "heatmap", heatmap, false);
  task("world_landmarks", TaskKind::kRegression, "world_landmarks", world, false);
  p.metadata = {
      {"landmarks.format", "xyzvp"}, {"landmarks.count", "39"}, {"landmarks.scale", "256,256"}};
  return p;
}

}  // namespace

std::vector<std::string> preset_names() {
  return {kFaceDetection, kFaceDetectionFull, kSelfieSegmentation, kPoseLandmark};
}

Result<Preset> make_preset(const std::string& name, const TfModel& model) {
  if (name == kFaceDetection) return face_detection(model, kShortRange);
  if (name == kFaceDetectionFull) return face_detection(model, kFullRange);
  if (name == kSelfieSegmentation) return selfie_segmentation(model);
  if (name == kPoseLandmark) return pose_landmark(model);
  std::string known;
  for (const std::string& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
  return Status(ErrorCode::kInvalidArgument,
                "unknown preset '" + name + "' (known: " + known + ")");
}

}  // namespace polyhead::tflite
