#ifdef POLYHEAD_HAVE_VISION

#include "cli/task_results.h"

#include <utility>

#include "polyhead/vision/annotate.h"

namespace polyhead::cli {
namespace {

using namespace polyhead::vision;

Result<const TaskOutputInfo*> find_output(const TaskInfo& task, const std::string& name,
                                          bool single_fallback) {
  for (const TaskOutputInfo& o : task.outputs)
    if (o.name == name) return &o;
  if (single_fallback && task.outputs.size() == 1) return &task.outputs[0];
  return Status(ErrorCode::kNotFound,
                "task '" + task.name + "' has no output '" + name + "' to post-process");
}

int64_t channels_of(const TensorView& v) {
  return v.shape.rank() == 4 ? v.shape[3] : 1;
}

}  // namespace

Status decode_task(const Model& model, const Plan& plan, const ImageTransform& t, TaskResult& r) {
  const TaskInfo& task = *r.task;
  if (task.kind == TaskKind::kDetection) {
    auto options = detection_options(model, task);
    if (!options.is_ok()) {
      if (options.status().code() != ErrorCode::kUnsupported) return options.status();
      r.note = options.status().message();
      return Status::ok();
    }
    PH_ASSIGN_OR_RETURN(const TaskOutputInfo* b, find_output(task, "boxes", false));
    PH_ASSIGN_OR_RETURN(const TaskOutputInfo* s, find_output(task, "scores", false));
    PH_ASSIGN_OR_RETURN(TensorView boxes, plan.output(task.name, b->name));
    PH_ASSIGN_OR_RETURN(TensorView scores, plan.output(task.name, s->name));
    auto d = decode_detections(boxes, scores, *options, t);
    if (!d.is_ok())
      return Status(d.status().code(), "task '" + task.name + "': " + d.status().message());
    r.detections = std::move(*d);
    r.decoded = "detections";
  } else if (task.kind == TaskKind::kSegmentation) {
    PH_ASSIGN_OR_RETURN(const TaskOutputInfo* o, find_output(task, "mask", true));
    PH_ASSIGN_OR_RETURN(TensorView v, plan.output(task.name, o->name));
    const bool declared = !model.metadata(task.name + ".threshold").empty();
    if (!declared && channels_of(v) > 2) {
      r.note = "a " + std::to_string(channels_of(v)) + "-channel mask without metadata '" +
               task.name + ".threshold' is not decoded";
      return Status::ok();
    }
    PH_ASSIGN_OR_RETURN(const MaskOptions options, mask_options(model, task));
    auto m = mask_to_image(v, options, t);
    if (!m.is_ok())
      return Status(m.status().code(), "task '" + task.name + "': " + m.status().message());
    r.mask = std::move(*m);
    r.decoded = "mask";
  } else if (task.kind == TaskKind::kLandmarks) {
    auto options = landmark_options(model, task);
    if (!options.is_ok()) {
      if (options.status().code() != ErrorCode::kUnsupported) return options.status();
      r.note = options.status().message();
      return Status::ok();
    }
    PH_ASSIGN_OR_RETURN(const TaskOutputInfo* o, find_output(task, "landmarks", true));
    PH_ASSIGN_OR_RETURN(TensorView v, plan.output(task.name, o->name));
    auto l = decode_landmarks(v, *options, t);
    if (!l.is_ok())
      return Status(l.status().code(), "task '" + task.name + "': " + l.status().message());
    r.landmarks = std::move(*l);
    r.decoded = "landmarks";
  }
  return Status::ok();
}

void draw_task_results(cv::Mat& image, const std::vector<TaskResult>& results) {
  static const cv::Scalar mask_colours[] = {{255, 0, 255}, {255, 160, 0}, {0, 160, 255}};
  size_t masks = 0;
  for (const TaskResult& r : results)
    if (r.decoded == "mask") draw_mask(image, r.mask, mask_colours[masks++ % 3]);
  for (const TaskResult& r : results) {
    if (r.decoded == "detections") draw_detections(image, r.detections, r.task->postprocess.labels);
    if (r.decoded == "landmarks") {
      const size_t n = r.landmarks.size();
      draw_landmarks(image, r.landmarks,
                     n >= 33 && n <= 39 ? pose_connections() : std::vector<std::pair<int, int> >{});
    }
  }
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_VISION
