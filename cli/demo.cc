// `polyhead demo`: the quick start in one command. Writes the default MobileNetV2 multi-task
// model and a synthetic image, then runs every task on it exactly as `polyhead run` would.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/execute.h"
#include "offline/model_zoo/mobilenet_multitask.h"
#include "polyhead/model.h"

namespace polyhead::cli {

const char kDemoUsage[] =
    "usage: polyhead demo [--out DIR] [--size N] [--width W] [--threads N] [--dump DIR]\n"
    "\n"
    "Writes DIR/mobilenet_multitask.phm (MobileNetV2 backbone with classify, segment and detect\n"
    "heads, seeded weights) and DIR/image.f32 (a synthetic picture, already normalised as the\n"
    "model's input expects), then runs all three tasks in one pass and prints the results.\n"
    "\n"
    "options:\n"
    "  --out DIR     where to write the model and image (default: polyhead-demo)\n"
    "  --size N      input size, a multiple of 32 in [32, 1024] (default 224)\n"
    "  --width W     MobileNetV2 width multiplier in [0.1, 4] (default 1.0)\n"
    "  --threads N   worker threads, 0 = one per logical processor (default 1)\n"
    "  --dump DIR    also write every output and DIR/outputs.json\n";

namespace {

namespace fs = std::filesystem;

// An RGB pixel in [0, 255] of a deterministic scene: colour gradients with a disc and a box, so
// every head sees structure at several scales.
void scene_pixel(int x, int y, int size, float rgb[3]) {
  const float u = static_cast<float>(x) / static_cast<float>(size - 1);
  const float v = static_cast<float>(y) / static_cast<float>(size - 1);
  rgb[0] = 255.f * u;
  rgb[1] = 255.f * v;
  rgb[2] = 127.5f + 127.5f * std::sin(6.2831853f * (u + v));
  const float dx = u - 0.3f, dy = v - 0.35f;
  if (dx * dx + dy * dy < 0.15f * 0.15f) {
    rgb[0] = 230.f, rgb[1] = 40.f, rgb[2] = 40.f;
  }
  if (u > 0.55f && u < 0.85f && v > 0.55f && v < 0.8f) {
    rgb[0] = 30.f, rgb[1] = 60.f, rgb[2] = 220.f;
  }
}

// The scene as the input expects it: value = (pixel / 255 * pixel_scale - mean[c]) / std[c], in
// the declared layout and colour order.
Result<std::vector<float>> synthetic_image(const InputInfo& in) {
  const Preprocess& p = in.preprocess;
  const bool nchw = p.layout == Layout::kNchw;
  if (in.shape.rank() != 4 || in.shape[0] != 1)
    return Status(ErrorCode::kUnsupported, "input '" + in.name + "' of shape " +
                                               in.shape.to_string() + " is not a single image");
  const int64_t h = nchw ? in.shape[2] : in.shape[1], w = nchw ? in.shape[3] : in.shape[2];
  const int64_t c = nchw ? in.shape[1] : in.shape[3];
  if (h != w) return Status(ErrorCode::kUnsupported, "input '" + in.name + "' is not square");
  std::vector<float> out(static_cast<size_t>(in.shape.elements()));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      float rgb[3];
      scene_pixel(static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), rgb);
      const float gray = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
      for (int64_t ch = 0; ch < c; ++ch) {
        float pixel = c == 1 ? gray : rgb[ch % 3];
        if (p.color == ColorOrder::kBgr && c >= 3 && ch < 3) pixel = rgb[2 - ch];
        const float mean =
            static_cast<size_t>(ch) < p.mean.size() ? p.mean[static_cast<size_t>(ch)] : 0.f;
        const float stddev =
            static_cast<size_t>(ch) < p.std.size() ? p.std[static_cast<size_t>(ch)] : 1.f;
        const float value = (pixel / 255.f * p.pixel_scale - mean) / (stddev != 0.f ? stddev : 1.f);
        const int64_t index = nchw ? (ch * h + y) * w + x : (y * w + x) * c + ch;
        out[static_cast<size_t>(index)] = value;
      }
    }
  return out;
}

Status write_floats(const fs::path& path, const std::vector<float>& values) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  // Files are little-endian float32; every host this tool targets is little-endian.
  if (out)
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * 4));
  if (!out) return Status(ErrorCode::kIoError, "cannot write '" + path.string() + "'");
  return Status::ok();
}

Status run_demo(const std::string& dir, const zoo::MobileNetMultitaskOptions& zo,
                ExecuteOptions eo) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    return Status(ErrorCode::kIoError, "cannot create directory '" + dir + "'");
  const fs::path model_path = fs::path(dir) / "mobilenet_multitask.phm";
  const fs::path image_path = fs::path(dir) / "image.f32";
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, zoo::build_mobilenet_multitask(zo));
  {
    std::ofstream out(model_path, std::ios::binary | std::ios::trunc);
    if (out)
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status(ErrorCode::kIoError, "cannot write '" + model_path.string() + "'");
  }
  // Load back from disk: the demo exercises the same path as `polyhead run`.
  PH_ASSIGN_OR_RETURN(Model model, Model::load_file(model_path.string()));
  if (model.inputs().size() != 1)
    return Status(ErrorCode::kInternal, "the demo model should have one input");
  const InputInfo& input = model.inputs()[0];
  PH_ASSIGN_OR_RETURN(std::vector<float> image, synthetic_image(input));
  PH_RETURN_IF_ERROR(write_floats(image_path, image));
  std::printf("wrote    %s (%zu bytes)\n", model_path.string().c_str(), bytes.size());
  std::printf("wrote    %s (%s %s, normalised)\n", image_path.string().c_str(), input.name.c_str(),
              input.shape.to_string().c_str());
  std::printf("same as  polyhead run %s --input %s=%s\n\n", model_path.string().c_str(),
              input.name.c_str(), image_path.string().c_str());
  eo.model_path = model_path.string();
  eo.inputs = {{input.name, image_path.string()}};
  return execute_and_report(model, eo);
}

}  // namespace

int demo_main(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"--out", true},
                                  {"--size", true},
                                  {"--width", true},
                                  {"--threads", true},
                                  {"--dump", true}});
  if (!parsed.is_ok()) return report_usage_error("demo", parsed.status().message());
  if (parsed->help) {
    std::fputs(kDemoUsage, stdout);
    return kExitOk;
  }
  if (!parsed->positional.empty())
    return report_usage_error("demo", "unexpected argument '" + parsed->positional[0] + "'");
  zoo::MobileNetMultitaskOptions zo;
  auto size = parse_int("--size", parsed->get("--size", "224"), 32, 1024);
  if (!size.is_ok()) return report_usage_error("demo", size.status().message());
  if (*size % 32 != 0)
    return report_usage_error("demo", "invalid value '" + parsed->get("--size") +
                                          "' for --size: expected a multiple of 32");
  zo.input_size = static_cast<int>(*size);
  auto width = parse_double("--width", parsed->get("--width", "1.0"), 0.1, 4.0);
  if (!width.is_ok()) return report_usage_error("demo", width.status().message());
  zo.width = static_cast<float>(*width);
  ExecuteOptions eo;
  auto threads = parse_int("--threads", parsed->get("--threads", "1"), 0, 1024);
  if (!threads.is_ok()) return report_usage_error("demo", threads.status().message());
  eo.threads = static_cast<size_t>(*threads);
  eo.dump_dir = parsed->get("--dump");
  const Status status = run_demo(parsed->get("--out", "polyhead-demo"), zo, eo);
  if (!status.is_ok()) return report_error("demo", status.to_string(), kExitRuntime);
  return kExitOk;
}

}  // namespace polyhead::cli
