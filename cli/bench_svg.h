// Charts as inline SVG for the `polyhead bench --html` report: plain markup, no scripts, no
// external references, so the report opens offline in any browser. Sizes are in CSS pixels.
#pragma once

#include <string>
#include <vector>

#include "cli/bench_stats.h"

namespace polyhead::cli {

struct Bar {
  std::string label;
  double value = 0;
  std::string color;  // CSS colour
  std::string note;   // shown after (rows) or above (columns) the value; may be empty
  std::string title;  // tooltip; the label when empty
};

struct Marker {
  std::string label;
  double value = 0;
  std::string color;
};

// One horizontal bar per row with its label on the left: for many named items (per-node times).
std::string svg_bar_rows(const std::vector<Bar>& bars, const std::string& unit, int width);

// Vertical columns over a value axis: for a few items (tasks alone against one pass, threads).
std::string svg_columns(const std::vector<Bar>& bars, const std::string& unit, int width,
                        int height);

// A histogram over its sample range with labelled vertical markers (median, p90, ...).
std::string svg_histogram(const Histogram& h, const std::vector<Marker>& markers,
                          const std::string& unit, const std::string& color, int width, int height);

// Text safe inside HTML and SVG elements and attribute values.
std::string html_escape(const std::string& s);

// Round axis steps (1, 2 or 5 times a power of ten) giving about `target` intervals up to `max`.
double nice_step(double max, int target);

}  // namespace polyhead::cli
