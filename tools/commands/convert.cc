// `polyhead convert`: turns a float32 TensorFlow Lite model into a .phm model with named tasks and
// the pre-processing it expects (tools/importers/tflite, docs/tflite_import.md).
#include <cstdio>
#include <fstream>

#include "commands/args.h"
#include "commands/commands.h"
#include "commands/format.h"
#include "importers/tflite/tflite_converter.h"

namespace polyhead::cli {

const char kConvertUsage[] =
    "usage: polyhead convert MODEL.tflite -o OUT.phm [--task NAME=OUTPUT[,OUTPUT...]]...\n"
    "                        [--mean a,b,c] [--std a,b,c] [--rgb|--bgr] [--preset NAME]\n"
    "\n"
    "Converts a float32 TensorFlow Lite model (fp16 weights are widened to float32). Without\n"
    "--task or --preset each model output becomes a task named after it.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the .phm file to write (required)\n"
    "  --task NAME=OUTS    a task made of the named model outputs (comma separated); repeatable\n"
    "  --mean a,b,c        per-channel mean in pixel units (0..255), 1 or 3 values\n"
    "  --std a,b,c         per-channel standard deviation in pixel units, 1 or 3 values\n"
    "  --rgb, --bgr        the colour order the model expects (default RGB)\n"
    "  --preset NAME       tasks, pre- and post-processing of a known model:\n"
    "                      mediapipe-face-detection-short, mediapipe-selfie-segmentation,\n"
    "                      mediapipe-pose-landmark-lite\n";

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

}  // namespace

int convert_main(const std::vector<std::string>& raw) {
  const char* cmd = "convert";
  // "-o" is accepted as a short form of "--output".
  std::vector<std::string> args;
  for (size_t i = 0; i < raw.size(); ++i) args.push_back(raw[i] == "-o" ? "--output" : raw[i]);
  auto parsed = parse_args(args, {{"--output", true, false},
                                  {"--task", true, true},
                                  {"--mean", true, false},
                                  {"--std", true, false},
                                  {"--rgb", false, false},
                                  {"--bgr", false, false},
                                  {"--preset", true, false}});
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kConvertUsage, stdout);
    return kExitOk;
  }
  if (parsed->positional.size() != 1)
    return report_usage_error(
        cmd, parsed->positional.empty()
                 ? "missing the input MODEL.tflite"
                 : "expected one model, got " + std::to_string(parsed->positional.size()));
  if (!parsed->has("--output")) return report_usage_error(cmd, "missing -o OUT.phm");
  if (parsed->has("--rgb") && parsed->has("--bgr"))
    return report_usage_error(cmd, "--rgb and --bgr exclude each other");

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
  if (parsed->has("--task")) {
    for (const std::string& spec : parsed->all("--task")) {
      auto kv = parse_assignment("--task", spec);
      if (!kv.is_ok()) return report_usage_error(cmd, kv.status().message());
      if (kv->first.find(',') != std::string::npos)
        return report_usage_error(cmd, "--task name '" + kv->first + "' must not contain ','");
      auto outs = parse_list("--task", kv->second);
      if (!outs.is_ok()) return report_usage_error(cmd, outs.status().message());
      for (const auto& t : options.tasks)
        if (t.name == kv->first)
          return report_usage_error(cmd, "task '" + kv->first + "' is given twice");
      options.tasks.push_back({kv->first, *outs});
    }
  }
  if (parsed->has("--mean")) {
    auto v = parse_floats("--mean", parsed->get("--mean"));
    if (!v.is_ok()) return report_usage_error(cmd, v.status().message());
    options.mean = *v;
  }
  if (parsed->has("--std")) {
    auto v = parse_floats("--std", parsed->get("--std"));
    if (!v.is_ok()) return report_usage_error(cmd, v.status().message());
    for (float s : *v)
      if (s <= 0.f) return report_usage_error(cmd, "--std values must be > 0");
    options.std = *v;
  }
  if (parsed->has("--rgb")) options.color = "RGB";
  if (parsed->has("--bgr")) options.color = "BGR";

  const std::string& in = parsed->positional[0];
  const std::string out = parsed->get("--output");
  tflite::ConvertReport report;
  auto phm = tflite::convert_file(in, options, &report);
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

  int ops = 0, nodes = 0;
  for (const auto& kv : report.source_ops) ops += kv.second;
  for (const auto& kv : report.nodes) nodes += kv.second;
  std::printf("%s: %d TFLite operators -> %d nodes, tasks: %s (%s)\n", out.c_str(), ops, nodes,
              join(report.tasks, ", ").c_str(), format_bytes(phm->size()).c_str());
  return kExitOk;
}

}  // namespace polyhead::cli
