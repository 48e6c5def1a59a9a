// `polyhead bench --html`: one self-contained HTML file with the figures of a BenchResult and
// inline SVG charts (latency distribution, per-operator time, tasks alone against one pass,
// thread scaling). No scripts, no external fonts or images: it opens offline.
#pragma once

#include <string>

#include "cli/bench_result.h"

namespace polyhead::cli {

// Nodes drawn in the per-operator chart; the table below it lists every node.
constexpr size_t kHtmlProfileBars = 40;

std::string bench_to_html(const BenchResult& r);

}  // namespace polyhead::cli
