// Built only with polyhead_compare (OpenCV); see tools/CMakeLists.txt.
#ifdef POLYHEAD_HAVE_COMPARE

#include "cli/compare_json.h"

#include <cstdint>

#include "cli/json.h"

namespace polyhead::cli {
namespace {

using namespace polyhead::compare;

uint64_t u(size_t v) {
  return static_cast<uint64_t>(v);
}
// A minimum over no images is no value.
double min_or_none(double v, size_t images) {
  return images ? v : kNoValue;
}

void model_json(JsonWriter& j, const ModelSummary& m) {
  j.begin_object()
      .field("path", m.path)
      .field("file_bytes", u(m.file_bytes))
      .field("arena_bytes", u(m.arena_bytes))
      .field("input", m.input)
      .field("input_width", m.input_width)
      .field("input_height", m.input_height)
      .field("latency_ms", m.latency_ms)
      .end_object();
}

void task_json(JsonWriter& j, const TaskComparison& t) {
  j.begin_object()
      .field("task", t.task)
      .field("kind", to_string(t.kind))
      .field("method", method_name(t.method));
  if (!t.note.empty()) j.field("note", t.note);
  switch (t.method) {
    case Method::kClassification: {
      const ClassificationSummary& c = t.classification;
      j.field("scores", c.scores).field("classes", u(c.classes)).field("samples", u(c.samples));
      j.field("top1_agreement", c.top1()).field("top5_agreement", c.top5());
      j.field("kl_mean", c.kl_mean()).field("kl_max", min_or_none(c.kl_max, c.samples));
      break;
    }
    case Method::kMask: {
      const MaskSummary& m = t.mask;
      j.field("images", u(m.images))
          .field("teacher_threshold", static_cast<double>(m.teacher_threshold))
          .field("student_threshold", static_cast<double>(m.student_threshold));
      j.field("iou_mean", m.iou_mean()).field("iou_min", min_or_none(m.iou_min, m.images));
      j.field("probability_error_mean", m.probability_error_mean());
      j.field("teacher_coverage_mean", mean_of(m.teacher_coverage_sum, m.images))
          .field("student_coverage_mean", mean_of(m.student_coverage_sum, m.images));
      break;
    }
    case Method::kClassMap: {
      const ClassMapSummary& c = t.class_map;
      j.field("images", u(c.images)).field("classes", u(c.classes));
      j.field("miou_mean", c.miou_mean()).field("miou_min", min_or_none(c.miou_min, c.images));
      j.field("pixel_agreement_mean", c.pixel_agreement_mean());
      break;
    }
    case Method::kDetection: {
      const DetectionSummary& d = t.detection;
      j.field("images", u(d.images)).field("match_iou", d.match_iou);
      j.field("teacher_boxes", u(d.teacher_boxes))
          .field("student_boxes", u(d.student_boxes))
          .field("matched", u(d.matched))
          .field("extra_boxes", u(d.extra()));
      j.field("recall", d.recall())
          .field("iou_mean", d.iou_mean())
          .field("score_error_mean", d.score_error_mean());
      break;
    }
    case Method::kLandmarks: {
      const LandmarkSummary& l = t.landmarks;
      j.field("images", u(l.images)).field("points", u(l.points));
      j.field("error_mean", l.error_mean()).field("error_max", min_or_none(l.error_max, l.images));
      j.field("visibility_error_mean", l.visibility_error_mean());
      break;
    }
    case Method::kRaw: {
      const RawSummary& r = t.raw;
      j.field("images", u(r.images)).field("elements", u(r.elements));
      j.field("abs_error_mean", r.abs_error_mean())
          .field("abs_error_max", min_or_none(r.abs_error_max, r.images));
      j.field("cosine_mean", r.cosine_mean());
      break;
    }
  }
  j.field("per_image", t.per_image);
  j.end_object();
}

}  // namespace

std::string compare_json(const CompareReport& r) {
  JsonWriter j;
  j.begin_object();
  j.key("teacher");
  model_json(j, r.teacher);
  j.key("student");
  model_json(j, r.student);
  j.key("ratios")
      .begin_object()
      .field("file_bytes", r.file_ratio())
      .field("arena_bytes", r.arena_ratio())
      .field("latency", r.latency_ratio())
      .end_object();
  j.key("latency")
      .begin_object()
      .field("rounds", r.latency_rounds)
      .field("runs", r.latency_runs)
      .field("threads", u(r.threads))
      .end_object();
  j.field("temperature", r.temperature);
  j.field("images", r.images).field("skipped", r.skipped);
  j.key("tasks").begin_array();
  for (const TaskComparison& t : r.tasks) task_json(j, t);
  j.end_array();
  j.end_object();
  return j.str();
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_COMPARE
