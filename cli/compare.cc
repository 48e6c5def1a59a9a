// `polyhead compare TEACHER STUDENT --images DIR`: how far a student model's results are from its
// teacher's on the same photos, per task kind, with size, arena and latency ratios (tools/compare,
// docs/compare.md).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"

#ifdef POLYHEAD_HAVE_COMPARE
#include "cli/compare_json.h"
#include "cli/compare_text.h"
#include "cli/progress.h"
#include "eval/comparer.h"
#include "eval/image_set.h"
#endif

namespace polyhead::cli {

const char kCompareUsage[] =
    "usage: polyhead compare TEACHER.phm STUDENT.phm --images DIR|PHOTO [--images ...]\n"
    "                        [--limit N] [--temperature T] [--match-iou X] [--tasks a,b]\n"
    "                        [--threads N] [--rounds N] [--runs N] [--json FILE] [--quiet]\n"
    "                        [--sparse-weights auto|sparse|dense]\n"
    "\n"
    "Runs a teacher and a student model (a model and its quantized, pruned, distilled, converted\n"
    "or merged copy, or a smaller-input or narrower variant) on the same photos, each through its\n"
    "own declared pre-processing, and reports per task how far the student is from the teacher:\n"
    "  classification  top-1 and top-5 agreement, KL(teacher||student) of softmax(logits / T)\n"
    "  segmentation    mask IoU at the task's threshold in photo pixels (masks with more than two\n"
    "                  channels and no threshold: mean IoU and pixel agreement of the class maps)\n"
    "  detection       boxes decoded and suppressed as `run --image` does, matched by IoU: recall\n"
    "                  of the teacher's boxes, extra boxes, mean IoU and score error of matches\n"
    "  landmarks       mean and max point error as a fraction of the teacher's input size\n"
    "  other kinds     mean and max absolute error and cosine similarity of the raw outputs\n"
    "and the student/teacher ratios of file size, arena and latency (medians of interleaved runs\n"
    "in this process). Tasks are paired by name; kinds and output shapes must match, except the\n"
    "mask size and anchor count, which follow the input size. See docs/compare.md.\n"
    "\n"
    "options:\n"
    "  --images DIR|FILE  a folder (its .jpg/.jpeg/.png/.bmp files, sorted by name; other files\n"
    "                     are skipped with a note) or one photo; repeat to add more (required)\n"
    "  --limit N          use only the first N images\n"
    "  --temperature T    softening temperature of the KL divergence, a number > 0 (default 1)\n"
    "  --match-iou X      least IoU for a student box to match a teacher box, in (0, 1]\n"
    "                     (default 0.5)\n"
    "  --tasks a,b        compare these tasks only (default: every task; then both models need\n"
    "                     the same tasks)\n"
    "  --threads N        worker threads per model, 0 = one per logical processor (default 1)\n"
    "  --rounds N         latency: interleaved rounds, the order flipped every round (default 5)\n"
    "  --runs N           latency: runs of each model per round (default 10)\n"
    "  --sparse-weights M layers with block-sparse weights, in both models: auto (default),\n"
    "                     sparse or dense (docs/sparse.md)\n"
    "  --json FILE        also write every number as JSON to FILE ('-': to stdout, instead of\n"
    "                     the table)\n"
    "  --quiet            no progress lines on stderr (photos compared, timing)\n";

#ifndef POLYHEAD_HAVE_COMPARE

int compare_main(const std::vector<std::string>& args) {
  return report_needs_opencv("compare", kCompareUsage, args);
}

#else

namespace {

// A finite number > 0; NaN, infinities and 0 say so in one message.
Result<double> parse_temperature(const std::string& text) {
  auto v = parse_double("--temperature", text, 0, 1e9);
  if (!v.is_ok() || !(*v > 0))
    return Status(ErrorCode::kInvalidArgument,
                  "invalid value '" + text + "' for --temperature: expected a finite number > 0");
  return v;
}

Result<double> parse_match_iou(const std::string& text) {
  auto v = parse_double("--match-iou", text, 0, 1);
  if (!v.is_ok() || !(*v > 0))
    return Status(ErrorCode::kInvalidArgument,
                  "invalid value '" + text + "' for --match-iou: expected a number in (0, 1]");
  return v;
}

// Fills `o` from the options; a usage error names the option and value.
Status read_options(const ParsedArgs& p, compare::CompareOptions& o, size_t& limit) {
  if (p.has("--temperature")) {
    PH_ASSIGN_OR_RETURN(o.temperature, parse_temperature(p.get("--temperature")));
  }
  if (p.has("--match-iou")) {
    PH_ASSIGN_OR_RETURN(o.match_iou, parse_match_iou(p.get("--match-iou")));
  }
  if (p.has("--tasks")) {
    PH_ASSIGN_OR_RETURN(o.tasks, parse_list("--tasks", p.get("--tasks")));
  }
  if (p.has("--threads")) {
    PH_ASSIGN_OR_RETURN(const long long t, parse_int("--threads", p.get("--threads"), 0, 1024));
    o.threads = static_cast<size_t>(t);
  }
  if (p.has("--sparse-weights")) {
    PH_ASSIGN_OR_RETURN(o.sparse_weights, parse_sparse_weights_option(p.get("--sparse-weights")));
  }
  if (p.has("--rounds")) {
    PH_ASSIGN_OR_RETURN(const long long r, parse_int("--rounds", p.get("--rounds"), 1, 1000));
    o.latency.rounds = static_cast<int>(r);
  }
  if (p.has("--runs")) {
    PH_ASSIGN_OR_RETURN(const long long r, parse_int("--runs", p.get("--runs"), 1, 100000));
    o.latency.runs = static_cast<int>(r);
  }
  if (p.has("--limit")) {
    PH_ASSIGN_OR_RETURN(const long long l, parse_int("--limit", p.get("--limit"), 1, 1000000000));
    limit = static_cast<size_t>(l);
  }
  return Status::ok();
}

}  // namespace

int compare_main(const std::vector<std::string>& args) {
  const char* cmd = "compare";
  auto parsed = parse_args(args, {{"--images", true, true},
                                  {"--limit", true},
                                  {"--temperature", true},
                                  {"--match-iou", true},
                                  {"--tasks", true},
                                  {"--threads", true},
                                  {"--rounds", true},
                                  {"--sparse-weights", true},
                                  {"--runs", true},
                                  {"--json", true},
                                  {"--quiet", false}});
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kCompareUsage, stdout);
    return kExitOk;
  }
  const std::vector<std::string>& models = parsed->positional;
  if (models.size() != 2)
    return report_usage_error(
        cmd, models.size() < 2 ? "needs TEACHER.phm and STUDENT.phm, got " +
                                     std::to_string(models.size()) + " model(s)"
                               : "expected two models, found extra argument '" + models[2] + "'");
  if (!parsed->has("--images"))
    return report_usage_error(cmd, "missing --images DIR (a folder of photos, or photo files)");
  compare::CompareOptions options;
  size_t limit = 0;
  const Status read = read_options(*parsed, options, limit);
  if (!read.is_ok()) return report_usage_error(cmd, read.message());
  const std::string json_path = parsed->get("--json");

  auto images = compare::collect_images(parsed->all("--images"), limit);
  if (!images.is_ok())
    return report_error(cmd, "--images: " + images.status().message(), kExitRuntime);
  for (const std::string& s : images->skipped)
    std::fprintf(stderr,
                 "polyhead compare: note: skipping '%s' (not a .jpg/.jpeg/.png/.bmp file)\n",
                 s.c_str());

  auto teacher = Model::load_file(models[0]);
  if (!teacher.is_ok())
    return report_error(cmd,
                        "cannot load teacher '" + models[0] + "': " + teacher.status().to_string(),
                        kExitRuntime);
  auto student = Model::load_file(models[1]);
  if (!student.is_ok())
    return report_error(cmd,
                        "cannot load student '" + models[1] + "': " + student.status().to_string(),
                        kExitRuntime);
  Progress progress(cmd, !parsed->has("--quiet"));
  progress.stage("comparing on " + counted(images->files.size(), "photo"));
  options.progress = [&](const char* stage, size_t done, size_t total) {
    if (std::string(stage) == "timing")
      progress.stage("timing teacher and student: " + counted(options.latency.rounds, "round") +
                     " of " + counted(options.latency.runs, "run") + " each, interleaved");
    else
      progress.step(stage, done, total, "photos");
  };
  auto report = compare::compare_models(*teacher, *student, images->files, options);
  if (!report.is_ok()) return report_error(cmd, report.status().message(), kExitRuntime);
  report->teacher.path = models[0];
  report->student.path = models[1];
  report->skipped = images->skipped;

  if (json_path == "-") {
    std::printf("%s\n", compare_json(*report).c_str());
    return kExitOk;
  }
  print_compare_text(*report, stdout);
  if (!json_path.empty()) {
    std::ofstream f(json_path, std::ios::trunc);
    f << compare_json(*report) << "\n";
    f.close();
    if (!f) return report_error(cmd, "--json: cannot write '" + json_path + "'", kExitRuntime);
  }
  return kExitOk;
}

#endif  // POLYHEAD_HAVE_COMPARE

}  // namespace polyhead::cli
