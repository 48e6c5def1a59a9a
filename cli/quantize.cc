// `polyhead quantize IN.phm --calib DIR -o OUT.phm`: post-training int8 quantization with a
// calibration set, per-node sensitivity and automatic float fallback (tools/quantize,
// docs/quantize.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"

#ifdef POLYHEAD_HAVE_QUANTIZE
#include "cli/format.h"
#include "cli/json.h"
#include "cli/progress.h"
#include "eval/image_set.h"
#include "offline/quantize/implied_bias_scales.h"
#include "offline/quantize/quantizer.h"
#include "offline/quantize/short_names.h"
#endif

namespace polyhead::cli {

const char kQuantizeUsage[] =
    "usage: polyhead quantize IN.phm --calib DIR|PHOTO [--calib ...] -o OUT.phm\n"
    "                         [--method minmax|percentile|entropy] [--percentile P]\n"
    "                         [--per-tensor] [--weight-scales half|float] [--int8-stem]\n"
    "                         [--keep-float NODE,...]\n"
    "                         [--sensitivity] [--tasks A,B]\n"
    "                         [--auto --max-drop X|TASK=X,...] [--limit N] [--threads N]\n"
    "                         [--json FILE] [--names keep|short] [--bias-scales stored|implied]\n"
    "                         [--quiet]\n"
    "\n"
    "Quantizes a float32 model to int8 (docs/int8.md) after running it on calibration photos,\n"
    "each through the model's declared pre-processing: activations become asymmetric int8 per\n"
    "tensor over their calibrated range, convolution and fully connected weights symmetric int8\n"
    "per output channel with int32 bias. Operators without an int8 kernel (SOFTMAX, DIV, PRELU,\n"
    "TRANSPOSE_CONV_2D) and the nodes named in --keep-float stay float between DEQUANTIZE and\n"
    "QUANTIZE nodes; model inputs and task outputs stay float32 under their names. See\n"
    "docs/quantize.md.\n"
    "\n"
    "options:\n"
    "  --calib DIR|FILE   a folder (its .jpg/.jpeg/.png/.bmp files, sorted by name) or one photo;\n"
    "                     repeat to add more (required)\n"
    "  -o, --output FILE  the int8 model to write (required)\n"
    "  --method M         activation ranges: minmax (observed minimum and maximum, the default),\n"
    "                     percentile (|x| clipped at the P-th percentile) or entropy (|x| clipped\n"
    "                     where the KL divergence of the 2048-bin histogram quantized to 128\n"
    "                     levels is smallest)\n"
    "  --percentile P     the percentile of --method percentile, in (0, 100] (default 99.99)\n"
    "  --per-tensor       one weight scale per tensor instead of one per output channel\n"
    "  --weight-scales M  half (default): per-channel weight scales are rounded to the nearest\n"
    "                     half float (each moved by at most 2^-11 of itself) and stored in 2\n"
    "                     bytes (format 1.8); float: kept exact, 4 bytes each\n"
    "  --int8-stem        also quantize the stem (a convolution reading a model input of at most\n"
    "                     4 channels), which otherwise stays float: XNNPACK's float stem kernels\n"
    "                     beat int8 there and the photo keeps its full precision\n"
    "  --keep-float A,B   keep these nodes in float (names as 'polyhead inspect' shows them)\n"
    "  --sensitivity      measure every int8-capable node alone in int8 against the float model\n"
    "                     and print them, most sensitive first\n"
    "  --tasks A,B        only these tasks' drops count for --sensitivity and --auto (the others\n"
    "                     are quantized all the same, only not judged)\n"
    "  --auto             keep the most sensitive nodes in float until every task is within\n"
    "                     --max-drop (required with --auto): X, a fraction in [0, 1] for every\n"
    "                     task, or a budget per task (landmarks=0.008,mask=0.03), or both\n"
    "                     (0.05,landmarks=0.008: the number is the others' budget; without\n"
    "                     one, only the named tasks are judged)\n"
    "  --limit N          use the first N calibration photos for --sensitivity and --auto\n"
    "                     (calibration uses them all)\n"
    "  --threads N        worker threads, 0 = one per logical processor (default 1)\n"
    "  --json FILE        also write the summary as JSON to FILE ('-': to stdout, instead of\n"
    "                     the text)\n"
    "  --names M          keep (default) the tensor and node names, or short: only model inputs,\n"
    "                     the tensors tasks read and the nodes writing them keep theirs, every\n"
    "                     other name becomes a short unique one (t1f): a smaller file whose\n"
    "                     profiles and compare show the short names\n"
    "  --bias-scales M    stored (default): every int32 bias keeps its per-channel scales;\n"
    "                     implied: biases whose scales are input scale x weight scale store\n"
    "                     none (a smaller file of format 1.7, which older builds refuse)\n"
    "  --quiet            no progress lines on stderr (calibration, sensitivity, --auto steps)\n";

#ifndef POLYHEAD_HAVE_QUANTIZE

int quantize_main(const std::vector<std::string>& args) {
  return report_needs_opencv("quantize", kQuantizeUsage, args);
}

#else

namespace {

using quantize::QuantizeOptions;
using quantize::QuantizeReport;

Status read_options(const ParsedArgs& p, QuantizeOptions& o) {
  if (p.has("--method")) {
    PH_ASSIGN_OR_RETURN(o.method, quantize::parse_range_method(p.get("--method")));
  }
  if (p.has("--percentile")) {
    if (o.method != quantize::RangeMethod::kPercentile)
      return Status(ErrorCode::kInvalidArgument, "--percentile needs --method percentile");
    auto v = parse_double("--percentile", p.get("--percentile"), 0, 100);
    if (!v.is_ok() || !(*v > 0))
      return Status(ErrorCode::kInvalidArgument, "invalid value '" + p.get("--percentile") +
                                                     "' for --percentile: expected a number in "
                                                     "(0, 100]");
    o.percentile = *v;
  }
  o.per_tensor_weights = p.has("--per-tensor");
  if (p.has("--weight-scales")) {
    const std::string v = p.get("--weight-scales");
    if (v != "half" && v != "float")
      return Status(ErrorCode::kInvalidArgument,
                    "invalid value '" + v + "' for --weight-scales: expected half or float");
    if (v == "half" && o.per_tensor_weights)
      return Status(ErrorCode::kInvalidArgument,
                    "--weight-scales half rounds per-channel scales; --per-tensor has one scale "
                    "per tensor, stored as a float");
    o.half_weight_scales = v == "half";
  }
  o.int8_stem = p.has("--int8-stem");
  if (p.has("--keep-float")) {
    PH_ASSIGN_OR_RETURN(o.keep_float, parse_list("--keep-float", p.get("--keep-float")));
  }
  o.sensitivity = p.has("--sensitivity");
  if (p.has("--tasks")) {
    if (!p.has("--sensitivity") && !p.has("--auto"))
      return Status(ErrorCode::kInvalidArgument, "--tasks needs --sensitivity or --auto");
    PH_ASSIGN_OR_RETURN(o.tasks, parse_list("--tasks", p.get("--tasks")));
  }
  o.auto_select = p.has("--auto");
  if (o.auto_select && !p.has("--max-drop"))
    return Status(ErrorCode::kInvalidArgument, "--auto needs --max-drop X");
  if (p.has("--max-drop")) {
    if (!o.auto_select) return Status(ErrorCode::kInvalidArgument, "--max-drop needs --auto");
    PH_ASSIGN_OR_RETURN(o.max_drop, quantize::DropBudget::parse(p.get("--max-drop")));
  }
  if (p.has("--limit")) {
    PH_ASSIGN_OR_RETURN(const long long l, parse_int("--limit", p.get("--limit"), 1, 1000000000));
    o.limit = static_cast<size_t>(l);
  }
  if (p.has("--threads")) {
    PH_ASSIGN_OR_RETURN(const long long t, parse_int("--threads", p.get("--threads"), 0, 1024));
    o.threads = static_cast<size_t>(t);
  }
  return Status::ok();
}

// The quantizer's progress callback as lines on stderr: one when a stage begins, then its steps
// at most once a second.
std::function<void(const char*, size_t, size_t)> progress_lines(Progress& progress,
                                                                const QuantizeOptions& o,
                                                                size_t images) {
  const size_t evaluated = o.limit > 0 && o.limit < images ? o.limit : images;
  return [&progress, &o, evaluated, stage = std::string()](const char* name, size_t done,
                                                           size_t total) mutable {
    const std::string now = name;
    const bool begins = now != stage;
    stage = now;
    if (now == "calibrating") {
      if (begins) progress.stage("calibrating on " + counted(total, "photo"));
      progress.step("calibrating", done, total, "photos");
    } else if (now == "sensitivity") {
      if (begins)
        progress.stage("sensitivity of " + counted(total, "node") + ", each alone in int8, on " +
                       counted(evaluated, "photo"));
      progress.step("sensitivity", done, total, "nodes");
    } else if (now == "auto") {
      if (begins)
        progress.stage("--auto: nodes back to float until every task is within --max-drop " +
                       o.max_drop.text());
      progress.step("--auto evaluation", done, 0, "");
    } else {
      if (begins) progress.stage(now);
      progress.step(now, done, total, "");
    }
  };
}

std::string drops_text(const quantize::Evaluation& e) {
  std::string s;
  for (const quantize::TaskDrop& t : e.tasks)
    s += (s.empty() ? "" : ", ") + t.task + " " + format_float(t.drop, 4) + " (" + t.metric + ")";
  return s;
}

void print_text(const std::string& in, const std::string& out, const QuantizeReport& r) {
  std::printf("quantized %s -> %s\n", in.c_str(), out.c_str());
  std::printf("  method       %s", r.method.c_str());
  if (r.method == "percentile") std::printf(" (P %s)", format_float(r.percentile, 6).c_str());
  std::printf(", %zu calibration image(s)\n", r.calibration_images);
  std::printf("  weights      int8 %s%s, bias int32\n",
              r.per_tensor_weights ? "per tensor" : "per output channel",
              r.half_weight_scales ? " (scales as half floats)" : "");
  std::printf("  nodes        %zu int8, %zu float; %zu QUANTIZE, %zu DEQUANTIZE inserted\n",
              r.stats.int8_nodes, r.stats.float_nodes, r.stats.quantize_nodes,
              r.stats.dequantize_nodes);
  std::printf("  file size    %s -> %s (ratio %.3f)\n", format_bytes(r.input_bytes).c_str(),
              format_bytes(r.output_bytes).c_str(), r.size_ratio());
  if (r.stats.saturated_bias)
    std::printf("  warning      %zu bias value(s) clamped to the int32 range\n",
                r.stats.saturated_bias);
  std::vector<std::string> floats;
  for (const quantize::NodeChoice& c : r.nodes)
    if (!c.int8) floats.push_back(c.node + " (" + c.op + ", " + c.reason + ")");
  if (!floats.empty()) std::printf("  float nodes  %s\n", wrap_list(floats, 15).substr(15).c_str());
  if (!r.sensitivity.empty()) {
    std::printf("\nsensitivity: each node alone in int8, %zu image(s), most sensitive first\n",
                r.evaluation_images);
    // Converted models can have very long node names (TFLite's fused ones): the table shows
    // their start; --json has them in full.
    constexpr size_t kMaxName = 48;
    auto shown = [&](const std::string& name) {
      return name.size() <= kMaxName ? name : name.substr(0, kMaxName - 3) + "...";
    };
    size_t width = 4;
    for (const quantize::NodeSensitivity& s : r.sensitivity)
      width = std::max(width, shown(s.node).size());
    std::printf("  %-*s  %-16s %-10s %-10s %s\n", static_cast<int>(width), "node", "op", "drop",
                "score", "per task");
    for (const quantize::NodeSensitivity& s : r.sensitivity)
      std::printf("  %-*s  %-16s %-10s %-10s %s\n", static_cast<int>(width), shown(s.node).c_str(),
                  s.op.c_str(), format_float(s.evaluation.worst_drop, 4).c_str(),
                  format_float(s.evaluation.worst_score, 4).c_str(),
                  drops_text(s.evaluation).c_str());
  }
  if (r.has_auto) {
    const quantize::AutoResult& a = r.auto_result;
    std::printf("\nauto: %s (--max-drop %s) after %zu evaluation(s); %zu node(s) kept float\n",
                a.within_budget ? "within the budget" : "NOT within the budget (all float)",
                r.max_drop.text().c_str(), a.steps.size(), a.kept_float.size());
    for (const quantize::AutoStep& s : a.steps)
      std::printf("  %3zu float  worst drop %s  budget used %s\n", s.float_nodes,
                  format_float(s.worst_drop, 4).c_str(), format_float(s.budget_use, 3).c_str());
    if (!a.kept_float.empty())
      std::printf("  kept float   %s\n", wrap_list(a.kept_float, 15).substr(15).c_str());
    std::printf("  final        %s\n", drops_text(a.final).c_str());
  }
}

void evaluation_json(JsonWriter& j, const quantize::Evaluation& e) {
  j.begin_object().field("worst_drop", e.worst_drop).field("worst_score", e.worst_score);
  j.key("tasks").begin_array();
  for (const quantize::TaskDrop& t : e.tasks)
    j.begin_object()
        .field("task", t.task)
        .field("kind", to_string(t.kind))
        .field("metric", t.metric)
        .field("drop", t.drop)
        .field("score", t.score)
        .end_object();
  j.end_array().end_object();
}

std::string to_json(const std::string& in, const std::string& out, const QuantizeReport& r) {
  JsonWriter j;
  j.begin_object().field("input", in).field("output", out).field("method", r.method);
  if (r.method == "percentile") j.field("percentile", r.percentile);
  j.field("weights", r.per_tensor_weights ? "per-tensor" : "per-channel");
  j.field("weight_scales", r.half_weight_scales ? "half" : "float");
  j.field("calibration_images", static_cast<uint64_t>(r.calibration_images));
  j.field("input_bytes", static_cast<uint64_t>(r.input_bytes))
      .field("output_bytes", static_cast<uint64_t>(r.output_bytes))
      .field("size_ratio", r.size_ratio());
  j.field("int8_nodes", static_cast<uint64_t>(r.stats.int8_nodes))
      .field("float_nodes", static_cast<uint64_t>(r.stats.float_nodes))
      .field("quantize_nodes", static_cast<uint64_t>(r.stats.quantize_nodes))
      .field("dequantize_nodes", static_cast<uint64_t>(r.stats.dequantize_nodes))
      .field("saturated_bias", static_cast<uint64_t>(r.stats.saturated_bias));
  j.key("nodes").begin_array();
  for (const quantize::NodeChoice& c : r.nodes) {
    j.begin_object().field("node", c.node).field("op", c.op).field("int8", c.int8);
    if (!c.int8) j.field("reason", c.reason);
    j.end_object();
  }
  j.end_array();
  if (!r.sensitivity.empty()) {
    j.field("evaluation_images", static_cast<uint64_t>(r.evaluation_images));
    j.key("sensitivity").begin_array();
    for (const quantize::NodeSensitivity& s : r.sensitivity) {
      j.begin_object().field("node", s.node).field("op", s.op).key("evaluation");
      evaluation_json(j, s.evaluation);
      j.end_object();
    }
    j.end_array();
  }
  if (r.has_auto) {
    const quantize::AutoResult& a = r.auto_result;
    j.key("auto").begin_object().field("within_budget", a.within_budget);
    j.key("max_drop").begin_object();
    if (r.max_drop.others) j.field("others", *r.max_drop.others);
    j.key("tasks").begin_object();
    for (const auto& [task, v] : r.max_drop.per_task) j.field(task, v);
    j.end_object().end_object();
    j.field("kept_float", a.kept_float);
    j.key("steps").begin_array();
    for (const quantize::AutoStep& s : a.steps)
      j.begin_object()
          .field("float_nodes", static_cast<uint64_t>(s.float_nodes))
          .field("worst_drop", s.worst_drop)
          .field("budget_use", s.budget_use)
          .end_object();
    j.end_array().key("final");
    evaluation_json(j, a.final);
    j.end_object();
  }
  j.end_object();
  return j.str();
}

}  // namespace

int quantize_main(const std::vector<std::string>& raw) {
  const char* cmd = "quantize";
  const std::vector<std::string> args = expand_output_flag(raw);
  auto parsed = parse_args(args, {{"--calib", true, true},
                                  {"--output", true},
                                  {"--method", true},
                                  {"--percentile", true},
                                  {"--per-tensor", false},
                                  {"--weight-scales", true},
                                  {"--int8-stem", false},
                                  {"--keep-float", true},
                                  {"--sensitivity", false},
                                  {"--tasks", true},
                                  {"--auto", false},
                                  {"--max-drop", true},
                                  {"--limit", true},
                                  {"--threads", true},
                                  {"--json", true},
                                  {"--names", true},
                                  {"--bias-scales", true},
                                  {"--quiet", false}});
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kQuantizeUsage, stdout);
    return kExitOk;
  }
  const std::vector<std::string>& inputs = parsed->positional;
  if (inputs.size() != 1)
    return report_usage_error(
        cmd, inputs.empty() ? "needs a model IN.phm"
                            : "expected one model, found extra argument '" + inputs[1] + "'");
  if (!parsed->has("--calib"))
    return report_usage_error(cmd, "missing --calib DIR (a folder of photos, or photo files)");
  if (!parsed->has("--output")) return report_usage_error(cmd, "missing -o OUT.phm");
  const std::string in = inputs[0];
  const std::string out = parsed->get("--output");
  if (same_file(in, out))
    return report_usage_error(cmd, "-o '" + out + "' would overwrite the input '" + in + "'");
  QuantizeOptions options;
  const Status read = read_options(*parsed, options);
  if (!read.is_ok()) return report_usage_error(cmd, read.message());
  const std::string json_path = parsed->get("--json");
  quantize::NameMode names = quantize::NameMode::kKeep;
  if (parsed->has("--names")) {
    auto mode = quantize::parse_name_mode("--names", parsed->get("--names"));
    if (!mode.is_ok()) return report_usage_error(cmd, mode.status().message());
    names = *mode;
  }
  quantize::BiasScales bias_scales = quantize::BiasScales::kStored;
  if (parsed->has("--bias-scales")) {
    auto mode = quantize::parse_bias_scales("--bias-scales", parsed->get("--bias-scales"));
    if (!mode.is_ok()) return report_usage_error(cmd, mode.status().message());
    bias_scales = *mode;
  }

  auto images = compare::collect_images(parsed->all("--calib"));
  if (!images.is_ok())
    return report_error(cmd, "--calib: " + images.status().message(), kExitRuntime);
  for (const std::string& s : images->skipped)
    std::fprintf(stderr,
                 "polyhead quantize: note: skipping '%s' (not a .jpg/.jpeg/.png/.bmp file)\n",
                 s.c_str());
  auto model = Model::load_file(in);
  if (!model.is_ok())
    return report_error(cmd, "cannot load model '" + in + "': " + model.status().to_string(),
                        kExitRuntime);
  Progress progress(cmd, !parsed->has("--quiet"));
  options.progress = progress_lines(progress, options, images->files.size());
  auto result = quantize::quantize_model(*model, images->files, options);
  if (!result.is_ok()) return report_error(cmd, result.status().message(), kExitRuntime);
  if (bias_scales == quantize::BiasScales::kImplied) {
    auto compact = quantize::drop_implied_bias_scales_in_file(result->bytes);
    if (!compact.is_ok())
      return report_error(cmd, "--bias-scales implied: " + compact.status().message(),
                          kExitRuntime);
    result->bytes = std::move(*compact);
  }
  if (names == quantize::NameMode::kShort) {
    auto shortened = quantize::shorten_names_in_file(result->bytes, /*keep_defaults=*/false);
    if (!shortened.is_ok())
      return report_error(cmd, "--names short: " + shortened.status().message(), kExitRuntime);
    result->bytes = std::move(*shortened);
  }
  result->report.output_bytes = result->bytes.size();  // what is written, after the options above

  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(result->bytes.data()),
          static_cast<std::streamsize>(result->bytes.size()));
  f.close();
  if (!f) return report_error(cmd, "cannot write '" + out + "'", kExitRuntime);
  if (json_path == "-") {
    std::printf("%s\n", to_json(in, out, result->report).c_str());
    return kExitOk;
  }
  print_text(in, out, result->report);
  if (!json_path.empty()) {
    std::ofstream j(json_path, std::ios::trunc);
    j << to_json(in, out, result->report) << "\n";
    j.close();
    if (!j) return report_error(cmd, "--json: cannot write '" + json_path + "'", kExitRuntime);
  }
  return kExitOk;
}

#endif  // POLYHEAD_HAVE_QUANTIZE

}  // namespace polyhead::cli
