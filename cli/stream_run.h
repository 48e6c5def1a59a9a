// `polyhead stream`: models run on the frames of a video, a folder of photos or a camera through
// the FrameScheduler, with decoding and pre-processing pipelined ahead of inference
// (frame_pipeline.h); a live status line, a final report (stream_report.h), an annotated video and
// JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/frame_queue.h"
#include "cli/stream_tasks.h"

namespace polyhead::cli {

struct StreamOptions {
  std::vector<std::string> model_paths;
  // Exactly one source.
  std::string video;
  std::string images;
  int camera = -1;
  StreamTaskOptions task_options;
  double budget_ms = 0;
  size_t threads = 1;  // 0 = one per logical processor
  uint64_t max_frames = 0;
  size_t queue_capacity = 2;
  std::optional<DropPolicy> drop;  // default: block for files, oldest for a camera
  double fps = 0;  // > 0: the rate files are read at with --drop oldest, and the video's rate
  std::string out_path;
  std::string json_path;  // "-": JSON on stdout instead of the text report
  bool quiet = false;
};

// False when this build has no OpenCV (then run_stream() fails).
bool streams_supported();

// Runs the stream and prints its report; the process exit code (errors are printed as
// "polyhead stream: ...": kExitUsage for option values, such as an unknown task, kExitRuntime for
// files, models and the stream itself).
int run_stream(const StreamOptions& options);

}  // namespace polyhead::cli
