#ifdef POLYHEAD_HAVE_COMPRESS
#include "cli/compression_output.h"

#include <cstdio>
#include <string>

#include "cli/format.h"

namespace polyhead::cli {

namespace {

void row(const char* what, const std::string& teacher, const std::string& student, double ratio) {
  std::printf("  %-16s %14s %14s   %s\n", what, teacher.c_str(), student.c_str(),
              ratio > 0 ? format_float(ratio, 3).c_str() : "-");
}

std::string ms(double v) {
  return format_float(v, 4) + " ms";
}

void figures(JsonWriter& j, const compress::ModelFigures& f) {
  j.begin_object()
      .field("file_bytes", f.file_bytes)
      .field("macs", f.macs)
      .field("arena_bytes", f.arena_bytes)
      .field("packed_weight_bytes", f.packed_weight_bytes)
      .field("sparse_kernel_nodes", f.sparse_kernel_nodes)
      .field("latency_ms", f.latency_ms)
      .end_object();
}

}  // namespace

void print_compression(const compress::CompressionReport& r) {
  std::printf(
      "\ncompressed against the original (%zu image(s), %d interleaved runs each, %zu "
      "thread(s); no fine-tuning)\n",
      r.images, r.latency_samples, r.threads);
  std::printf("  %-16s %14s %14s   %s\n", "", "original", "compressed", "ratio");
  row("file", format_bytes(r.teacher.file_bytes), format_bytes(r.student.file_bytes),
      r.file_ratio());
  row("MACs per pass", format_count(r.teacher.macs), format_count(r.student.macs), r.macs_ratio());
  row("arena", format_bytes(r.teacher.arena_bytes), format_bytes(r.student.arena_bytes),
      r.arena_ratio());
  row("packed weights", format_bytes(r.teacher.packed_weight_bytes),
      format_bytes(r.student.packed_weight_bytes),
      compress::CompressionReport::ratio(static_cast<double>(r.student.packed_weight_bytes),
                                         static_cast<double>(r.teacher.packed_weight_bytes)));
  row("latency (median)", ms(r.teacher.latency_ms), ms(r.student.latency_ms), r.latency_ratio());
  if (r.student.sparse_kernel_nodes)
    std::printf("  %zu layer(s) of the compressed model run on the sparse kernel\n",
                static_cast<size_t>(r.student.sparse_kernel_nodes));
  std::printf("  accuracy drop    %s (worst task)\n", format_float(r.worst_drop, 4).c_str());
  for (const quantize::TaskDrop& t : r.tasks)
    std::printf("    %-14s %s (%s)\n", t.task.c_str(), format_float(t.drop, 4).c_str(),
                t.metric.c_str());
}

void add_compression_json(JsonWriter& j, const compress::CompressionReport& r) {
  j.begin_object();
  j.field("images", static_cast<uint64_t>(r.images))
      .field("latency_runs", r.latency_samples)
      .field("threads", static_cast<uint64_t>(r.threads))
      .field("fine_tuned", false);
  j.key("original");
  figures(j, r.teacher);
  j.key("compressed");
  figures(j, r.student);
  j.key("ratios")
      .begin_object()
      .field("file", r.file_ratio())
      .field("macs", r.macs_ratio())
      .field("arena", r.arena_ratio())
      .field("latency", r.latency_ratio())
      .end_object();
  j.field("worst_drop", r.worst_drop);
  j.key("tasks").begin_array();
  for (const quantize::TaskDrop& t : r.tasks)
    j.begin_object()
        .field("task", t.task)
        .field("metric", t.metric)
        .field("drop", t.drop)
        .field("score", t.score)
        .end_object();
  j.end_array().end_object();
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_COMPRESS
