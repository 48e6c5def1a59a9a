#include "cli/bench_html.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "cli/bench_svg.h"
#include "cli/bench_text.h"
#include "cli/format.h"
#include "cli/heads_summary.h"

namespace polyhead::cli {
namespace {

// Stays within what every browser has: no web fonts, no scripts, system colours for text.
const char kStyle[] = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #1d2330; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
.sub { color: #5a6475; margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid #d8dde6; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card .k { color: #5a6475; font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eceff4; text-align: right; }
th { background: #f4f6f9; font-weight: 600; }
td.l, th.l { text-align: left; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
svg { display: block; margin: 8px 0; }
svg text { font-family: inherit; fill: #1d2330; }
svg .tick { font-size: 11px; fill: #5a6475; }
svg .label { font-size: 12px; }
svg .value { font-size: 11px; }
svg .note { font-size: 11px; font-weight: 600; }
svg .grid { stroke: #e3e7ee; stroke-width: 1; }
svg .axis { stroke: #8a93a3; stroke-width: 1; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
            vertical-align: -1px; border-radius: 2px; }
details summary { cursor: pointer; color: #2c5aa0; margin: 8px 0; }
footer { margin-top: 40px; color: #8a93a3; font-size: 12px; }
)";

const char* const kPalette[] = {"#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b",
                                "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"};
const char kSharedColor[] = "#4c78a8";
const char kTotalColor[] = "#6b7280";

std::string f(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

// Colours per part: the backbone blue, each task its own.
std::map<std::string, std::string> part_colors(const std::vector<std::string>& tasks) {
  std::map<std::string, std::string> colors{{"shared", kSharedColor}};
  for (size_t i = 0; i < tasks.size(); ++i)
    colors[tasks[i]] = kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
  return colors;
}

std::string card(const std::string& key, const std::string& value) {
  return "<div class=\"card\"><div class=\"k\">" + html_escape(key) + "</div><div class=\"v\">" +
         html_escape(value) + "</div></div>\n";
}

std::string latency_row(const std::string& label, const Summary& s) {
  std::string row = "<tr><td class=\"l\">" + html_escape(label) + "</td>";
  for (double v : {s.min, s.median, s.p90, s.p99, s.max, s.mean, s.stddev})
    row += "<td>" + f("%.3f", v) + "</td>";
  return row + "<td>" + std::to_string(s.count) + "</td></tr>\n";
}

std::string latency_table_head(const std::string& first) {
  return "<table><tr><th class=\"l\">" + html_escape(first) +
         "</th><th>min</th><th>median</th><th>p90</th><th>p99</th><th>max</th><th>mean</th>"
         "<th>stddev</th><th>runs</th></tr>\n";
}

std::string legend(const std::vector<std::string>& parts,
                   const std::map<std::string, std::string>& colors) {
  std::string s = "<p class=\"legend\">";
  for (const std::string& p : parts)
    s += "<span><i style=\"background:" + colors.at(p) + "\"></i>" + html_escape(p) + "</span>";
  return s + "</p>\n";
}

std::string latency_section(const BenchResult& r) {
  const Summary& s = r.latency.ms;
  std::string h = "<h2>Latency of one pass</h2>\n";
  // A few far outliers would squeeze every other run into one bar: past Tukey's outer fence
  // (p75 + 3 IQR, the IQR at least 1% of the median) they are counted in the last bar instead,
  // and the caption says so.
  std::vector<double> sorted = r.latency.samples_ms;
  std::sort(sorted.begin(), sorted.end());
  const double p25 = percentile(sorted, 0.25), p75 = percentile(sorted, 0.75);
  const double fence = p75 + 3 * std::max(p75 - p25, 0.01 * s.median);
  std::vector<double> shown = r.latency.samples_ms;
  size_t clipped = 0;
  for (double& v : shown)
    if (v > fence) {
      v = fence;
      ++clipped;
    }
  h += "<p>" + std::to_string(s.count) + " timed runs after " + std::to_string(r.config.warmup) +
       " warm-up runs; milliseconds.";
  if (clipped)
    h += " The " + std::to_string(clipped) + " run" + (clipped == 1 ? "" : "s") + " slower than " +
         f("%.3f", fence) + " ms (up to " + f("%.3f", s.max) + " ms) " +
         (clipped == 1 ? "is" : "are") + " counted in the last bar.";
  h += "</p>\n";
  h += svg_histogram(
      histogram(shown, 30),
      {{"median", s.median, "#1d2330"}, {"p90", s.p90, "#c2410c"}, {"p99", s.p99, "#b91c1c"}}, "ms",
      kSharedColor, 1000, 300);
  h += latency_table_head("") + latency_row("one pass", s) + "</table>\n";
  return h;
}

std::string profile_section(const BenchResult& r,
                            const std::map<std::string, std::string>& colors) {
  const Profile& p = r.profile;
  std::string h = "<h2>Per-operator profile</h2>\n";
  h += "<p>Median time of each node over " + std::to_string(p.runs) +
       " profiled runs, slowest first" +
       (p.nodes.size() > kHtmlProfileBars
            ? " (the " + std::to_string(kHtmlProfileBars) + " slowest of " +
                  std::to_string(p.nodes.size()) + " nodes; the table lists all)"
            : "") +
       ". Colour: the part of the plan the node belongs to.</p>\n";
  std::vector<std::string> parts;
  for (const PartProfile& part : p.parts) parts.push_back(part.part);
  h += legend(parts, colors);
  std::vector<Bar> bars;
  for (size_t i = 0; i < p.nodes.size() && i < kHtmlProfileBars; ++i) {
    const NodeProfile& n = p.nodes[i];
    bars.push_back({n.name + " (" + n.op + ")", n.median_us, colors.at(n.part),
                    "us, " + f("%.1f", 100.0 * n.share) + "%",
                    n.name + " " + n.op + " " + node_shapes_text(n)});
  }
  h += svg_bar_rows(bars, "microseconds (median)", 1060);

  h += "<h3>Totals per part</h3>\n<table><tr><th class=\"l\">part</th><th>nodes</th>"
       "<th>median us</th><th>MACs</th><th>share</th></tr>\n";
  for (const PartProfile& part : p.parts)
    h +=
        "<tr><td class=\"l\"><span class=\"legend\"><i style=\"background:" + colors.at(part.part) +
        "\"></i></span>" + html_escape(part.part) + "</td><td>" + std::to_string(part.nodes) +
        "</td><td>" + f("%.1f", part.median_us) + "</td><td>" +
        html_escape(format_count(part.macs)) + "</td><td>" + f("%.1f%%", 100.0 * part.share) +
        "</td></tr>\n";
  h += "<tr><td class=\"l\">(all nodes)</td><td>" + std::to_string(p.nodes.size()) + "</td><td>" +
       f("%.1f", p.total_median_us) + "</td><td>" + html_escape(format_count(r.plan_macs)) +
       "</td><td>100%</td></tr>\n</table>\n";

  h += "<details><summary>Every node (" + std::to_string(p.nodes.size()) +
       ")</summary>\n<table><tr><th>share</th><th>median us</th><th>mean us</th><th>GFLOP/s</th>"
       "<th>MACs</th><th class=\"l\">part</th><th class=\"l\">op</th><th class=\"l\">node</th>"
       "<th class=\"l\">shapes</th></tr>\n";
  for (const NodeProfile& n : p.nodes)
    h += "<tr><td>" + f("%.2f%%", 100.0 * n.share) + "</td><td>" + f("%.1f", n.median_us) +
         "</td><td>" + f("%.1f", n.mean_us) + "</td><td>" + f("%.2f", n.gflops) + "</td><td>" +
         html_escape(format_count(n.macs)) + "</td><td class=\"l\">" + html_escape(n.part) +
         "</td><td class=\"l\">" + html_escape(n.op) + "</td><td class=\"l\"><code>" +
         html_escape(n.name) + "</code></td><td class=\"l\"><code>" +
         html_escape(node_shapes_text(n)) + "</code></td></tr>\n";
  return h + "</table>\n</details>\n";
}

std::vector<Bar> separate_bars(const Separate& s,
                               const std::map<std::string, std::string>& colors) {
  std::vector<Bar> bars;
  for (const SeparateTask& t : s.tasks)
    bars.push_back({t.task + " alone", t.latency.ms.median, colors.at(t.task), "", ""});
  bars.push_back({"sum of alone", s.sum_median_ms, kTotalColor, "", ""});
  bars.push_back({"one pass", s.one_pass_median_ms, kSharedColor,
                  "saves " + f("%.0f", 100.0 * s.saving) + "%", ""});
  return bars;
}

std::string separate_section(const BenchResult& r,
                             const std::map<std::string, std::string>& colors) {
  const Separate& s = r.separate;
  std::string h = "<h2>One pass against each task alone</h2>\n";
  h += "<p>Each task prepared as its own plan (its backbone and head) and timed alone; their sum "
       "is what running them one after another costs. One pass: " +
       f("%.3f", s.one_pass_median_ms) + " ms against " + f("%.3f", s.sum_median_ms) + " ms (" +
       f("%.2f", s.sum_median_ms > 0 ? s.one_pass_median_ms / s.sum_median_ms : 0) + "x, " +
       f("%.1f", 100.0 * s.saving) + "% saved). Medians in ms.</p>\n";
  h += svg_columns(separate_bars(s, colors), "ms (median)",
                   160 + 120 * static_cast<int>(s.tasks.size()), 300);
  h += latency_table_head("");
  for (const SeparateTask& t : s.tasks) h += latency_row(t.task + " alone", t.latency.ms);
  h += latency_row("one pass", r.latency.ms);
  return h + "</table>\n";
}

std::string sweep_section(const BenchResult& r) {
  std::string h = "<h2>Thread scaling</h2>\n";
  h += "<p>Median latency of one pass per thread count; the speed-up is against the first count "
       "(" +
       std::to_string(r.sweep.front().resolved_threads) + ").</p>\n";
  std::vector<Bar> bars;
  for (const ThreadPoint& p : r.sweep)
    bars.push_back(
        {std::to_string(p.resolved_threads) + " thread" + (p.resolved_threads == 1 ? "" : "s"),
         p.latency.ms.median, kSharedColor, f("%.2fx", p.speedup), ""});
  h += svg_columns(bars, "ms (median)", 160 + 120 * static_cast<int>(bars.size()), 300);
  h += latency_table_head("threads");
  for (const ThreadPoint& p : r.sweep)
    h += latency_row(std::to_string(p.resolved_threads) + " (" + f("%.2fx", p.speedup) + ")",
                     p.latency.ms);
  h += "</table>\n";
  if (r.sweep.front().has_separate) {
    h += "<table><tr><th>threads</th><th>one pass ms</th><th>sum of tasks alone ms</th>"
         "<th>saving</th></tr>\n";
    for (const ThreadPoint& p : r.sweep)
      h += "<tr><td>" + std::to_string(p.resolved_threads) + "</td><td>" +
           f("%.3f", p.separate.one_pass_median_ms) + "</td><td>" +
           f("%.3f", p.separate.sum_median_ms) + "</td><td>" +
           f("%.1f%%", 100.0 * p.separate.saving) + "</td></tr>\n";
    h += "</table>\n";
  }
  return h;
}

std::string memory_section(const BenchResult& r) {
  const Memory& m = r.memory;
  auto row = [](const std::string& k, const std::string& v, const std::string& note) {
    return "<tr><td class=\"l\">" + html_escape(k) + "</td><td>" + html_escape(v) +
           "</td><td class=\"l\">" + html_escape(note) + "</td></tr>\n";
  };
  std::string h =
      "<h2>Memory</h2>\n<table><tr><th class=\"l\">what</th><th>bytes</th>"
      "<th class=\"l\">how it is measured</th></tr>\n";
  h += row("model", format_bytes(m.model_bytes), "file size, mapped read-only");
  h += row("packed weights", format_bytes(m.packed_weight_bytes),
           "engine count: constant bytes its kernels packed from");
  h += row("resident added by prepare",
           m.prepare_rss_delta_bytes >= 0
               ? format_bytes(static_cast<uint64_t>(m.prepare_rss_delta_bytes))
               : "-" + format_bytes(static_cast<uint64_t>(-m.prepare_rss_delta_bytes)),
           "VmRSS after Engine::create + prepare minus before");
  h += row("arena", format_bytes(m.arena_bytes), "activation memory of the plan");
  h += row("arena lower bound", format_bytes(m.arena_lower_bound_bytes),
           "most bytes live at any one step");
  h += row("peak resident", m.peak_rss_bytes ? format_bytes(m.peak_rss_bytes) : "not reported",
           "VmHWM of the process after the main measurement");
  return h + "</table>\n";
}

}  // namespace

std::string bench_to_html(const BenchResult& r) {
  const BenchConfig& c = r.config;
  const auto colors = part_colors(r.tasks);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>polyhead bench: " + html_escape(c.model_path) + "</title>\n";
  h += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  h += "<h1>polyhead bench</h1>\n<p class=\"sub\"><code>" + html_escape(c.model_path) +
       "</code> (" + html_escape(r.model_format) + ", " +
       html_escape(format_bytes(r.memory.model_bytes)) + ") &middot; tasks " +
       html_escape(join(r.tasks, ", ")) + " &middot; " + std::to_string(r.plan_nodes) + " nodes, " +
       html_escape(format_count(r.plan_macs)) + " MACs per pass &middot; " +
       std::to_string(r.resolved_threads) + " thread" + (r.resolved_threads == 1 ? "" : "s") +
       " &middot; heads " +
       html_escape(heads_summary(r.parallel_head_groups, r.heads_in_parallel, c.parallel_heads,
                                 r.resolved_threads)) +
       "</p>\n";
  const Summary& s = r.latency.ms;
  h += "<div class=\"cards\">\n";
  h += card("median", f("%.3f ms", s.median)) + card("p90", f("%.3f ms", s.p90)) +
       card("p99", f("%.3f ms", s.p99)) + card("load", f("%.2f ms", r.load_ms)) +
       card("prepare", f("%.2f ms", r.prepare_ms)) +
       card("arena", format_bytes(r.memory.arena_bytes)) +
       card("peak resident",
            r.memory.peak_rss_bytes ? format_bytes(r.memory.peak_rss_bytes) : "n/a");
  if (r.has_separate) h += card("one pass saves", f("%.1f%%", 100.0 * r.separate.saving));
  h += "</div>\n";
  h += latency_section(r);
  if (r.has_profile) h += profile_section(r, colors);
  if (r.has_separate) h += separate_section(r, colors);
  if (!r.sweep.empty()) h += sweep_section(r);
  h += memory_section(r);
  h += "<footer>Written by <code>polyhead bench</code>; the same figures are in its --json output "
       "(docs/bench.md).</footer>\n</body>\n</html>\n";
  return h;
}

}  // namespace polyhead::cli
