#include "cli/bench_json.h"

#include "cli/json.h"

namespace polyhead::cli {
namespace {

// size_t is not uint64_t on 32-bit ARM, so counts are widened before they reach the writer.
uint64_t u64(size_t v) {
  return static_cast<uint64_t>(v);
}

void write_latency(JsonWriter& j, const Latency& l) {
  j.begin_object();
  write_summary_fields(j, l.ms);
  j.field("samples", l.samples_ms).end_object();
}

void write_shapes(JsonWriter& j, const std::vector<Shape>& shapes) {
  j.begin_array();
  for (const Shape& s : shapes) j.value(s);
  j.end_array();
}

void write_profile(JsonWriter& j, const Profile& p) {
  j.begin_object().field("runs", u64(p.runs)).field("total_median_us", p.total_median_us);
  j.key("nodes").begin_array();
  for (const NodeProfile& n : p.nodes) {
    j.begin_object().field("name", n.name).field("op", n.op).field("part", n.part);
    j.key("input_shapes");
    write_shapes(j, n.input_shapes);
    j.key("output_shapes");
    write_shapes(j, n.output_shapes);
    j.field("macs", n.macs)
        .field("median_us", n.median_us)
        .field("mean_us", n.mean_us)
        .field("share", n.share)
        .field("gflops", n.gflops)
        .end_object();
  }
  j.end_array();
  j.key("parts").begin_array();
  for (const PartProfile& part : p.parts)
    j.begin_object()
        .field("part", part.part)
        .field("nodes", u64(part.nodes))
        .field("macs", part.macs)
        .field("median_us", part.median_us)
        .field("share", part.share)
        .end_object();
  j.end_array().end_object();
}

void write_separate(JsonWriter& j, const Separate& s) {
  j.begin_object();
  j.key("tasks").begin_array();
  for (const SeparateTask& t : s.tasks) {
    j.begin_object().field("task", t.task).key("latency_ms");
    write_latency(j, t.latency);
    j.end_object();
  }
  j.end_array();
  j.field("sum_median_ms", s.sum_median_ms)
      .field("one_pass_median_ms", s.one_pass_median_ms)
      .field("saving", s.saving)
      .end_object();
}

}  // namespace

std::string bench_to_json(const BenchResult& r) {
  const BenchConfig& c = r.config;
  JsonWriter j;
  j.begin_object().field("schema", kBenchJsonSchema);
  j.field("model", c.model_path).field("model_format", r.model_format).field("tasks", r.tasks);
  j.key("config").begin_object();
  j.field("threads", u64(c.threads)).field("resolved_threads", u64(r.resolved_threads));
  j.field("warmup", c.warmup).field("runs", c.runs).field("min_time_s", c.min_time_s);
  j.field("profile", c.profile).field("separate", c.separate);
  j.field("parallel_heads", std::string(parallel_heads_name(c.parallel_heads)));
  j.field("sparse_weights", std::string(sparse_weights_name(c.sparse_weights)));
  j.key("sweep_threads").begin_array();
  for (size_t t : c.sweep_threads) j.value(u64(t));
  j.end_array().end_object();
  j.key("plan")
      .begin_object()
      .field("nodes", u64(r.plan_nodes))
      .field("macs", r.plan_macs)
      .field("nodes_with_thread_choice", u64(r.nodes_with_thread_choice))
      .field("nodes_on_calling_thread", u64(r.nodes_on_calling_thread))
      .field("parallel_head_groups", u64(r.parallel_head_groups))
      .field("heads_in_parallel", r.heads_in_parallel)
      .end_object();
  j.field("load_ms", r.load_ms).field("prepare_ms", r.prepare_ms);
  j.key("latency_ms");
  write_latency(j, r.latency);
  const Memory& m = r.memory;
  j.key("memory")
      .begin_object()
      .field("model_bytes", m.model_bytes)
      .field("packed_weight_bytes", m.packed_weight_bytes)
      .field("sparse_kernel_nodes", m.sparse_kernel_nodes)
      .field("expanded_sparse_weight_bytes", m.expanded_sparse_weight_bytes)
      .field("prepare_rss_delta_bytes", m.prepare_rss_delta_bytes)
      .field("arena_bytes", m.arena_bytes)
      .field("arena_lower_bound_bytes", m.arena_lower_bound_bytes)
      .field("peak_rss_bytes", m.peak_rss_bytes)
      .end_object();
  // Sections that were not asked for are left out rather than written empty.
  if (r.has_profile) {
    j.key("profile");
    write_profile(j, r.profile);
  }
  if (r.has_separate) {
    j.key("separate");
    write_separate(j, r.separate);
  }
  j.key("sweep").begin_array();
  for (const ThreadPoint& p : r.sweep) {
    j.begin_object()
        .field("threads", u64(p.threads))
        .field("resolved_threads", u64(p.resolved_threads));
    j.key("latency_ms");
    write_latency(j, p.latency);
    j.field("speedup", p.speedup);
    if (p.has_separate) {
      j.key("separate");
      write_separate(j, p.separate);
    }
    j.end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

void write_summary_fields(JsonWriter& j, const Summary& s) {
  j.field("count", static_cast<uint64_t>(s.count))
      .field("min", s.min)
      .field("median", s.median)
      .field("p90", s.p90)
      .field("p99", s.p99)
      .field("max", s.max)
      .field("mean", s.mean)
      .field("stddev", s.stddev);
}

}  // namespace polyhead::cli
