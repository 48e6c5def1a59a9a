// Detection post-processing: anchor decoding (MediaPipe box format), score activation and
// threshold, hard or weighted non-maximum suppression, boxes and keypoints in photo pixels.
//
// What a model carries for a task `T` of kind detection (see docs/vision.md):
//   outputs "boxes" [1, anchors, 4 + 2*keypoints] and "scores" [1, anchors, classes];
//   PostProcessInfo: activation, score_threshold, nms_iou, max_detections, anchors (cy,cx,h,w);
//   metadata "T.box_format"=mediapipe, "T.box_scale"="sx,sy,sw,sh", "T.keypoints"=K,
//   "T.nms"=hard|weighted, "T.score_clip"=C.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::vision {

struct Detection {
  cv::Rect2f box;  // photo pixels (x, y, width, height)
  float score = 0.f;
  int label = 0;                       // class index (0 for single-class heads)
  std::vector<cv::Point2f> keypoints;  // photo pixels
};

struct DetectionOptions {
  OutputActivation activation = OutputActivation::kNone;  // kNone or kSigmoid, on raw scores
  float score_clip = 0.f;  // > 0: clip raw scores to [-clip, clip] first
  float score_threshold = 0.5f;
  float nms_iou = 0.45f;
  bool weighted_nms = false;
  int max_detections = 100;
  int keypoints = 0;
  float box_scale[4] = {1.f, 1.f, 1.f, 1.f};  // x, y, w, h
  std::vector<float> anchors;                 // 4 per anchor: cy, cx, h, w (normalised)
};

// Reads the options of detection task `task` from its PostProcessInfo and metadata. Fails
// (naming the task and key) when the box format is absent or not "mediapipe", or a value is bad.
Result<DetectionOptions> detection_options(const Model& model, const TaskInfo& task);

// Decodes raw `boxes` [1, N, 4 + 2K] and `scores` [1, N, C] against the anchors, keeps scores at
// or above the threshold, runs NMS and maps to the photo with `transform` (model pixels).
Result<std::vector<Detection>> decode_detections(const TensorView& boxes, const TensorView& scores,
                                                 const DetectionOptions& options,
                                                 const ImageTransform& transform);

float iou(const cv::Rect2f& a, const cv::Rect2f& b);

// Highest score first. Hard: drops every box overlapping a kept one by more than `iou_threshold`.
// Weighted (MediaPipe): each kept detection is the score-weighted average (box and keypoints) of
// the cluster overlapping the best remaining one by more than `iou_threshold`; it keeps the best
// score. Returns at most `max_detections` (0 = no limit).
std::vector<Detection> non_max_suppression(std::vector<Detection> detections, float iou_threshold,
                                           int max_detections, bool weighted);

}  // namespace polyhead::vision
