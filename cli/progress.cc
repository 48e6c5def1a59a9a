#include "cli/progress.h"

#include <cstdio>

namespace polyhead::cli {

namespace {
// Often enough to show the command is alive, rarely enough to keep a log readable.
constexpr std::chrono::seconds kStepInterval{1};
}  // namespace

void Progress::stage(const std::string& text) {
  if (enabled_) print(text);
}

void Progress::step(const std::string& what, size_t done, size_t total, const char* unit) {
  if (!enabled_ || Clock::now() - last_line_ < kStepInterval) return;
  std::string text = what + " " + std::to_string(done);
  if (total > 0) text += "/" + std::to_string(total);
  if (unit && *unit) text += std::string(" ") + unit;
  print(text);
}

void Progress::print(const std::string& text) {
  // One call per line: stderr is unbuffered, and a line reaches a log whole.
  std::fprintf(stderr, "polyhead %s: %s\n", command_, text.c_str());
  last_line_ = Clock::now();
}

std::string counted(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace polyhead::cli
