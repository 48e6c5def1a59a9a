// `polyhead stream`: the command line of the stream command (stream_run.h does the work).
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/stream_run.h"

namespace polyhead::cli {

const char kStreamUsage[] =
    "usage: polyhead stream MODEL [MODEL...] (--video FILE | --images DIR | --camera N)\n"
    "                       [--tasks a,b] [--rate TASK=N|TASK=HZhz] [--priority TASK=P]\n"
    "                       [--deadline-ms TASK=D] [--budget-ms B] [--threads T]\n"
    "                       [--max-frames N] [--queue N] [--drop oldest|block] [--fps F]\n"
    "                       [--out ANNOTATED.mp4|.avi] [--json FILE] [--quiet]\n"
    "\n"
    "Runs the models on every frame of a video, a folder of photos (in name order) or a camera,\n"
    "as a real-time app would: the frame scheduler picks each frame's tasks from their rates,\n"
    "priorities and the frame budget (each model's backbone once for the tasks it runs), all\n"
    "models share one thread pool, and the next frame is decoded and pre-processed while the\n"
    "current one runs. Prints a status line on stderr twice a second and, at the end, per task "
    "its\n"
    "rate, priority, runs, skips, deadline misses and latency percentiles (from the frame's\n"
    "arrival to the task's result), and per stream the frames in, processed, dropped and over\n"
    "budget and the throughput. See docs/stream.md.\n"
    "\n"
    "TASK is a task name, or LABEL:TASK when several models have it (LABEL: the model file's\n"
    "stem, e.g. face_detection for face_detection.phm).\n"
    "\n"
    "options:\n"
    "  --video FILE        frames of a video file (.avi, .mp4, ... through OpenCV's FFmpeg)\n"
    "  --images DIR        the .jpg/.jpeg/.png/.bmp photos of DIR, in name order\n"
    "  --camera N          frames of camera N (/dev/videoN)\n"
    "  --tasks a,b         the tasks to run (default: every task of every model)\n"
    "  --rate TASK=N       run TASK on every Nth frame; TASK=7.5hz: at most 7.5 times a second\n"
    "                      (default: the rate in the model, usually every frame)\n"
    "  --priority TASK=P   larger runs first when the budget is short (default: the model's)\n"
    "  --deadline-ms TASK=D  count a miss when TASK's result comes D ms after its frame arrived\n"
    "  --budget-ms B       per-frame latency budget; tasks that would exceed it are deferred,\n"
    "                      lowest priority first, none more than 3 frames in a row (default:\n"
    "                      none)\n"
    "  --threads T         threads of the pool the models share, 0 = one per logical processor\n"
    "                      (default 1)\n"
    "  --max-frames N      stop after N frames from the source (default: all)\n"
    "  --queue N           decoded frames that may wait for inference (default 2)\n"
    "  --drop P            when the queue is full: 'block' waits (no frame lost; default for\n"
    "                      files and photos) or 'oldest' drops the oldest waiting frame (default\n"
    "                      for a camera; files are then read at their frame rate, as a camera\n"
    "                      would deliver them)\n"
    "  --fps F             frame rate of the annotated video and of reading with --drop oldest\n"
    "                      (default: the video's, 30 for photos)\n"
    "  --out FILE          write the frames with every task's latest result drawn as `run\n"
    "                      --image` draws them; .mp4 (MPEG-4) or .avi (Motion JPEG)\n"
    "  --json FILE         also write the report as JSON to FILE ('-': to stdout, instead of the\n"
    "                      text)\n"
    "  --quiet             no status lines on stderr\n";

int stream_main(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"--video", true},
                                  {"--images", true},
                                  {"--camera", true},
                                  {"--tasks", true, true},
                                  {"--rate", true, true},
                                  {"--priority", true, true},
                                  {"--deadline-ms", true, true},
                                  {"--budget-ms", true},
                                  {"--threads", true},
                                  {"--max-frames", true},
                                  {"--queue", true},
                                  {"--drop", true},
                                  {"--fps", true},
                                  {"--out", true},
                                  {"--json", true},
                                  {"--quiet", false}});
  const char* cmd = "stream";
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kStreamUsage, stdout);
    return kExitOk;
  }
  if (parsed->positional.empty()) return report_usage_error(cmd, "missing MODEL argument");
  StreamOptions o;
  o.model_paths = parsed->positional;
  int sources = 0;
  for (const char* option : {"--video", "--images", "--camera"}) sources += parsed->has(option);
  if (sources != 1)
    return report_usage_error(cmd, sources == 0
                                       ? "give a source: --video FILE, --images DIR or --camera N"
                                       : "--video, --images and --camera are exclusive: give one");
  o.video = parsed->get("--video");
  o.images = parsed->get("--images");
  if (parsed->has("--camera")) {
    auto camera = parse_int("--camera", parsed->get("--camera"), 0, 1000);
    if (!camera.is_ok()) return report_usage_error(cmd, camera.status().message());
    o.camera = static_cast<int>(*camera);
  }
  o.task_options.tasks = parsed->all("--tasks");
  o.task_options.rates = parsed->all("--rate");
  o.task_options.priorities = parsed->all("--priority");
  o.task_options.deadlines = parsed->all("--deadline-ms");
  auto budget = parse_double("--budget-ms", parsed->get("--budget-ms", "0"), 0, 1e6);
  if (!budget.is_ok()) return report_usage_error(cmd, budget.status().message());
  o.budget_ms = *budget;
  auto threads = parse_int("--threads", parsed->get("--threads", "1"), 0, 1024);
  if (!threads.is_ok()) return report_usage_error(cmd, threads.status().message());
  o.threads = static_cast<size_t>(*threads);
  auto max_frames = parse_int("--max-frames", parsed->get("--max-frames", "0"), 0, 1LL << 40);
  if (!max_frames.is_ok()) return report_usage_error(cmd, max_frames.status().message());
  o.max_frames = static_cast<uint64_t>(*max_frames);
  if (parsed->has("--max-frames") && o.max_frames == 0)
    return report_usage_error(cmd, "invalid value '0' for --max-frames: expected at least 1");
  auto queue = parse_int("--queue", parsed->get("--queue", "2"), 1, 64);
  if (!queue.is_ok()) return report_usage_error(cmd, queue.status().message());
  o.queue_capacity = static_cast<size_t>(*queue);
  if (parsed->has("--drop")) {
    auto drop = parse_drop_policy("--drop", parsed->get("--drop"));
    if (!drop.is_ok()) return report_usage_error(cmd, drop.status().message());
    o.drop = *drop;
  }
  if (parsed->has("--fps")) {
    auto fps = parse_double("--fps", parsed->get("--fps"), 0.01, 1000);
    if (!fps.is_ok()) return report_usage_error(cmd, fps.status().message());
    o.fps = *fps;
  }
  o.out_path = parsed->get("--out");
  o.json_path = parsed->get("--json");
  o.quiet = parsed->has("--quiet");
  return run_stream(o);
}

}  // namespace polyhead::cli
