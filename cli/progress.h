// Progress lines on stderr for the long stages of a command, so a run in a script or a CI log
// says what it is doing instead of staying silent for a minute:
//
//   polyhead quantize: calibrating on 40 photos
//   polyhead quantize: sensitivity of 112 nodes, each alone in int8, on 2 photos
//   polyhead quantize: sensitivity 23/112 nodes
//
// A stage's line is printed at once, the steps inside it at most once a second. The same lines
// go to a terminal and to a file or pipe. stdout is never touched (tests and scripts parse it);
// `--quiet` makes the commands pass enabled = false.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace polyhead::cli {

class Progress {
 public:
  Progress(const char* command, bool enabled) : command_(command), enabled_(enabled) {}

  // A stage begins ("loading model.phm", "timing: 50 runs"): one line, at once.
  void stage(const std::string& text);

  // Step `done` of `total` inside the current stage, e.g. ("calibrating", 12, 40, "photos")
  // prints "calibrating 12/40 photos"; total 0 when unknown ("timing 120 runs"). Printed only
  // when a second has passed since the last line, so calling it often costs a clock read.
  void step(const std::string& what, size_t done, size_t total, const char* unit);

 private:
  using Clock = std::chrono::steady_clock;

  void print(const std::string& text);

  const char* command_;
  bool enabled_;
  Clock::time_point last_line_{};
};

// "1 photo", "6 photos": counts in progress lines.
std::string counted(size_t n, const std::string& noun);

}  // namespace polyhead::cli
