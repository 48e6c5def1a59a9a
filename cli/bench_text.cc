#include "cli/bench_text.h"

#include <algorithm>

#include "cli/format.h"
#include "cli/heads_summary.h"

namespace polyhead::cli {
namespace {

void print_latency_header(FILE* out, int label_w, const char* first_column) {
  std::fprintf(out, "  %-*s %8s %8s %8s %8s %8s %8s %8s %6s\n", label_w, first_column, "min",
               "median", "p90", "p99", "max", "mean", "stddev", "runs");
}

void print_latency_row(FILE* out, int label_w, const std::string& label, const Summary& s) {
  std::fprintf(out, "  %-*s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %6zu\n", label_w,
               label.c_str(), s.min, s.median, s.p90, s.p99, s.max, s.mean, s.stddev, s.count);
}

void print_separate(FILE* out, int label_w, const Separate& s) {
  for (const SeparateTask& t : s.tasks)
    print_latency_row(out, label_w, t.task + " alone", t.latency.ms);
  std::fprintf(out, "  %-*s %17.3f\n", label_w, "sum of alone", s.sum_median_ms);
  std::fprintf(out, "  %-*s %17.3f\n", label_w, "one pass", s.one_pass_median_ms);
  if (s.sum_median_ms > 0)
    std::fprintf(out, "  one pass costs %.2fx the tasks run one by one: %.1f%% saved\n",
                 s.one_pass_median_ms / s.sum_median_ms, 100.0 * s.saving);
}

void print_profile(FILE* out, const Profile& p) {
  std::fprintf(out, "\nprofile (%zu runs, medians; slowest first; GFLOP/s = 2 x MACs / time)\n",
               p.runs);
  std::fprintf(out, "  %6s %10s %8s %9s  %-10s %-16s %-28s %s\n", "share", "median us", "GFLOP/s",
               "MACs", "part", "op", "node", "shapes");
  double rest_share = 0, rest_us = 0;
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const NodeProfile& n = p.nodes[i];
    if (i >= kTextProfileRows) {
      rest_share += n.share;
      rest_us += n.median_us;
      continue;
    }
    std::fprintf(out, "  %5.1f%% %10.1f %8.2f %9s  %-10s %-16s %-28s %s\n", 100.0 * n.share,
                 n.median_us, n.gflops, format_count(n.macs).c_str(), n.part.c_str(), n.op.c_str(),
                 n.name.c_str(), node_shapes_text(n).c_str());
  }
  if (p.nodes.size() > kTextProfileRows)
    std::fprintf(out, "  %5.1f%% %10.1f  ... %zu more nodes (every node is in --json and --html)\n",
                 100.0 * rest_share, rest_us, p.nodes.size() - kTextProfileRows);
  std::fprintf(out, "\n  %-14s %6s %10s %9s %8s\n", "part", "nodes", "median us", "MACs", "share");
  for (const PartProfile& part : p.parts)
    std::fprintf(out, "  %-14s %6zu %10.1f %9s %7.1f%%\n", part.part.c_str(), part.nodes,
                 part.median_us, format_count(part.macs).c_str(), 100.0 * part.share);
  std::fprintf(out, "  %-14s %6zu %10.1f\n", "(all nodes)", p.nodes.size(), p.total_median_us);
}

}  // namespace

std::string node_shapes_text(const NodeProfile& n) {
  std::string s = n.input_shapes.empty() ? "" : n.input_shapes[0].to_string();
  std::vector<std::string> outs;
  outs.reserve(n.output_shapes.size());
  for (const Shape& o : n.output_shapes) outs.push_back(o.to_string());
  return s + " -> " + join(outs, " ");
}

void print_bench_text(const BenchResult& r, FILE* out) {
  const BenchConfig& c = r.config;
  std::fprintf(out, "model     %s (%s, %s)\n", c.model_path.c_str(), r.model_format.c_str(),
               format_bytes(r.memory.model_bytes).c_str());
  std::fprintf(out, "tasks     %s: %zu nodes, %s MACs per pass\n", join(r.tasks, ", ").c_str(),
               r.plan_nodes, format_count(r.plan_macs).c_str());
  std::fprintf(out, "threads   %zu%s", r.resolved_threads,
               c.threads == 0 ? " (one per logical processor)" : "");
  if (r.nodes_with_thread_choice)
    std::fprintf(out, "; %zu of %zu nodes measured faster on the calling thread alone",
                 r.nodes_on_calling_thread, r.nodes_with_thread_choice);
  std::fprintf(out, "\n");
  std::fprintf(out, "heads     %s\n",
               heads_summary(r.parallel_head_groups, r.heads_in_parallel, c.parallel_heads,
                             r.resolved_threads)
                   .c_str());
  std::fprintf(out, "load      %.2f ms%s\n", r.load_ms,
               r.model_format == "tflite" ? " (converted in memory)" : "");
  std::fprintf(out, "prepare   %.2f ms (engine, kernels and packed weights, plan, arena)\n",
               r.prepare_ms);

  std::fprintf(out, "\nlatency in ms (%d warm-up runs, then %zu timed%s)\n", c.warmup,
               r.latency.ms.count, c.min_time_s > 0 ? ", at least --min-time" : "");
  // Wide enough for "<task> alone" with the longest task name.
  int label_w = 14;
  for (const std::string& t : r.tasks) label_w = std::max(label_w, static_cast<int>(t.size()) + 6);
  print_latency_header(out, label_w, "");
  print_latency_row(out, label_w, "one pass", r.latency.ms);
  if (r.has_separate) print_separate(out, label_w, r.separate);

  const Memory& m = r.memory;
  std::fprintf(out, "\nmemory\n");
  std::fprintf(out, "  %-32s %s\n", "model (mapped)", format_bytes(m.model_bytes).c_str());
  std::fprintf(out, "  %-32s %s\n", "packed weights (engine count)",
               format_bytes(m.packed_weight_bytes).c_str());
  if (m.sparse_kernel_nodes || m.expanded_sparse_weight_bytes)
    std::fprintf(out, "  %-32s %llu layers on the sparse kernel, %s expanded to dense\n",
                 "sparse weights", static_cast<unsigned long long>(m.sparse_kernel_nodes),
                 format_bytes(m.expanded_sparse_weight_bytes).c_str());
  std::fprintf(
      out, "  %-32s %s%s\n", "resident added by prepare",
      format_bytes(m.prepare_rss_delta_bytes > 0 ? static_cast<uint64_t>(m.prepare_rss_delta_bytes)
                                                 : 0)
          .c_str(),
      m.prepare_rss_delta_bytes < 0 ? " (shrank)" : "");
  const double ratio =
      m.arena_lower_bound_bytes
          ? static_cast<double>(m.arena_bytes) / static_cast<double>(m.arena_lower_bound_bytes)
          : 1.0;
  std::fprintf(out, "  %-32s %s (lower bound %s, %.3fx)\n", "arena",
               format_bytes(m.arena_bytes).c_str(), format_bytes(m.arena_lower_bound_bytes).c_str(),
               ratio);
  std::fprintf(out, "  %-32s %s\n", "peak resident (VmHWM)",
               m.peak_rss_bytes ? format_bytes(m.peak_rss_bytes).c_str() : "not reported");

  if (r.has_profile) print_profile(out, r.profile);

  if (!r.sweep.empty()) {
    std::fprintf(out, "\nthread sweep (speed-up against %zu thread%s)\n", r.sweep.front().threads,
                 r.sweep.front().threads == 1 ? "" : "s");
    print_latency_header(out, label_w, "threads");
    for (const ThreadPoint& p : r.sweep) {
      print_latency_row(out, label_w, std::to_string(p.resolved_threads), p.latency.ms);
      std::fprintf(out, "  %-*s speed-up %.2fx", label_w, "", p.speedup);
      if (p.has_separate)
        std::fprintf(out, "; tasks alone %.3f ms in sum, one pass saves %.1f%%",
                     p.separate.sum_median_ms, 100.0 * p.separate.saving);
      std::fprintf(out, "\n");
    }
  }
}

}  // namespace polyhead::cli
