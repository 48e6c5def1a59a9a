#include "eval/comparer.h"

#include <algorithm>
#include <cmath>

#include "eval/box_matching.h"
#include "eval/class_map.h"
#include "eval/classification_metrics.h"
#include "eval/image_input.h"
#include "eval/landmark_metrics.h"
#include "eval/mask_metrics.h"
#include "eval/task_pairing.h"
#include "eval/tensor_metrics.h"
#include "polyhead/engine.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::compare {
namespace {

using vision::ImageTransform;

// One model of the pair, prepared for the compared tasks.
struct Side {
  const Model* model;
  const InputInfo* input;
  Engine engine;
  Plan plan;
  ImageTransform transform;  // of the current image
};

Result<Side> prepare_side(const Model& model, const std::string& role,
                          const std::vector<std::string>& tasks, const CompareOptions& o) {
  PH_ASSIGN_OR_RETURN(const InputInfo* input, image_input(model, role));
  EngineOptions eo;
  eo.threads = o.threads;
  eo.sparse_weights = o.sparse_weights;
  auto engine = Engine::create(model, eo);
  if (!engine.is_ok())
    return Status(engine.status().code(), role + ": " + engine.status().message());
  auto plan = engine->prepare(tasks);
  if (!plan.is_ok()) return Status(plan.status().code(), role + ": " + plan.status().message());
  return Side{&model, input, *engine, *plan, {}};
}

Status with_context(const Status& s, const std::string& context) {
  return s.is_ok() ? s : Status(s.code(), context + ": " + s.message());
}

Status feed(Side& side, const cv::Mat& image, const std::string& role, const std::string& path) {
  PH_ASSIGN_OR_RETURN(float* dst, side.plan.input_buffer(side.input->name));
  auto t = vision::preprocess(image, *side.input, dst);
  if (!t.is_ok()) return with_context(t.status(), role + ", image '" + path + "'");
  side.transform = *t;
  return with_context(side.plan.run(), role + ", image '" + path + "'");
}

Result<TensorView> output_of(const Side& side, const TaskInfo& task, const std::string& output) {
  return side.plan.output(task.name, output);
}

Status compare_classification(const TaskPair& p, const Side& t, const Side& s, double temperature,
                              TaskComparison& out) {
  const std::string& name = p.teacher->outputs[0].name;
  PH_ASSIGN_OR_RETURN(const TensorView tv, output_of(t, *p.teacher, name));
  PH_ASSIGN_OR_RETURN(const TensorView sv, output_of(s, *p.student, name));
  ClassificationSummary& c = out.classification;
  const size_t count = static_cast<size_t>(tv.shape.elements());
  const size_t classes = tv.shape.rank() ? static_cast<size_t>(tv.shape[tv.shape.rank() - 1]) : 1;
  if (classes == 0 || count == 0) return Status::ok();
  ScoreKind kind;
  if (c.scores.empty()) {  // decided on the first image, then kept for the whole run
    kind = score_kind(p.teacher->postprocess.activation, classes,
                      rows_are_distributions(tv.f32(), count, classes),
                      rows_are_distributions(sv.f32(), count, classes));
    c.scores = score_kind_name(kind);
    c.classes = classes;
  } else {
    kind = c.scores == "probabilities" ? ScoreKind::kProbabilities
           : c.scores == "sigmoid"     ? ScoreKind::kSigmoid
                                       : ScoreKind::kLogits;
  }
  double image_kl = 0;
  const size_t rows = count / classes;  // whole rows: count is a multiple of classes
  for (size_t r = 0; r < count; r += classes) {
    const RowAgreement a = compare_row(tv.f32() + r, sv.f32() + r, classes, kind, temperature);
    ++c.samples;
    c.top1_agree += a.top1 ? 1 : 0;
    c.top5_agree += a.top5 ? 1 : 0;
    c.kl_sum += a.kl;
    c.kl_max = std::isnan(a.kl) ? a.kl : std::max(c.kl_max, a.kl);
    image_kl += a.kl;
  }
  out.per_image.push_back(image_kl / static_cast<double>(rows));
  return Status::ok();
}

Status compare_mask(const TaskPair& p, const Side& t, const Side& s, TaskComparison& out) {
  PH_ASSIGN_OR_RETURN(const TensorView tv, output_of(t, *p.teacher, p.output));
  PH_ASSIGN_OR_RETURN(const TensorView sv, output_of(s, *p.student, p.output));
  auto tm = vision::mask_to_image(tv, p.teacher_mask, t.transform);
  if (!tm.is_ok()) return with_context(tm.status(), "teacher, task '" + p.teacher->name + "'");
  auto sm = vision::mask_to_image(sv, p.student_mask, s.transform);
  if (!sm.is_ok()) return with_context(sm.status(), "student, task '" + p.teacher->name + "'");
  PH_ASSIGN_OR_RETURN(const double iou, mask_iou(tm->binary, sm->binary));
  PH_ASSIGN_OR_RETURN(const double error, mean_abs_difference(tm->probability, sm->probability));
  MaskSummary& m = out.mask;
  m.teacher_threshold = p.teacher_mask.threshold;
  m.student_threshold = p.student_mask.threshold;
  ++m.images;
  m.iou_sum += iou;
  m.iou_min = std::min(m.iou_min, iou);
  m.probability_error_sum += error;
  m.teacher_coverage_sum += tm->coverage;
  m.student_coverage_sum += sm->coverage;
  out.per_image.push_back(iou);
  return Status::ok();
}

Status compare_class_map(const TaskPair& p, const Side& t, const Side& s, TaskComparison& out) {
  PH_ASSIGN_OR_RETURN(const TensorView tv, output_of(t, *p.teacher, p.output));
  PH_ASSIGN_OR_RETURN(const TensorView sv, output_of(s, *p.student, p.output));
  PH_ASSIGN_OR_RETURN(const cv::Mat tm, class_map_to_image(tv, t.transform));
  PH_ASSIGN_OR_RETURN(const cv::Mat sm, class_map_to_image(sv, s.transform));
  const int classes = static_cast<int>(tv.shape[3]);
  PH_ASSIGN_OR_RETURN(const ClassMapAgreement a, class_map_agreement(tm, sm, classes));
  ClassMapSummary& c = out.class_map;
  c.classes = static_cast<size_t>(classes);
  ++c.images;
  c.miou_sum += a.mean_iou;
  c.miou_min = std::min(c.miou_min, a.mean_iou);
  c.pixel_agreement_sum += a.pixel_agreement;
  out.per_image.push_back(a.mean_iou);
  return Status::ok();
}

Status compare_detection(const TaskPair& p, const Side& t, const Side& s, double match_iou,
                         TaskComparison& out) {
  auto decode = [](const Side& side, const TaskInfo& task, const vision::DetectionOptions& o,
                   const char* role) -> Result<std::vector<vision::Detection>> {
    PH_ASSIGN_OR_RETURN(const TensorView boxes, output_of(side, task, "boxes"));
    PH_ASSIGN_OR_RETURN(const TensorView scores, output_of(side, task, "scores"));
    auto d = vision::decode_detections(boxes, scores, o, side.transform);
    if (!d.is_ok())
      return with_context(d.status(), std::string(role) + ", task '" + task.name + "'");
    return d;
  };
  PH_ASSIGN_OR_RETURN(const auto td, decode(t, *p.teacher, p.teacher_detection, "teacher"));
  PH_ASSIGN_OR_RETURN(const auto sd, decode(s, *p.student, p.student_detection, "student"));
  const std::vector<BoxMatch> matches = match_boxes(td, sd, match_iou);
  DetectionSummary& d = out.detection;
  d.match_iou = match_iou;
  ++d.images;
  d.teacher_boxes += td.size();
  d.student_boxes += sd.size();
  d.matched += matches.size();
  for (const BoxMatch& m : matches) {
    d.iou_sum += m.iou;
    d.score_error_sum += std::abs(static_cast<double>(td[m.teacher].score) - sd[m.student].score);
  }
  // Matched over the larger count: misses and extra boxes both lower it; 1 when neither finds any.
  const size_t most = std::max(td.size(), sd.size());
  out.per_image.push_back(most ? static_cast<double>(matches.size()) / static_cast<double>(most)
                               : 1.0);
  return Status::ok();
}

Status compare_landmarks(const TaskPair& p, const Side& t, const Side& s, TaskComparison& out) {
  PH_ASSIGN_OR_RETURN(const TensorView tv, output_of(t, *p.teacher, p.output));
  PH_ASSIGN_OR_RETURN(const TensorView sv, output_of(s, *p.student, p.output));
  auto tl = vision::decode_landmarks(tv, p.teacher_landmarks, t.transform);
  if (!tl.is_ok()) return with_context(tl.status(), "teacher, task '" + p.teacher->name + "'");
  auto sl = vision::decode_landmarks(sv, p.student_landmarks, s.transform);
  if (!sl.is_ok()) return with_context(sl.status(), "student, task '" + p.teacher->name + "'");
  auto e = landmark_errors(*tl, *sl, t.transform);
  if (!e.is_ok()) return with_context(e.status(), "task '" + p.teacher->name + "'");
  LandmarkSummary& l = out.landmarks;
  ++l.images;
  l.points += e->points;
  l.error_sum += e->error_sum;
  l.error_max = std::max(l.error_max, e->error_max);
  l.visibility_error_sum += e->visibility_error_sum;
  out.per_image.push_back(mean_of(e->error_sum, e->points));
  return Status::ok();
}

Status compare_raw(const TaskPair& p, const Side& t, const Side& s, TaskComparison& out) {
  TensorDifference diff;
  size_t elements = 0;
  for (const TaskOutputInfo& o : p.teacher->outputs) {
    PH_ASSIGN_OR_RETURN(const TensorView tv, output_of(t, *p.teacher, o.name));
    PH_ASSIGN_OR_RETURN(const TensorView sv, output_of(s, *p.student, o.name));
    const size_t n = static_cast<size_t>(tv.shape.elements());
    diff.add(tv.f32(), sv.f32(), n);
    elements += n;
  }
  RawSummary& r = out.raw;
  ++r.images;
  r.elements = elements;
  r.abs_error_sum += diff.abs_error_sum;
  r.abs_error_max = std::isnan(diff.abs_error_max) ? diff.abs_error_max
                                                   : std::max(r.abs_error_max, diff.abs_error_max);
  r.cosine_sum += diff.cosine();
  out.per_image.push_back(diff.abs_error_max);
  return Status::ok();
}

Status compare_task(const TaskPair& p, const Side& t, const Side& s, const CompareOptions& o,
                    TaskComparison& out) {
  switch (p.method) {
    case Method::kClassification:
      return compare_classification(p, t, s, o.temperature, out);
    case Method::kMask:
      return compare_mask(p, t, s, out);
    case Method::kClassMap:
      return compare_class_map(p, t, s, out);
    case Method::kDetection:
      return compare_detection(p, t, s, o.match_iou, out);
    case Method::kLandmarks:
      return compare_landmarks(p, t, s, out);
    case Method::kRaw:
      return compare_raw(p, t, s, out);
  }
  return Status::ok();
}

ModelSummary summarise(const Side& side) {
  ModelSummary m;
  m.file_bytes = side.model->file_bytes();
  m.arena_bytes = side.plan.info().arena_bytes;
  m.input = side.input->name;
  auto t = vision::plan_transform(1, 1, *side.input);  // only the model size is read
  if (t.is_ok()) {
    m.input_width = t->model_width;
    m.input_height = t->model_height;
  }
  return m;
}

}  // namespace

Result<CompareReport> compare_models(const Model& teacher, const Model& student,
                                     const std::vector<std::string>& images,
                                     const CompareOptions& o) {
  if (!(o.temperature > 0) || !std::isfinite(o.temperature))
    return Status(ErrorCode::kInvalidArgument,
                  "temperature must be a finite number > 0, got " + std::to_string(o.temperature));
  if (!(o.match_iou > 0 && o.match_iou <= 1))
    return Status(ErrorCode::kInvalidArgument,
                  "match IoU must be in (0, 1], got " + std::to_string(o.match_iou));
  if (images.empty()) return Status(ErrorCode::kInvalidArgument, "no images to compare on");
  PH_ASSIGN_OR_RETURN(const std::vector<TaskPair> pairs, pair_tasks(teacher, student, o.tasks));
  std::vector<std::string> names;
  names.reserve(pairs.size());
  for (const TaskPair& p : pairs) names.push_back(p.teacher->name);
  PH_ASSIGN_OR_RETURN(Side t, prepare_side(teacher, "teacher", names, o));
  PH_ASSIGN_OR_RETURN(Side s, prepare_side(student, "student", names, o));

  CompareReport report;
  report.temperature = o.temperature;
  report.threads = o.threads;
  report.images = images;
  for (const TaskPair& p : pairs) {
    TaskComparison c;
    c.task = p.teacher->name;
    c.kind = p.teacher->kind;
    c.method = p.method;
    c.note = p.note;
    report.tasks.push_back(std::move(c));
  }
  for (size_t k = 0; k < images.size(); ++k) {
    const std::string& path = images[k];
    PH_ASSIGN_OR_RETURN(const cv::Mat image, vision::load_image(path));
    PH_RETURN_IF_ERROR(feed(t, image, "teacher", path));
    PH_RETURN_IF_ERROR(feed(s, image, "student", path));
    for (size_t i = 0; i < pairs.size(); ++i)
      PH_RETURN_IF_ERROR(
          with_context(compare_task(pairs[i], t, s, o, report.tasks[i]), "image '" + path + "'"));
    if (o.progress) o.progress("comparing", k + 1, images.size());
  }

  // Timed on the last image, which both plans still hold.
  if (o.progress) o.progress("timing", 0, 0);
  PH_ASSIGN_OR_RETURN(const Latency latency, interleaved_latency(t.plan, s.plan, o.latency));
  report.teacher = summarise(t);
  report.student = summarise(s);
  report.teacher.latency_ms = latency.teacher_ms;
  report.student.latency_ms = latency.student_ms;
  report.latency_rounds = o.latency.rounds;
  report.latency_runs = o.latency.runs;
  return report;
}

}  // namespace polyhead::compare
