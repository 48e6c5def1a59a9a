// Built only with polyhead_compare (OpenCV); see tools/CMakeLists.txt.
#ifdef POLYHEAD_HAVE_COMPARE

#include "cli/compare_text.h"

#include <cmath>
#include <string>

#include "cli/format.h"

namespace polyhead::cli {
namespace {

using namespace polyhead::compare;

// "-" for no value (NaN): an empty set, or top-5 with five classes or fewer.
std::string num(double v, int precision = 4) {
  return std::isnan(v) ? "-" : format_float(v, precision);
}

// Fixed decimals for numbers in [0, 1] (IoU, ratios) so columns line up.
std::string fixed(double v, int decimals = 4) {
  if (std::isnan(v)) return "-";
  char s[32];
  std::snprintf(s, sizeof s, "%.*f", decimals, v);
  return s;
}

std::string percent(double v, int decimals = 1) {
  return std::isnan(v) ? "-" : fixed(100.0 * v, decimals) + "%";
}

std::string of(size_t part, size_t whole) {
  return " (" + std::to_string(part) + " of " + std::to_string(whole) + ")";
}

void row(FILE* out, const char* label, const std::string& value) {
  std::fprintf(out, "  %-20s %s\n", label, value.c_str());
}

void print_task(const TaskComparison& t, double temperature, FILE* out) {
  switch (t.method) {
    case Method::kClassification: {
      const ClassificationSummary& c = t.classification;
      const std::string classes =
          c.classes == 1 ? std::string("binary") : std::to_string(c.classes) + " classes";
      std::fprintf(out, "%s (%s: %s from %s, T = %s)\n", t.task.c_str(), to_string(t.kind),
                   classes.c_str(), c.scores.c_str(), format_float(temperature).c_str());
      row(out, "top-1 agreement", percent(c.top1()) + of(c.top1_agree, c.samples));
      row(out, "top-5 agreement",
          c.classes > 5 ? percent(c.top5()) + of(c.top5_agree, c.samples)
                        : std::string("- (5 classes or fewer)"));
      row(out, "KL divergence", "mean " + num(c.kl_mean()) + "  max " + num(c.kl_max) + " nats");
      break;
    }
    case Method::kMask: {
      const MaskSummary& m = t.mask;
      std::fprintf(out, "%s (%s: mask at threshold %s / %s)\n", t.task.c_str(), to_string(t.kind),
                   format_float(m.teacher_threshold).c_str(),
                   format_float(m.student_threshold).c_str());
      row(out, "mask IoU",
          "mean " + fixed(m.iou_mean()) + "  min " + fixed(m.images ? m.iou_min : NAN));
      row(out, "probability error", "mean " + num(m.probability_error_mean()));
      row(out, "coverage",
          "teacher " + percent(mean_of(m.teacher_coverage_sum, m.images)) + "  student " +
              percent(mean_of(m.student_coverage_sum, m.images)));
      break;
    }
    case Method::kClassMap: {
      const ClassMapSummary& c = t.class_map;
      std::fprintf(out, "%s (%s: class maps, %zu classes)\n", t.task.c_str(), to_string(t.kind),
                   c.classes);
      row(out, "mean IoU",
          "mean " + fixed(c.miou_mean()) + "  min " + fixed(c.images ? c.miou_min : NAN));
      row(out, "pixel agreement", percent(c.pixel_agreement_mean()));
      break;
    }
    case Method::kDetection: {
      const DetectionSummary& d = t.detection;
      std::fprintf(out, "%s (%s: boxes matched at IoU >= %s)\n", t.task.c_str(), to_string(t.kind),
                   format_float(d.match_iou).c_str());
      row(out, "boxes",
          "teacher " + std::to_string(d.teacher_boxes) + "  student " +
              std::to_string(d.student_boxes) + "  (" + std::to_string(d.extra()) + " extra)");
      row(out, "recall", percent(d.recall()) + of(d.matched, d.teacher_boxes));
      row(out, "matched IoU", "mean " + fixed(d.iou_mean()));
      row(out, "score error", "mean " + num(d.score_error_mean()));
      break;
    }
    case Method::kLandmarks: {
      const LandmarkSummary& l = t.landmarks;
      std::fprintf(out, "%s (%s: %zu points per image)\n", t.task.c_str(), to_string(t.kind),
                   l.images ? l.points / l.images : 0);
      row(out, "point error",
          "mean " + percent(l.error_mean(), 2) + "  max " +
              percent(l.images ? l.error_max : NAN, 2) + " of the input size");
      row(out, "visibility error", "mean " + num(l.visibility_error_mean()));
      break;
    }
    case Method::kRaw: {
      const RawSummary& r = t.raw;
      std::fprintf(out, "%s (%s: raw values, %zu per image)\n", t.task.c_str(), to_string(t.kind),
                   r.elements);
      if (!t.note.empty()) std::fprintf(out, "  (%s)\n", t.note.c_str());
      row(out, "abs error",
          "mean " + num(r.abs_error_mean()) + "  max " + num(r.images ? r.abs_error_max : NAN));
      row(out, "cosine similarity", "mean " + num(r.cosine_mean(), 6));
      break;
    }
  }
}

void ratio_row(FILE* out, const char* label, double ratio, const std::string& detail) {
  std::fprintf(out, "  %-10s %-7s %s\n", label, fixed(ratio, 3).c_str(), detail.c_str());
}

std::string model_line(const ModelSummary& m) {
  return m.path + ": " + format_bytes(m.file_bytes) + ", input '" + m.input + "' " +
         std::to_string(m.input_width) + "x" + std::to_string(m.input_height);
}

}  // namespace

void print_compare_text(const CompareReport& r, FILE* out) {
  std::fprintf(out, "teacher  %s\n", model_line(r.teacher).c_str());
  std::fprintf(out, "student  %s\n", model_line(r.student).c_str());
  std::fprintf(out, "images   %zu", r.images.size());
  if (!r.skipped.empty()) std::fprintf(out, " (%zu other files skipped)", r.skipped.size());
  std::fprintf(out, "\n");
  for (const TaskComparison& t : r.tasks) {
    std::fprintf(out, "\n");
    print_task(t, r.temperature, out);
  }
  std::fprintf(out, "\nstudent / teacher\n");
  ratio_row(out, "file size", r.file_ratio(),
            format_bytes(r.student.file_bytes) + " / " + format_bytes(r.teacher.file_bytes));
  ratio_row(out, "arena", r.arena_ratio(),
            format_bytes(r.student.arena_bytes) + " / " + format_bytes(r.teacher.arena_bytes));
  const int runs = r.latency_rounds * r.latency_runs;
  ratio_row(out, "latency", r.latency_ratio(),
            format_float(r.student.latency_ms) + " ms / " + format_float(r.teacher.latency_ms) +
                " ms (medians of " + std::to_string(runs) + " runs each, " +
                std::to_string(r.latency_rounds) + " interleaved rounds, " +
                (r.threads == 0   ? std::string("a thread per logical processor)")
                 : r.threads == 1 ? std::string("1 thread)")
                                  : std::to_string(r.threads) + " threads)"));
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_COMPARE
