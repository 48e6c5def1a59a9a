#include "cli/soak_report.h"

#include <algorithm>

#include "cli/bench_json.h"
#include "cli/format.h"
#include "cli/json.h"

namespace polyhead::cli {
namespace {

// size_t is not uint64_t on 32-bit ARM, so counts are widened before they reach the writer.
uint64_t u64(size_t v) {
  return static_cast<uint64_t>(v);
}

double mib(int64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

void write_summary(JsonWriter& j, const Summary& s) {
  j.begin_object();
  write_summary_fields(j, s);
  j.end_object();
}

double drift_ratio(const SoakResult& r) {
  return r.first_decile_median_ms > 0 ? r.last_decile_median_ms / r.first_decile_median_ms : 0;
}

}  // namespace

void print_soak_text(const SoakResult& r, FILE* out) {
  const SoakConfig& c = r.config;
  std::fprintf(out, "soak      %s (%s): %s\n", c.model_path.c_str(), r.model_format.c_str(),
               r.passed ? "passed" : "FAILED");
  if (!r.passed) std::fprintf(out, "failure   %s\n", r.failure.c_str());
  std::fprintf(out, "runs      %zu of %zu (%zu warm-up), %.1f s, seed %llu\n", r.runs_done, c.runs,
               c.warmup_runs, r.elapsed_s, static_cast<unsigned long long>(c.seed));
  std::fprintf(out, "tasks     %s: %zu subsets, threads %zu, parallel heads %s\n",
               join(r.tasks, ", ").c_str(), r.subsets.size(), r.resolved_threads,
               parallel_heads_name(c.parallel_heads));
  std::fprintf(out,
               "plans     %zu plan switches, %zu subset switches; %zu prepares: %zu first, %zu "
               "again after eviction, %zu from the cache (capacity %zu); median prepare %.3f ms\n",
               r.plan_switches, r.subset_switches, r.prepares, r.first_prepares, r.re_prepares,
               r.cache_hits, c.plan_cache, r.prepare_median_ms);
  std::fprintf(out, "outputs   %zu checks against %zu references: %s; same on every plan: %s\n",
               r.output_checks, r.output_slots, r.output_changed ? "CHANGED" : "no change",
               r.outputs_agree_across_plans ? "yes" : "no");
  std::fprintf(out, "\nresident memory (sampled every %zu runs)\n", c.sample_every);
  std::fprintf(out, "  start                %s\n", format_bytes(r.rss_start_bytes).c_str());
  std::fprintf(out, "  after warm-up        %s\n", format_bytes(r.rss_after_warmup_bytes).c_str());
  std::fprintf(out, "  end                  %s\n", format_bytes(r.rss_end_bytes).c_str());
  std::fprintf(out, "  max of samples       %s (peak VmHWM %s)\n",
               format_bytes(r.rss_max_bytes).c_str(), format_bytes(r.peak_rss_bytes).c_str());
  std::fprintf(out, "  max drift            %+.3f MiB after %zu runs (bound %.3f MiB)\n",
               mib(r.rss_max_drift_bytes), r.rss_max_drift_run,
               mib(static_cast<int64_t>(r.rss_bound_bytes)));
  std::fprintf(out, "  arena pool           %s after warm-up, %s at the end\n",
               format_bytes(r.arena_pool_after_warmup_bytes).c_str(),
               format_bytes(r.arena_pool_end_bytes).c_str());

  std::fprintf(out, "\nlatency in ms after warm-up\n");
  size_t label_w = 8;
  for (const SoakSubsetResult& s : r.subsets)
    label_w = std::max(label_w, join(s.tasks, "+").size());
  const int w = static_cast<int>(label_w);
  std::fprintf(out, "  %-*s %8s %8s %8s %8s %8s\n", w, "subset", "min", "median", "p99", "max",
               "runs");
  auto row = [&](const std::string& label, const Summary& s) {
    std::fprintf(out, "  %-*s %8.3f %8.3f %8.3f %8.3f %8zu\n", w, label.c_str(), s.min, s.median,
                 s.p99, s.max, s.count);
  };
  for (const SoakSubsetResult& s : r.subsets) row(join(s.tasks, "+"), s.latency_ms);
  row("all runs", r.latency_ms);
  std::fprintf(out, "  drift: median %.3f ms in the first tenth, %.3f ms in the last (x%.3f)\n",
               r.first_decile_median_ms, r.last_decile_median_ms, drift_ratio(r));
}

std::string soak_to_json(const SoakResult& r) {
  const SoakConfig& c = r.config;
  JsonWriter j;
  j.begin_object().key("soak").begin_object();
  j.field("model", c.model_path)
      .field("model_format", r.model_format)
      .field("passed", r.passed)
      .field("failure", r.failure)
      .field("tasks", r.tasks)
      .field("runs", u64(c.runs))
      .field("runs_done", u64(r.runs_done))
      .field("warmup_runs", u64(c.warmup_runs))
      .field("sample_every", u64(c.sample_every))
      .field("seed", static_cast<uint64_t>(c.seed))
      .field("threads", u64(c.threads))
      .field("resolved_threads", u64(r.resolved_threads))
      .field("parallel_heads", parallel_heads_name(c.parallel_heads))
      .field("elapsed_s", r.elapsed_s);
  j.key("plans")
      .begin_object()
      .field("cache_capacity", u64(c.plan_cache))
      .field("plan_switches", u64(r.plan_switches))
      .field("subset_switches", u64(r.subset_switches))
      .field("prepares", u64(r.prepares))
      .field("first_prepares", u64(r.first_prepares))
      .field("re_prepares", u64(r.re_prepares))
      .field("cache_hits", u64(r.cache_hits))
      .field("cached_plans_at_end", u64(r.cached_plans))
      .field("prepare_median_ms", r.prepare_median_ms)
      .end_object();
  j.key("outputs")
      .begin_object()
      .field("references", u64(r.output_slots))
      .field("checks", u64(r.output_checks))
      .field("changed", r.output_changed)
      .field("same_on_every_plan", r.outputs_agree_across_plans)
      .end_object();
  j.key("rss")
      .begin_object()
      .field("start_bytes", r.rss_start_bytes)
      .field("after_warmup_bytes", r.rss_after_warmup_bytes)
      .field("end_bytes", r.rss_end_bytes)
      .field("max_bytes", r.rss_max_bytes)
      .field("peak_hwm_bytes", r.peak_rss_bytes)
      .field("max_drift_bytes", r.rss_max_drift_bytes)
      .field("max_drift_after_runs", u64(r.rss_max_drift_run))
      .field("bound_bytes", r.rss_bound_bytes)
      .field("arena_pool_after_warmup_bytes", r.arena_pool_after_warmup_bytes)
      .field("arena_pool_end_bytes", r.arena_pool_end_bytes)
      .end_object();
  j.key("latency_ms");
  write_summary(j, r.latency_ms);
  j.key("latency_drift")
      .begin_object()
      .field("first_decile_median_ms", r.first_decile_median_ms)
      .field("last_decile_median_ms", r.last_decile_median_ms)
      .field("ratio", drift_ratio(r))
      .end_object();
  j.key("subsets").begin_array();
  for (const SoakSubsetResult& s : r.subsets) {
    j.begin_object().field("tasks", s.tasks).field("runs", u64(s.runs)).key("latency_ms");
    write_summary(j, s.latency_ms);
    j.end_object();
  }
  j.end_array();
  j.key("samples").begin_array();
  for (const SoakSample& s : r.samples)
    j.begin_object()
        .field("runs", u64(s.run))
        .field("rss_bytes", s.rss_bytes)
        .field("median_ms", s.median_ms)
        .end_object();
  j.end_array();
  j.end_object().end_object();
  return j.str() + "\n";
}

}  // namespace polyhead::cli
