#include "cli/stream_report.h"

#include <algorithm>
#include <cstdio>

#include "cli/json.h"

namespace polyhead::cli {
namespace {

std::string printf_string(const char* format, double v) {
  char s[64];
  std::snprintf(s, sizeof s, format, v);
  return s;
}

// "every frame", "every 3rd frame", "5 Hz"
std::string rate_text(const TaskStats& t) {
  if (t.rate_hz > 0) return printf_string("%g Hz", t.rate_hz);
  if (t.every_n_frames <= 1) return "every frame";
  return "1/" + std::to_string(t.every_n_frames) + " frames";
}

}  // namespace

std::string stream_status_line(const StreamStats& stats, size_t total_frames) {
  std::string line = printf_string("%.1f fps;", stats.throughput_fps);
  for (size_t i = 0; i < stats.tasks.size(); ++i) {
    const TaskStats& t = stats.tasks[i];
    line += (i ? ", " : " ") + t.plan + ":" + t.task + " " + std::to_string(t.runs) + " run " +
            std::to_string(t.skips) + " skip " + std::to_string(t.deadline_misses) + " miss";
  }
  line += "; " + std::to_string(stats.frames_in);
  if (total_frames > 0) line += "/" + std::to_string(total_frames);
  line += stats.frames_in == 1 && total_frames == 0 ? " frame" : " frames";
  if (stats.frames_dropped > 0) line += " (" + std::to_string(stats.frames_dropped) + " dropped)";
  return line;
}

std::string stream_text_report(const StreamSetup& s, const StreamStats& stats) {
  std::string out;
  const auto line = [&](const std::string& text) { out += text + "\n"; };
  std::string source =
      "source   " + s.source + " (" + std::to_string(s.width) + "x" + std::to_string(s.height);
  if (s.source_fps > 0) source += printf_string(", %.2f fps", s.source_fps);
  line(source + ")");
  for (size_t m = 0; m < s.model_paths.size(); ++m)
    line((m == 0 ? "models   " : "         ") + s.labels[m] + "  " + s.model_paths[m]);
  std::string run = "threads  " + std::to_string(s.threads) + " (one pool for every model)";
  line(run);
  line("budget   " +
       (s.budget_ms > 0 ? printf_string("%g ms per frame", s.budget_ms) : std::string("none")));
  std::string queue = "queue    " + std::to_string(s.queue_capacity) + " frames, drop " + s.drop;
  if (s.pace_fps > 0) queue += printf_string(", frames read at %.2f fps", s.pace_fps);
  line(queue);
  line("");

  size_t width = 4;
  for (const TaskStats& t : stats.tasks) width = std::max(width, t.plan.size() + 1 + t.task.size());
  char row[512];
  std::snprintf(row, sizeof row, "%-*s  %-14s %8s %8s %6s %6s %6s %8s %8s %8s",
                static_cast<int>(width), "task", "rate", "priority", "deadline", "runs", "skips",
                "misses", "p50 ms", "p90 ms", "p99 ms");
  line(row);
  for (const TaskStats& t : stats.tasks) {
    const std::string name = t.plan + ":" + t.task;
    const std::string deadline =
        t.deadline_ms > 0 ? printf_string("%g ms", t.deadline_ms) : std::string("-");
    std::snprintf(row, sizeof row, "%-*s  %-14s %8d %8s %6llu %6llu %6llu %8.2f %8.2f %8.2f",
                  static_cast<int>(width), name.c_str(), rate_text(t).c_str(), t.priority,
                  deadline.c_str(), static_cast<unsigned long long>(t.runs),
                  static_cast<unsigned long long>(t.skips),
                  static_cast<unsigned long long>(t.deadline_misses), t.latency_p50_ms,
                  t.latency_p90_ms, t.latency_p99_ms);
    line(row);
  }
  line("");
  line("frames   " + std::to_string(stats.frames_in) + " in, " +
       std::to_string(stats.frames_processed) + " processed, " +
       std::to_string(stats.frames_dropped) + " dropped, " +
       std::to_string(stats.frames_over_budget) + " over budget");
  line(printf_string("speed    %.1f frames/s", stats.throughput_fps) +
       printf_string(" over %.2f s", stats.seconds));
  line(printf_string("latency  frame p50 %.2f ms", stats.frame_latency_p50_ms) +
       printf_string(", p90 %.2f ms", stats.frame_latency_p90_ms) +
       printf_string(", p99 %.2f ms", stats.frame_latency_p99_ms) +
       " (from the frame's arrival to its last result)");
  if (!s.annotated.empty())
    line("wrote    " + s.annotated + " (" + std::to_string(s.annotated_frames) + " frames)");
  return out;
}

std::string stream_json_report(const StreamSetup& s, const StreamStats& stats) {
  JsonWriter j;
  j.begin_object();
  j.key("source")
      .begin_object()
      .field("kind", s.source_kind)
      .field("description", s.source)
      .field("width", s.width)
      .field("height", s.height)
      .field("fps", s.source_fps)
      .end_object();
  j.key("models").begin_array();
  for (size_t m = 0; m < s.model_paths.size(); ++m)
    j.begin_object().field("label", s.labels[m]).field("path", s.model_paths[m]).end_object();
  j.end_array();
  j.field("threads", static_cast<uint64_t>(s.threads)).field("budget_ms", s.budget_ms);
  j.field("queue_capacity", static_cast<uint64_t>(s.queue_capacity)).field("drop", s.drop);
  j.field("pace_fps", s.pace_fps);
  j.key("tasks").begin_array();
  for (const TaskStats& t : stats.tasks) {
    j.begin_object()
        .field("model", t.plan)
        .field("task", t.task)
        .field("every_n_frames", static_cast<uint64_t>(t.every_n_frames))
        .field("rate_hz", t.rate_hz)
        .field("priority", t.priority)
        .field("deadline_ms", t.deadline_ms)
        .field("runs", t.runs)
        .field("skips", t.skips)
        .field("deadline_misses", t.deadline_misses);
    j.key("latency_ms")
        .begin_object()
        .field("p50", t.latency_p50_ms)
        .field("p90", t.latency_p90_ms)
        .field("p99", t.latency_p99_ms)
        .field("max", t.latency_max_ms)
        .end_object();
    j.field("estimated_cost_ms", t.estimated_cost_ms)
        .field("estimated_shared_ms", t.estimated_shared_ms)
        .end_object();
  }
  j.end_array();
  j.key("stream")
      .begin_object()
      .field("frames_in", stats.frames_in)
      .field("frames_processed", stats.frames_processed)
      .field("frames_dropped", stats.frames_dropped)
      .field("frames_over_budget", stats.frames_over_budget)
      .field("seconds", stats.seconds)
      .field("throughput_fps", stats.throughput_fps);
  j.key("frame_latency_ms")
      .begin_object()
      .field("p50", stats.frame_latency_p50_ms)
      .field("p90", stats.frame_latency_p90_ms)
      .field("p99", stats.frame_latency_p99_ms)
      .end_object();
  j.end_object();
  if (!s.annotated.empty())
    j.key("annotated")
        .begin_object()
        .field("path", s.annotated)
        .field("frames", static_cast<uint64_t>(s.annotated_frames))
        .end_object();
  j.end_object();
  return j.str();
}

}  // namespace polyhead::cli
