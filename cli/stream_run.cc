#include "cli/stream_run.h"

#include "cli/args.h"
#include "cli/commands.h"

#ifndef POLYHEAD_HAVE_STREAM

namespace polyhead::cli {
bool streams_supported() {
  return false;
}
int run_stream(const StreamOptions&) {
  return report_error(
      "stream",
      "needs OpenCV (videoio): this polyhead was built without it (install libopencv-dev "
      "and rebuild)",
      kExitRuntime);
}
}  // namespace polyhead::cli

#else

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <utility>

#include "cli/annotated_video.h"
#include "cli/format.h"
#include "cli/frame_pipeline.h"
#include "cli/frame_source.h"
#include "cli/progress.h"
#include "cli/stream_report.h"
#include "cli/task_results.h"
#include "polyhead/engine.h"
#include "polyhead/frame_scheduler.h"
#include "polyhead/model.h"
#include "polyhead/thread_pool.h"

namespace polyhead::cli {
namespace {

constexpr const char* kCommand = "stream";
// The live status line: often enough to watch, rarely enough for a log.
constexpr std::chrono::milliseconds kStatusInterval{500};
// Frame rate of the annotated video and of paced reading when neither the source nor --fps
// gives one (a folder of photos).
constexpr double kDefaultFps = 30;

// The one image input a stream feeds, or why the model cannot be streamed.
Result<const InputInfo*> stream_input(const Model& model, const std::string& label) {
  const InputInfo* found = nullptr;
  for (const InputInfo& in : model.inputs()) {
    if (in.preprocess.color == ColorOrder::kNone) continue;
    if (found)
      return Status(ErrorCode::kUnsupported, "model '" + label + "' has several image inputs ('" +
                                                 found->name + "', '" + in.name +
                                                 "'); a stream feeds exactly one");
    found = &in;
  }
  if (!found)
    return Status(ErrorCode::kUnsupported,
                  "model '" + label +
                      "' has no image input (every input has colour order NONE), so frames "
                      "cannot feed it");
  for (const InputInfo& in : model.inputs())
    if (&in != found)
      return Status(ErrorCode::kUnsupported, "model '" + label + "' also needs input '" + in.name +
                                                 "', which frames cannot fill");
  return found;
}

Result<std::unique_ptr<FrameSource> > open_source(const StreamOptions& o) {
  if (!o.video.empty()) {
    auto s = open_video(o.video);
    if (!s.is_ok()) return Status(s.status().code(), "--video: " + s.status().message());
    return s;
  }
  if (!o.images.empty()) {
    auto s = open_image_folder(o.images);
    if (!s.is_ok()) return Status(s.status().code(), "--images: " + s.status().message());
    return s;
  }
  auto s = open_camera(o.camera);
  if (!s.is_ok()) return Status(s.status().code(), "--camera: " + s.status().message());
  return s;
}

// Everything the stream holds while it runs.
struct Stream {
  std::vector<Model> models;
  std::vector<std::string> labels;
  std::vector<const InputInfo*> inputs;
  std::vector<Engine> engines;
  std::optional<FrameScheduler> scheduler;
  // The latest result of every task, plan after plan: what the annotated frames show (a task
  // that did not run on a frame shows its last result).
  std::vector<TaskResult> results;
  std::vector<size_t> first_result;  // per plan: its first task's index in `results`
};

Status decode_ran_tasks(Stream& s, const FrameOutcome& outcome, const FrameSlot& slot) {
  for (size_t p = 0; p < s.scheduler->plan_count(); ++p) {
    const Plan& plan = s.scheduler->plan(p);
    const size_t tasks = s.first_result[p + 1] - s.first_result[p];
    for (size_t i = 0; i < tasks; ++i) {
      if (!outcome.ran(p, i)) continue;
      TaskResult& last = s.results[s.first_result[p] + i];
      TaskResult fresh;
      fresh.task = last.task;
      const Status status = decode_task(s.models[p], plan, slot.transforms[p], fresh);
      if (!status.is_ok())
        return Status(status.code(), "model '" + s.labels[p] + "': " + status.message());
      last = std::move(fresh);
    }
  }
  return Status::ok();
}

}  // namespace

bool streams_supported() {
  return true;
}

int run_stream(const StreamOptions& o) {
  const auto fail = [](const Status& status) {
    return report_error(kCommand, status.to_string(), kExitRuntime);
  };
  if (!o.out_path.empty()) {
    const Status ok = AnnotatedVideo::check_path(o.out_path);
    if (!ok.is_ok()) return report_usage_error(kCommand, ok.message());
  }
  if (!o.json_path.empty() && o.json_path != "-") {
    // Fails now rather than after a long stream.
    std::ofstream f(o.json_path, std::ios::trunc);
    if (!f)
      return report_error(kCommand, "--json: cannot write '" + o.json_path + "'", kExitRuntime);
  }
  Stream s;
  s.labels = model_labels(o.model_paths);
  for (const std::string& path : o.model_paths) {
    auto model = Model::load_file(path);
    if (!model.is_ok())
      return report_error(kCommand,
                          "cannot load model '" + path + "': " + model.status().to_string(),
                          kExitRuntime);
    s.models.push_back(std::move(*model));
  }
  std::vector<StreamModel> named;
  for (size_t m = 0; m < s.models.size(); ++m) named.push_back({s.labels[m], &s.models[m]});
  auto chosen = resolve_stream_tasks(named, o.task_options);
  if (!chosen.is_ok()) return report_usage_error(kCommand, chosen.status().message());
  for (size_t m = 0; m < s.models.size(); ++m) {
    auto input = stream_input(s.models[m], s.labels[m]);
    if (!input.is_ok()) return fail(input.status());
    s.inputs.push_back(*input);
  }
  auto source = open_source(o);
  if (!source.is_ok()) return fail(source.status());

  // One pool for every model: they take turns on the same threads instead of each starting its
  // own and fighting over the cores.
  auto pool = ThreadPool::create(o.threads);
  if (!pool.is_ok()) return fail(pool.status());
  std::vector<ScheduledPlan> plans;
  for (size_t m = 0; m < s.models.size(); ++m) {
    EngineOptions eo;
    eo.threads = pool->threads();  // an engine on a pool takes the pool's thread count
    eo.thread_pool = *pool;
    auto engine = Engine::create(s.models[m], eo);
    if (!engine.is_ok()) return fail(engine.status());
    auto plan = engine->prepare((*chosen)[m].tasks);
    if (!plan.is_ok())
      return fail(
          Status(plan.status().code(), "model '" + s.labels[m] + "': " + plan.status().message()));
    s.engines.push_back(std::move(*engine));
    plans.push_back({s.labels[m], std::move(*plan), (*chosen)[m].schedule});
  }
  SchedulerOptions so;
  so.budget_ms = o.budget_ms;
  so.clock = steady_now_ns;  // the clock the pipeline stamps arrivals with
  auto scheduler = FrameScheduler::create(std::move(plans), so);
  if (!scheduler.is_ok()) return fail(scheduler.status());
  s.scheduler.emplace(std::move(*scheduler));
  for (size_t p = 0; p < s.scheduler->plan_count(); ++p) {
    s.first_result.push_back(s.results.size());
    for (const std::string& name : s.scheduler->plan(p).info().tasks) {
      TaskResult r;
      for (const TaskInfo& t : s.models[p].tasks())
        if (t.name == name) r.task = &t;
      s.results.push_back(std::move(r));
    }
  }
  s.first_result.push_back(s.results.size());

  FrameSource& src = **source;
  StreamSetup setup;
  setup.source = src.description();
  setup.source_kind = src.kind();
  setup.width = src.frame_size().width;
  setup.height = src.frame_size().height;
  setup.source_fps = src.fps();
  setup.model_paths = o.model_paths;
  setup.labels = s.labels;
  setup.threads = pool->threads();
  setup.budget_ms = o.budget_ms;
  setup.queue_capacity = o.queue_capacity;
  const DropPolicy drop =
      o.drop ? *o.drop : (src.live() ? DropPolicy::kDropOldest : DropPolicy::kBlock);
  setup.drop = to_string(drop);
  const double source_fps = o.fps > 0 ? o.fps : src.fps() > 0 ? src.fps() : kDefaultFps;
  // A file read with --drop oldest arrives as a camera would deliver it, at its frame rate;
  // otherwise nothing would ever be dropped, or everything but the last frames.
  setup.pace_fps = !src.live() && drop == DropPolicy::kDropOldest ? source_fps : 0;
  size_t total = src.frame_count();
  if (o.max_frames > 0 && (total == 0 || o.max_frames < total)) total = o.max_frames;

  AnnotatedVideo video;
  if (!o.out_path.empty()) {
    const Status opened = video.open(o.out_path, source_fps, src.frame_size());
    if (!opened.is_ok()) return fail(opened);
    setup.annotated = o.out_path;
  }

  Progress progress(kCommand, !o.quiet);
  progress.stage("streaming " + setup.source + " through " + join(s.labels, ", ") + " on " +
                 counted(setup.threads, "thread") + ", drop " + setup.drop);
  PipelineOptions po;
  po.queue_capacity = o.queue_capacity;
  po.drop = drop;
  po.max_frames = o.max_frames;
  po.pace_fps = setup.pace_fps;
  po.live = src.live();
  FramePipeline pipeline(std::move(*source), s.inputs, po);
  pipeline.start();

  Status status;
  auto last_status = std::chrono::steady_clock::now();
  while (FrameSlot* slot = pipeline.next()) {
    for (uint64_t d = pipeline.take_dropped(); d > 0; --d) s.scheduler->count_dropped_frame();
    for (size_t p = 0; p < s.scheduler->plan_count() && status.is_ok(); ++p)
      status = s.scheduler->plan(p).set_input(s.inputs[p]->name, slot->inputs[p].data(),
                                              slot->inputs[p].size());
    if (!status.is_ok()) break;
    auto outcome = s.scheduler->run_frame(slot->arrival_ns);
    if (!outcome.is_ok()) {
      status = Status(outcome.status().code(),
                      "frame " + std::to_string(slot->index) + ": " + outcome.status().message());
      break;
    }
    if (!o.out_path.empty()) {
      status = decode_ran_tasks(s, **outcome, *slot);
      if (!status.is_ok()) break;
      draw_task_results(slot->frame, s.results);
      status = video.write(slot->frame);
      if (!status.is_ok()) break;
    }
    pipeline.release(slot);
    const auto now = std::chrono::steady_clock::now();
    if (!o.quiet && now - last_status >= kStatusInterval) {
      progress.stage(stream_status_line(s.scheduler->stats(), total));
      last_status = now;
    }
  }
  pipeline.cancel();
  const Status produced = pipeline.finish();
  if (!status.is_ok()) return fail(status);
  if (!produced.is_ok()) return fail(produced);
  for (uint64_t d = pipeline.take_dropped(); d > 0; --d) s.scheduler->count_dropped_frame();
  if (!o.out_path.empty()) {
    const Status closed = video.close();
    if (!closed.is_ok()) return fail(closed);
    setup.annotated_frames = video.frames();
  }

  const StreamStats stats = s.scheduler->stats();
  if (!o.quiet) progress.stage(stream_status_line(stats, total));
  if (o.json_path == "-") {
    std::printf("%s\n", stream_json_report(setup, stats).c_str());
    return kExitOk;
  }
  std::fputs(stream_text_report(setup, stats).c_str(), stdout);
  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path, std::ios::trunc);
    f << stream_json_report(setup, stats) << "\n";
    f.close();
    if (!f)
      return report_error(kCommand, "--json: cannot write '" + o.json_path + "'", kExitRuntime);
  }
  return kExitOk;
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_STREAM
