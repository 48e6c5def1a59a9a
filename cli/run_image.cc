#include "cli/run_image.h"

#ifndef POLYHEAD_HAVE_VISION

namespace polyhead::cli {
bool image_runs_supported() {
  return false;
}
Status run_image(const Model&, const ImageRunOptions&) {
  return Status(ErrorCode::kUnsupported,
                "--image needs OpenCV: this polyhead was built without it (install libopencv-dev "
                "and rebuild)");
}
}  // namespace polyhead::cli

#else

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "cli/format.h"
#include "cli/json.h"
#include "cli/task_results.h"
#include "polyhead/engine.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::cli {
namespace {

using namespace polyhead::vision;

Result<const InputInfo*> image_input(const Model& model) {
  const InputInfo* found = nullptr;
  for (const InputInfo& in : model.inputs()) {
    if (in.preprocess.color == ColorOrder::kNone) continue;
    if (found)
      return Status(ErrorCode::kUnsupported, "the model has several image inputs ('" + found->name +
                                                 "', '" + in.name +
                                                 "'); --image feeds exactly one, use --input");
    found = &in;
  }
  if (!found)
    return Status(ErrorCode::kUnsupported,
                  "the model has no image input (every input has colour order NONE); use --input");
  for (const InputInfo& in : model.inputs())
    if (&in != found)
      return Status(ErrorCode::kUnsupported, "the model also needs input '" + in.name +
                                                 "', which --image cannot fill; use --input");
  return found;
}

std::string box_text(const cv::Rect2f& b) {
  char s[96];
  std::snprintf(s, sizeof s, "[x %.0f, y %.0f, w %.0f, h %.0f]", b.x, b.y, b.width, b.height);
  return s;
}

double mean_visibility(const std::vector<Landmark>& l) {
  double sum = 0;
  for (const Landmark& p : l) sum += p.visibility;
  return l.empty() ? 0 : sum / static_cast<double>(l.size());
}

void print_raw(const Plan& plan, const TaskInfo& task) {
  for (const TaskOutputInfo& o : task.outputs) {
    auto v = plan.output(task.name, o.name);
    if (!v.is_ok() || !v->f32()) continue;
    const size_t n = static_cast<size_t>(v->shape.elements());
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; ++i) {
      lo = std::min<double>(lo, v->f32()[i]);
      hi = std::max<double>(hi, v->f32()[i]);
      sum += v->f32()[i];
    }
    std::printf("  %-10s %-16s min %s  max %s  mean %s\n", o.name.c_str(),
                v->shape.to_string().c_str(), format_float(lo).c_str(), format_float(hi).c_str(),
                format_float(n ? sum / static_cast<double>(n) : NAN).c_str());
  }
}

void print_text(const ImageRunOptions& o, const cv::Mat& image, const Plan& plan, double ms,
                const std::vector<TaskResult>& results) {
  std::printf("model    %s\n", o.model_path.c_str());
  std::printf("image    %s (%dx%d)\n", o.image_path.c_str(), image.cols, image.rows);
  std::printf("tasks    %s (one pass, %zu nodes)\n", join(plan.info().tasks, ", ").c_str(),
              plan.info().nodes);
  std::printf("latency  %.3f ms\n", ms);
  for (const TaskResult& r : results) {
    const TaskInfo& task = *r.task;
    std::printf("\n%s (%s)\n", task.name.c_str(), to_string(task.kind));
    if (r.decoded == "detections") {
      std::printf("  %zu detection%s\n", r.detections.size(), r.detections.size() == 1 ? "" : "s");
      for (const Detection& d : r.detections) {
        std::string label =
            d.label >= 0 && static_cast<size_t>(d.label) < task.postprocess.labels.size()
                ? task.postprocess.labels[d.label] + " "
                : "";
        std::printf("    %sscore %.3f  box %s  %zu keypoints\n", label.c_str(), d.score,
                    box_text(d.box).c_str(), d.keypoints.size());
      }
    } else if (r.decoded == "mask") {
      std::printf("  mask coverage %.1f%%", 100.0 * r.mask.coverage);
      if (r.mask.coverage > 0)
        std::printf("  bbox [x %d, y %d, w %d, h %d]", r.mask.bbox.x, r.mask.bbox.y,
                    r.mask.bbox.width, r.mask.bbox.height);
      std::printf("\n");
    } else if (r.decoded == "landmarks") {
      std::printf("  %zu landmarks, mean visibility %.3f\n", r.landmarks.size(),
                  mean_visibility(r.landmarks));
    } else {
      if (!r.note.empty()) std::printf("  (%s)\n", r.note.c_str());
      print_raw(plan, task);
    }
  }
  if (!o.out_path.empty()) std::printf("\nwrote %s\n", o.out_path.c_str());
}

void point_json(JsonWriter& j, const cv::Point2f& p) {
  j.begin_array().value(static_cast<double>(p.x)).value(static_cast<double>(p.y)).end_array();
}

void print_json(const ImageRunOptions& o, const cv::Mat& image, const ImageTransform& t,
                const Plan& plan, double ms, const std::vector<TaskResult>& results) {
  JsonWriter j;
  j.begin_object().field("model", o.model_path).field("image", o.image_path);
  j.field("width", image.cols).field("height", image.rows).field("latency_ms", ms);
  j.key("transform")
      .begin_object()
      .field("scale_x", static_cast<double>(t.scale_x))
      .field("scale_y", static_cast<double>(t.scale_y))
      .field("offset_x", static_cast<double>(t.offset_x))
      .field("offset_y", static_cast<double>(t.offset_y))
      .end_object();
  j.key("tasks").begin_array();
  for (const TaskResult& r : results) {
    j.begin_object().field("task", r.task->name).field("kind", to_string(r.task->kind));
    if (r.decoded == "detections") {
      j.key("detections").begin_array();
      for (const Detection& d : r.detections) {
        j.begin_object();
        j.key("box").begin_array();
        for (float v : {d.box.x, d.box.y, d.box.width, d.box.height})
          j.value(static_cast<double>(v));
        j.end_array();
        j.field("score", static_cast<double>(d.score)).field("label", d.label);
        j.key("keypoints").begin_array();
        for (const cv::Point2f& k : d.keypoints) point_json(j, k);
        j.end_array().end_object();
      }
      j.end_array();
    } else if (r.decoded == "mask") {
      j.key("mask").begin_object().field("coverage", r.mask.coverage);
      j.key("bbox").begin_array();
      for (int v : {r.mask.bbox.x, r.mask.bbox.y, r.mask.bbox.width, r.mask.bbox.height})
        j.value(v);
      j.end_array().end_object();
    } else if (r.decoded == "landmarks") {
      j.key("landmarks").begin_array();
      for (const Landmark& l : r.landmarks)
        j.begin_object()
            .field("x", static_cast<double>(l.point.x))
            .field("y", static_cast<double>(l.point.y))
            .field("z", static_cast<double>(l.z))
            .field("visibility", static_cast<double>(l.visibility))
            .field("presence", static_cast<double>(l.presence))
            .end_object();
      j.end_array();
    } else {
      if (!r.note.empty()) j.field("note", r.note);
      j.key("outputs").begin_array();
      for (const TaskOutputInfo& out : r.task->outputs) {
        auto v = plan.output(r.task->name, out.name);
        if (!v.is_ok()) continue;
        j.begin_object().field("name", out.name).field("shape", v->shape).end_object();
      }
      j.end_array();
    }
    j.end_object();
  }
  j.end_array();
  if (!o.out_path.empty()) j.field("annotated", o.out_path);
  j.end_object();
  std::printf("%s\n", j.str().c_str());
}

Status write_annotated(const std::string& path, cv::Mat image,
                       const std::vector<TaskResult>& results) {
  draw_task_results(image, results);
  const std::string ext = std::filesystem::path(path).extension().string();
  bool ok = false;
  try {
    ok = cv::imwrite(path, image);
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kIoError, "--out '" + path + "': " + e.what());
  }
  if (!ok)
    return Status(ErrorCode::kIoError,
                  "--out: cannot write '" + path + "'" +
                      (ext.empty() ? " (give an extension such as .png)" : ""));
  return Status::ok();
}

}  // namespace

bool image_runs_supported() {
  return true;
}

Status run_image(const Model& model, const ImageRunOptions& o) {
  auto image = load_image(o.image_path);
  if (!image.is_ok()) return Status(image.status().code(), "--image: " + image.status().message());
  PH_ASSIGN_OR_RETURN(const InputInfo* input, image_input(model));
  EngineOptions eo;
  eo.threads = o.threads;
  eo.sparse_weights = o.sparse_weights;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model, eo));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare(o.tasks));
  PH_ASSIGN_OR_RETURN(float* dst, plan.input_buffer(input->name));
  PH_ASSIGN_OR_RETURN(const ImageTransform t, preprocess(*image, *input, dst));

  double best_ms = 0;
  for (int i = 0; i < std::max(1, o.repeat); ++i) {
    const auto start = std::chrono::steady_clock::now();
    PH_RETURN_IF_ERROR(plan.run());
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    best_ms = i == 0 ? ms : std::min(best_ms, ms);
  }

  std::vector<TaskResult> results;
  const std::vector<std::string> chosen = plan.info().tasks;
  for (const TaskInfo& task : model.tasks()) {
    if (std::find(chosen.begin(), chosen.end(), task.name) == chosen.end()) continue;
    TaskResult r;
    r.task = &task;
    PH_RETURN_IF_ERROR(decode_task(model, plan, t, r));
    results.push_back(std::move(r));
  }
  if (!o.out_path.empty()) PH_RETURN_IF_ERROR(write_annotated(o.out_path, image->clone(), results));
  if (o.json)
    print_json(o, *image, t, plan, best_ms, results);
  else
    print_text(o, *image, plan, best_ms, results);
  return Status::ok();
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_VISION
