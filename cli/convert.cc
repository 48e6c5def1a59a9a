// `polyhead convert`: turns a float32 or int8 TensorFlow Lite model into a .phm model with named
// tasks and the pre-processing it expects (tools/importers/tflite, docs/tflite_import.md).
#include <cstdio>
#include <fstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "converters/common/import_options.h"
#include "converters/tflite/tflite_converter.h"
#include "offline/quantize/short_names.h"
#if POLYHEAD_HAVE_ONNX
#include "converters/onnx/onnx_converter.h"
#endif

namespace polyhead::cli {

const char kConvertUsage[] =
    "usage: polyhead convert MODEL.tflite|MODEL.onnx -o OUT.phm [--task "
    "NAME=OUTPUT[,OUTPUT...]]...\n"
    "                        [--kind NAME=KIND]... [--mean a,b,c] [--std a,b,c] [--rgb|--bgr]\n"
    "                        [--preset NAME] [--input-shape NAME=d,d,...]...\n"
    "                        [--sparse-weights keep|densify] [--names keep|short]\n"
    "\n"
    "Converts a float32 TensorFlow Lite model (fp16 weights are widened to float32), a\n"
    "full-integer int8 one (into an int8 model with float inputs and outputs), or an ONNX model\n"
    "(opsets 11-17; run NHWC inside, fed and read in its own NCHW layout). Without --task or\n"
    "--preset each model output becomes a task named after it.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the .phm file to write (required)\n"
    "  --task NAME=OUTS    a task made of the named model outputs (comma separated); repeatable\n"
    "  --kind NAME=KIND    the kind of task NAME: classification, detection, segmentation,\n"
    "                      landmarks, regression, embedding or other (default)\n"
    "  --mean a,b,c        per-channel mean in pixel units (0..255), 1 or 3 values\n"
    "  --std a,b,c         per-channel standard deviation in pixel units, 1 or 3 values\n"
    "  --rgb, --bgr        the colour order the model expects (default RGB)\n"
    "  --preset NAME       (TFLite) tasks, pre- and post-processing of a known model:\n"
    "                      mediapipe-face-detection-short, mediapipe-face-detection-full,\n"
    "                      mediapipe-selfie-segmentation, mediapipe-pose-landmark-lite\n"
    "  --input-shape N=S   (ONNX) the shape of input N when the file leaves it symbolic\n"
    "  --sparse-weights M  (TFLite) weights the file stores sparse: keep (default) stores those\n"
    "                      of 1x1 convolutions and fully connected layers block-sparse where\n"
    "                      it saves space; densify stores them dense\n"
    "  --names M           keep (default) the source's tensor and node names, or short: only\n"
    "                      model inputs, the tensors tasks read and the nodes writing them keep\n"
    "                      theirs, every other name becomes a short unique one (t1f, n2a): a\n"
    "                      smaller file whose profiles show the short names\n";

namespace {

Result<std::vector<float>> parse_floats(const std::string& option, const std::string& text) {
  // Not parse_list: equal values ("127.5,127.5,127.5") are normal here.
  std::vector<std::string> items(1);
  for (char c : text) {
    if (c == ',')
      items.emplace_back();
    else
      items.back() += c;
  }
  std::vector<float> out;
  for (const std::string& item : items) {
    PH_ASSIGN_OR_RETURN(double v, parse_double(option, item, -1e6, 1e6));
    out.push_back(static_cast<float>(v));
  }
  if (out.size() != 1 && out.size() != 3)
    return Status(ErrorCode::kInvalidArgument,
                  option + " needs 1 or 3 values, got " + std::to_string(out.size()));
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The options both importers share: tasks with kinds, and pre-processing overrides.
struct CommonOptions {
  std::vector<importers::TaskSpec> tasks;
  importers::PreprocessOverrides preprocess;
  quantize::NameMode names = quantize::NameMode::kKeep;
};

Result<CommonOptions> read_common(const ParsedArgs& parsed) {
  CommonOptions o;
  if (parsed.has("--names")) {
    PH_ASSIGN_OR_RETURN(o.names, quantize::parse_name_mode("--names", parsed.get("--names")));
  }
  for (const std::string& spec : parsed.all("--task")) {
    PH_ASSIGN_OR_RETURN(auto kv, parse_assignment("--task", spec));
    if (kv.first.find(',') != std::string::npos)
      return Status(ErrorCode::kInvalidArgument,
                    "--task name '" + kv.first + "' must not contain ','");
    PH_ASSIGN_OR_RETURN(auto outs, parse_list("--task", kv.second));
    for (const auto& t : o.tasks)
      if (t.name == kv.first)
        return Status(ErrorCode::kInvalidArgument, "task '" + kv.first + "' is given twice");
    o.tasks.push_back({kv.first, outs, TaskKind::kOther});
  }
  for (const std::string& spec : parsed.all("--kind")) {
    PH_ASSIGN_OR_RETURN(auto kv, parse_assignment("--kind", spec));
    PH_ASSIGN_OR_RETURN(TaskKind kind, parse_task_kind(kv.second));
    bool found = false;
    for (auto& t : o.tasks)
      if (t.name == kv.first) {
        t.kind = kind;
        found = true;
      }
    if (!found)
      return Status(ErrorCode::kInvalidArgument,
                    "--kind names task '" + kv.first + "', which no --task defines");
  }
  if (parsed.has("--mean")) {
    PH_ASSIGN_OR_RETURN(o.preprocess.mean, parse_floats("--mean", parsed.get("--mean")));
  }
  if (parsed.has("--std")) {
    PH_ASSIGN_OR_RETURN(o.preprocess.std, parse_floats("--std", parsed.get("--std")));
    for (float v : o.preprocess.std)
      if (v <= 0.f) return Status(ErrorCode::kInvalidArgument, "--std values must be > 0");
  }
  if (parsed.has("--rgb")) o.preprocess.color = ColorOrder::kRgb;
  if (parsed.has("--bgr")) o.preprocess.color = ColorOrder::kBgr;
  return o;
}

// `names`: kShort rewrites the converted file with short names (offline/quantize/short_names.h),
// leaving out schema defaults as the converters do.
int write_phm(const char* cmd, Result<std::vector<uint8_t>> phm, const std::string& out,
              quantize::NameMode names) {
  if (phm.is_ok() && names == quantize::NameMode::kShort)
    phm = quantize::shorten_names_in_file(*phm, /*keep_defaults=*/false);
  if (!phm.is_ok()) {
    const ErrorCode code = phm.status().code();
    return report_error(cmd, phm.status().message(),
                        code == ErrorCode::kInvalidArgument || code == ErrorCode::kNotFound
                            ? kExitUsage
                            : kExitRuntime);
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(phm->data()), static_cast<std::streamsize>(phm->size()));
  f.close();
  if (!f) return report_error(cmd, "cannot write '" + out + "'", kExitRuntime);
  return kExitOk;
}

std::string file_size_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return format_bytes(static_cast<uint64_t>(f.tellg()));
}

int sum(const std::map<std::string, int>& counts) {
  int n = 0;
  for (const auto& kv : counts) n += kv.second;
  return n;
}

#if POLYHEAD_HAVE_ONNX
int convert_onnx(const char* cmd, const ParsedArgs& parsed, CommonOptions common) {
  onnx_import::ConvertOptions options;
  options.tasks = std::move(common.tasks);
  options.preprocess = std::move(common.preprocess);
  for (const std::string& spec : parsed.all("--input-shape")) {
    auto kv = parse_assignment("--input-shape", spec);
    if (!kv.is_ok()) return report_usage_error(cmd, kv.status().message());
    std::vector<int64_t> dims;
    std::string item;
    for (size_t i = 0; i <= kv->second.size(); ++i) {
      if (i < kv->second.size() && kv->second[i] != ',') {
        item += kv->second[i];
        continue;
      }
      auto d = parse_int("--input-shape", item, 1, 1 << 24);
      if (!d.is_ok()) return report_usage_error(cmd, d.status().message());
      dims.push_back(*d);
      item.clear();
    }
    options.input_shapes[kv->first] = dims;
  }
  const std::string out = parsed.get("--output");
  onnx_import::ConvertReport report;
  const int rc = write_phm(cmd, onnx_import::convert_file(parsed.positional[0], options, &report),
                           out, common.names);
  if (rc != kExitOk) return rc;
  std::string folded;
  for (const auto& kv : report.folded)
    folded += (folded.empty() ? "" : ", ") + kv.first + " x" + std::to_string(kv.second);
  std::printf("%s: %d ONNX nodes (opset %d) -> %d nodes, tasks: %s (%s)\n", out.c_str(),
              sum(report.source_ops), report.opset, sum(report.nodes),
              join(report.tasks, ", ").c_str(), file_size_text(out).c_str());
  if (!folded.empty()) std::printf("  folded: %s\n", folded.c_str());
  return kExitOk;
}
#endif

}  // namespace

int convert_main(const std::vector<std::string>& raw) {
  const char* cmd = "convert";
  const std::vector<std::string> args = expand_output_flag(raw);
  auto parsed = parse_args(args, {{"--output", true, false},
                                  {"--task", true, true},
                                  {"--kind", true, true},
                                  {"--mean", true, false},
                                  {"--std", true, false},
                                  {"--rgb", false, false},
                                  {"--bgr", false, false},
                                  {"--preset", true, false},
                                  {"--input-shape", true, true},
                                  {"--sparse-weights", true, false},
                                  {"--names", true, false}});
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kConvertUsage, stdout);
    return kExitOk;
  }
  if (parsed->positional.size() != 1)
    return report_usage_error(
        cmd, parsed->positional.empty()
                 ? "missing the input MODEL.tflite or MODEL.onnx"
                 : "expected one model, got " + std::to_string(parsed->positional.size()));
  if (!parsed->has("--output")) return report_usage_error(cmd, "missing -o OUT.phm");
  if (parsed->has("--rgb") && parsed->has("--bgr"))
    return report_usage_error(cmd, "--rgb and --bgr exclude each other");
  auto common = read_common(*parsed);
  if (!common.is_ok()) return report_usage_error(cmd, common.status().message());

  const std::string& in = parsed->positional[0];
  if (ends_with(in, ".onnx")) {
    if (parsed->has("--preset"))
      return report_usage_error(cmd, "--preset applies to TFLite models only");
    if (parsed->has("--sparse-weights"))
      return report_usage_error(cmd, "--sparse-weights applies to TFLite models only");
#if POLYHEAD_HAVE_ONNX
    return convert_onnx(cmd, *parsed, std::move(*common));
#else
    return report_error(cmd, "this build has no ONNX importer (install libonnx-dev and rebuild)",
                        kExitRuntime);
#endif
  }
  if (parsed->has("--input-shape"))
    return report_usage_error(cmd, "--input-shape applies to ONNX models only");
  importers::SparseImport sparse = importers::SparseImport::kKeep;
  if (parsed->has("--sparse-weights") &&
      !importers::parse_sparse_import(parsed->get("--sparse-weights"), &sparse))
    return report_usage_error(cmd, "--sparse-weights must be keep or densify, got '" +
                                       parsed->get("--sparse-weights") + "'");

  tflite::ConvertOptions options;
  options.preset = parsed->get("--preset");
  if (!options.preset.empty()) {
    bool known = false;
    for (const std::string& p : tflite::known_presets()) known = known || p == options.preset;
    if (!known)
      return report_usage_error(cmd, "unknown preset '" + options.preset +
                                         "' (known: " + join(tflite::known_presets(), ", ") + ")");
    if (parsed->has("--task"))
      return report_usage_error(cmd, "--task and --preset exclude each other");
  }
  options.tasks = std::move(common->tasks);
  options.mean = common->preprocess.mean;
  options.std = common->preprocess.std;
  options.color = common->preprocess.color;
  options.sparse_weights = sparse;
  const std::string out = parsed->get("--output");
  tflite::ConvertReport report;
  const int rc = write_phm(cmd, tflite::convert_file(in, options, &report), out, common->names);
  if (rc != kExitOk) return rc;
  std::printf("%s: %d TFLite operators -> %d nodes, tasks: %s (%s)\n", out.c_str(),
              sum(report.source_ops), sum(report.nodes), join(report.tasks, ", ").c_str(),
              file_size_text(out).c_str());
  if (report.folded_relus)
    std::printf("  folded: RELU into the previous node x%d\n", report.folded_relus);
  if (report.folded_swishes)
    std::printf("  folded: LOGISTIC and MUL into SiLU x%d\n", report.folded_swishes);
  if (report.sparse_tensors)
    std::printf("  sparse: %d sparse tensors densified, %d weights kept block-sparse\n",
                report.sparse_tensors, report.sparse_weights_kept);
  return kExitOk;
}

}  // namespace polyhead::cli
