// `polyhead run`: runs chosen tasks of a model on raw float32 input files and summarises (and
// optionally dumps) every output; or, with --image, on a photo, post-processed per task kind.
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/execute.h"
#include "cli/run_image.h"
#include "polyhead/model.h"

namespace polyhead::cli {

const char kRunUsage[] =
    "usage: polyhead run MODEL --input NAME=FILE.f32 [--input ...] [--tasks a,b] [--threads N]\n"
    "                    [--repeat N] [--dump DIR] [--precision f32|f16]\n"
    "                    [--parallel-heads auto|never|always] [--sparse-weights M]\n"
    "       polyhead run MODEL --image PHOTO [--tasks a,b] [--threads N] [--repeat N]\n"
    "                    [--out ANNOTATED.png] [--json]\n"
    "\n"
    "Runs the chosen tasks (default: all) in one pass and prints, per task output, its shape and\n"
    "min/max/mean (classification: top-5 classes), and the latency of the pass.\n"
    "\n"
    "With --image the photo is pre-processed as the model's input declares (size, fit, colour\n"
    "order, normalisation) and each task is post-processed by its kind and metadata: detections\n"
    "(boxes, scores, keypoints in photo pixels), masks (coverage, bounding box), landmarks (photo\n"
    "pixels, visibility). See docs/vision.md.\n"
    "\n"
    "options:\n"
    "  --input NAME=FILE  raw little-endian float32 data for input NAME, in the layout the model\n"
    "                     declares (see `polyhead inspect`); one per model input\n"
    "  --tasks a,b        the tasks to run (comma separated)\n"
    "  --threads N        worker threads, 0 = one per logical processor (default 1)\n"
    "  --repeat N         run N times and also report the median latency (default 1)\n"
    "  --dump DIR         write DIR/<task>.<output>.f32 and DIR/outputs.json\n"
    "  --precision P      f32 (default) or f16: half-precision operators, on CPUs with fp16\n"
    "                     arithmetic (ARMv8.2-A FP16); see docs/arm.md\n"
    "  --sparse-weights M layers with block-sparse weights: auto (default: the sparse kernel\n"
    "                     where it beats the dense one), sparse (wherever it can) or dense\n"
    "  --parallel-heads M with 2+ threads, whether the heads run at the same time after the\n"
    "                     shared nodes: auto (default: measured per plan), never or always;\n"
    "                     also prints the plan's head groups (docs/performance.md)\n"
    "  --image PHOTO      a PNG/JPEG/... photo for the model's image input (not with --input)\n"
    "  --out FILE.png     with --image: write the photo annotated with the results\n"
    "  --json             with --image: print the results as JSON instead of text\n";

int run_main(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"--input", true, true},
                                  {"--tasks", true},
                                  {"--threads", true},
                                  {"--repeat", true},
                                  {"--dump", true},
                                  {"--precision", true},
                                  {"--parallel-heads", true},
                                  {"--sparse-weights", true},
                                  {"--image", true},
                                  {"--out", true},
                                  {"--json", false}});
  if (!parsed.is_ok()) return report_usage_error("run", parsed.status().message());
  if (parsed->help) {
    std::fputs(kRunUsage, stdout);
    return kExitOk;
  }
  if (parsed->positional.size() != 1)
    return report_usage_error(
        "run", parsed->positional.empty()
                   ? "missing MODEL argument"
                   : "expected one MODEL, found extra argument '" + parsed->positional[1] + "'");
  const bool image_mode = parsed->has("--image");
  if (image_mode && parsed->has("--input"))
    return report_usage_error("run", "--image and --input are exclusive: give one of them");
  if (image_mode && parsed->has("--dump"))
    return report_usage_error("run", "--dump works with --input only, not with --image");
  if (!image_mode)
    for (const char* option : {"--out", "--json"})
      if (parsed->has(option))
        return report_usage_error("run", std::string(option) + " needs --image PHOTO");
  if (image_mode && parsed->get("--image").empty())
    return report_usage_error("run", "--image needs a file name");
  if (image_mode && parsed->has("--out") && parsed->get("--out").empty())
    return report_usage_error("run", "--out needs a file name");
  ExecuteOptions options;
  options.model_path = parsed->positional[0];
  for (const std::string& text : parsed->all("--input")) {
    auto assignment = parse_assignment("--input", text);
    if (!assignment.is_ok()) return report_usage_error("run", assignment.status().message());
    options.inputs.push_back({assignment->first, assignment->second});
  }
  if (parsed->has("--tasks")) {
    auto list = parse_list("--tasks", parsed->get("--tasks"));
    if (!list.is_ok()) return report_usage_error("run", list.status().message());
    options.tasks = *list;
  }
  auto threads = parse_int("--threads", parsed->get("--threads", "1"), 0, 1024);
  if (!threads.is_ok()) return report_usage_error("run", threads.status().message());
  options.threads = static_cast<size_t>(*threads);
  auto repeat = parse_int("--repeat", parsed->get("--repeat", "1"), 1, 100000);
  if (!repeat.is_ok()) return report_usage_error("run", repeat.status().message());
  options.repeat = static_cast<int>(*repeat);
  options.dump_dir = parsed->get("--dump");
  const std::string precision = parsed->get("--precision", "f32");
  if (!parse_precision(precision, &options.precision))
    return report_usage_error("run", "--precision must be f32 or f16, found '" + precision + "'");
  if (image_mode && options.precision != Precision::kF32)
    return report_usage_error("run", "--precision works with --input only, not with --image");
  if (parsed->has("--parallel-heads")) {
    if (image_mode)
      return report_usage_error("run",
                                "--parallel-heads works with --input only, not with --image");
    auto heads = parse_parallel_heads_option(parsed->get("--parallel-heads"));
    if (!heads.is_ok()) return report_usage_error("run", heads.status().message());
    options.parallel_heads = *heads;
    options.report_heads = true;
  }

  if (parsed->has("--sparse-weights")) {
    auto sparse = parse_sparse_weights_option(parsed->get("--sparse-weights"));
    if (!sparse.is_ok()) return report_usage_error("run", sparse.status().message());
    options.sparse_weights = *sparse;
  }

  auto model = Model::load_file(options.model_path);
  if (!model.is_ok())
    return report_error(
        "run", "cannot load model '" + options.model_path + "': " + model.status().to_string(),
        kExitRuntime);
  if (image_mode) {
    ImageRunOptions io;
    io.model_path = options.model_path;
    io.image_path = parsed->get("--image");
    io.tasks = options.tasks;
    io.threads = options.threads;
    io.sparse_weights = options.sparse_weights;
    io.repeat = options.repeat;
    io.out_path = parsed->get("--out");
    io.json = parsed->has("--json");
    const Status status = run_image(*model, io);
    if (!status.is_ok()) return report_error("run", status.to_string(), kExitRuntime);
    return kExitOk;
  }
  const Status status = execute_and_report(*model, options);
  if (!status.is_ok()) return report_error("run", status.to_string(), kExitRuntime);
  return kExitOk;
}

}  // namespace polyhead::cli
