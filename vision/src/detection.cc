#include "polyhead/vision/detection.h"

#include <algorithm>
#include <cmath>

#include "metadata.h"

namespace polyhead::vision {

using detail::bad_metadata;
using detail::task_key;

Result<DetectionOptions> detection_options(const Model& model, const TaskInfo& task) {
  DetectionOptions o;
  const PostProcessInfo& pp = task.postprocess;
  const std::string format = model.metadata(task_key(task, "box_format"));
  if (format.empty())
    return Status(ErrorCode::kUnsupported, "task '" + task.name + "': no box format (metadata '" +
                                               task_key(task, "box_format") +
                                               "'), cannot decode its boxes");
  if (format != "mediapipe") return bad_metadata(task, "box_format", format, "'mediapipe'");
  if (pp.activation != OutputActivation::kNone && pp.activation != OutputActivation::kSigmoid)
    return Status(ErrorCode::kUnsupported, "task '" + task.name + "': score activation '" +
                                               to_string(pp.activation) +
                                               "' (none or sigmoid expected)");
  o.activation = pp.activation;
  o.score_threshold = pp.score_threshold;
  o.nms_iou = pp.nms_iou;
  o.max_detections = pp.max_detections;
  o.anchors = pp.anchors;
  if (o.anchors.empty() || o.anchors.size() % 4 != 0)
    return Status(ErrorCode::kInvalidModel, "task '" + task.name +
                                                "': box format 'mediapipe' needs anchors, found " +
                                                std::to_string(o.anchors.size()) + " values");
  const std::string scale = model.metadata(task_key(task, "box_scale"));
  if (!scale.empty()) {
    std::vector<float> v;
    if (!detail::parse_floats(scale, v) || v.size() != 4 ||
        std::any_of(v.begin(), v.end(), [](float s) { return !(s > 0.f); }))
      return bad_metadata(task, "box_scale", scale, "4 positive numbers (x, y, w, h)");
    std::copy(v.begin(), v.end(), o.box_scale);
  }
  PH_ASSIGN_OR_RETURN(const float k, detail::metadata_float(model, task, "keypoints", 0, 0, 1024));
  if (k != std::floor(k))
    return bad_metadata(task, "keypoints", model.metadata(task_key(task, "keypoints")),
                        "a whole number");
  o.keypoints = static_cast<int>(k);
  const std::string nms = model.metadata(task_key(task, "nms"));
  if (!nms.empty() && nms != "hard" && nms != "weighted")
    return bad_metadata(task, "nms", nms, "'hard' or 'weighted'");
  o.weighted_nms = nms == "weighted";
  PH_ASSIGN_OR_RETURN(o.score_clip, detail::metadata_float(model, task, "score_clip", 0, 0, 1e30f));
  return o;
}

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

std::vector<Detection> non_max_suppression(std::vector<Detection> d, float iou_threshold,
                                           int max_detections, bool weighted) {
  std::stable_sort(d.begin(), d.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  std::vector<bool> used(d.size(), false);
  for (size_t i = 0; i < d.size(); ++i) {
    if (used[i]) continue;
    if (max_detections > 0 && static_cast<int>(kept.size()) >= max_detections) break;
    used[i] = true;
    Detection best = d[i];
    double w = best.score, x0 = best.box.x * w, y0 = best.box.y * w,
           x1 = (best.box.x + best.box.width) * w, y1 = (best.box.y + best.box.height) * w;
    std::vector<cv::Point2d> kp(best.keypoints.size());
    for (size_t k = 0; k < kp.size(); ++k) kp[k] = cv::Point2d(best.keypoints[k]) * w;
    for (size_t j = i + 1; j < d.size(); ++j) {
      if (used[j] || d[j].label != best.label || iou(best.box, d[j].box) <= iou_threshold) continue;
      used[j] = true;
      if (!weighted) continue;
      const double s = d[j].score;
      w += s;
      x0 += d[j].box.x * s;
      y0 += d[j].box.y * s;
      x1 += (d[j].box.x + d[j].box.width) * s;
      y1 += (d[j].box.y + d[j].box.height) * s;
      for (size_t k = 0; k < kp.size() && k < d[j].keypoints.size(); ++k)
        kp[k] += cv::Point2d(d[j].keypoints[k]) * s;
    }
    if (weighted && w > 0) {
      best.box = cv::Rect2f(static_cast<float>(x0 / w), static_cast<float>(y0 / w),
                            static_cast<float>((x1 - x0) / w), static_cast<float>((y1 - y0) / w));
      for (size_t k = 0; k < kp.size(); ++k) best.keypoints[k] = cv::Point2f(kp[k] / w);
    }
    kept.push_back(std::move(best));
  }
  return kept;
}

Result<std::vector<Detection>> decode_detections(const TensorView& boxes, const TensorView& scores,
                                                 const DetectionOptions& o,
                                                 const ImageTransform& t) {
  if (boxes.type != ElementType::kF32 || scores.type != ElementType::kF32 || !boxes.f32() ||
      !scores.f32())
    return Status(ErrorCode::kUnsupported, "detection outputs must be f32");
  const size_t anchors = o.anchors.size() / 4;
  const size_t box_len = 4 + 2 * static_cast<size_t>(o.keypoints);
  const size_t nb = static_cast<size_t>(boxes.shape.elements());
  const size_t ns = static_cast<size_t>(scores.shape.elements());
  if (anchors == 0 || nb != anchors * box_len)
    return Status(ErrorCode::kInvalidArgument,
                  "boxes " + boxes.shape.to_string() + " do not hold " + std::to_string(anchors) +
                      " anchors x " + std::to_string(box_len) + " values (4 + 2 x " +
                      std::to_string(o.keypoints) + " keypoints)");
  if (ns == 0 || ns % anchors != 0)
    return Status(ErrorCode::kInvalidArgument, "scores " + scores.shape.to_string() +
                                                   " do not hold a whole number of classes for " +
                                                   std::to_string(anchors) + " anchors");
  const size_t classes = ns / anchors;
  const float mw = static_cast<float>(t.model_width), mh = static_cast<float>(t.model_height);
  std::vector<Detection> found;
  for (size_t a = 0; a < anchors; ++a) {
    // Best class of this anchor.
    const float* s = scores.f32() + a * classes;
    size_t best = 0;
    for (size_t c = 1; c < classes; ++c)
      if (s[c] > s[best]) best = c;
    float score = s[best];
    if (o.score_clip > 0) score = std::clamp(score, -o.score_clip, o.score_clip);
    if (o.activation == OutputActivation::kSigmoid) score = detail::sigmoid(score);
    if (!(score >= o.score_threshold)) continue;

    const float* r = boxes.f32() + a * box_len;
    const float acy = o.anchors[a * 4], acx = o.anchors[a * 4 + 1];
    const float ah = o.anchors[a * 4 + 2], aw = o.anchors[a * 4 + 3];
    // Normalised model coordinates, then model pixels, then the photo.
    const float cx = r[0] / o.box_scale[0] * aw + acx, cy = r[1] / o.box_scale[1] * ah + acy;
    const float w = r[2] / o.box_scale[2] * aw, h = r[3] / o.box_scale[3] * ah;
    const cv::Point2f p0 = to_cv(t.to_image((cx - w / 2) * mw, (cy - h / 2) * mh));
    const cv::Point2f p1 = to_cv(t.to_image((cx + w / 2) * mw, (cy + h / 2) * mh));
    Detection d;
    d.box = cv::Rect2f(p0.x, p0.y, p1.x - p0.x, p1.y - p0.y);
    d.score = score;
    d.label = static_cast<int>(best);
    for (int k = 0; k < o.keypoints; ++k) {
      const float kx = r[4 + 2 * k] / o.box_scale[0] * aw + acx;
      const float ky = r[5 + 2 * k] / o.box_scale[1] * ah + acy;
      d.keypoints.push_back(to_cv(t.to_image(kx * mw, ky * mh)));
    }
    if (!(d.box.width > 0 && d.box.height > 0) || !std::isfinite(d.box.x) ||
        !std::isfinite(d.box.y))
      continue;
    found.push_back(std::move(d));
  }
  return non_max_suppression(std::move(found), o.nms_iou, o.max_detections, o.weighted_nms);
}

}  // namespace polyhead::vision
