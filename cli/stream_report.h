// What `polyhead stream` reports: the live status line on stderr while it runs, and at the end the
// text report on stdout or the same figures as JSON. The figures are the scheduler's
// (polyhead::StreamStats); this file only lays them out.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "polyhead/frame_scheduler.h"

namespace polyhead::cli {

// The stream's set-up, for the report's header.
struct StreamSetup {
  std::string source;         // FrameSource::description()
  std::string source_kind;    // "video", "images", "camera"
  int width = 0, height = 0;  // of the first frame
  double source_fps = 0;      // 0 = unknown
  std::vector<std::string> model_paths;
  std::vector<std::string> labels;
  size_t threads = 1;
  double budget_ms = 0;
  size_t queue_capacity = 2;
  std::string drop;       // "block" or "oldest"
  double pace_fps = 0;    // frames read at this rate (0 = as fast as taken)
  std::string annotated;  // --out path, empty = none
  size_t annotated_frames = 0;
};

// "23.9 fps; face:faces 40 run 0 skip 0 miss, selfie:mask 20 run 0 skip 0 miss; 48/270 frames"
// (the total when known; cli_streams.h's step-line shape).
std::string stream_status_line(const StreamStats& stats, size_t total_frames);

// The final report as text (stdout) and as a JSON document.
std::string stream_text_report(const StreamSetup& setup, const StreamStats& stats);
std::string stream_json_report(const StreamSetup& setup, const StreamStats& stats);

}  // namespace polyhead::cli
