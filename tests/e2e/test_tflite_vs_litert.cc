// Agreement with the official runtime: each real MediaPipe model (build/data, from
// scripts/fetch_data.sh) is converted from .tflite with the converter's preset, run by Polyhead and
// by LiteRT (scripts/litert_reference.sh: @litertjs/core, WebAssembly, CPU) on the same inputs —
// two seeded random inputs in the model's input range, one smooth synthetic image and (with OpenCV)
// one real photo pre-processed as the model declares — and every
// output must agree within
//   max(1e-4 x max(1, max|reference|), 4 x LiteRT's own spread),
// where LiteRT's own spread is how far LiteRT's output moves when every input value is moved by one
// float32 ulp. Most outputs are well conditioned and meet the first bound by a wide margin; a few
// (the pose model's segmentation logits, up to ~800 in magnitude behind a deep decoder) amplify
// rounding so much that a different but equally valid summation order differs by more than 1e-4
// of the largest value, and there the bound is the model's own float32 noise level.
//
// Needs node/npm (the LiteRT reference) and the data; without them the test fails and says what to
// run. POLYHEAD_DATA_DIR in the environment overrides the data folder.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "polyhead/engine.h"
#include "support/json_reader.h"
#include "support/test_files.h"
#ifdef POLYHEAD_HAVE_VISION
#include "polyhead/vision/preprocess.h"
#endif
#include "polyhead/model.h"
#include "support/reference_interpreter.h"
#include "support/tflite_int8_net.h"

namespace fs = std::filesystem;

namespace {

// ---- files and processes -----------------------------------------------------------------------

using polyhead::testing::data_dir;
using polyhead::testing::shell_quote;
using polyhead::testing::TempDir;

void write_f32(const fs::path& file, const std::vector<float>& values) {
  std::ofstream out(file, std::ios::binary);
  // Little-endian hosts only (x86-64, aarch64, armv7 as built here): the bytes are the file format.
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
}

bool read_f32(const fs::path& file, std::vector<float>& values) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() % sizeof(float)) return false;
  values.resize(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return true;
}

using polyhead::testing::Json;

// ---- the reference -----------------------------------------------------------------------------

struct RefOutput {
  std::string name;  // the TFLite tensor name
  std::vector<int64_t> shape;
  std::vector<float> values;
};

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

struct LiteRtRun {
  std::vector<fs::path> inputs;  // one file per model input
  fs::path out_dir;
};

std::vector<RefOutput> read_litert_outputs(const fs::path& out_dir, std::string& error);

// Runs LiteRT once per run, in one process (the runtime loads and the model compiles once), and
// reads every run's outputs; empty + message on failure.
std::vector<std::vector<RefOutput>> run_litert(const std::string& model,
                                               const std::vector<LiteRtRun>& runs,
                                               std::string& error) {
  std::string cmd = shell_quote(POLYHEAD_LITERT_REFERENCE) + " " + shell_quote(model);
  for (const LiteRtRun& run : runs) {
    for (const fs::path& f : run.inputs) cmd += " --input " + shell_quote(f.string());
    cmd += " --out " + shell_quote(run.out_dir.string());
  }
  const polyhead::testing::ShellResult o = polyhead::testing::run_shell(cmd);
  if (o.exit_code != 0) {
    error = "the LiteRT reference failed (exit " + std::to_string(o.exit_code) + "): " + cmd +
            "\n" + o.output +
            "\n(it needs node and npm: scripts/install_deps.sh, then scripts/test.sh or "
            "`npm ci` in tests/reference_runtimes/litert)";
    return {};
  }
  std::vector<std::vector<RefOutput>> all;
  for (const LiteRtRun& run : runs) {
    all.push_back(read_litert_outputs(run.out_dir, error));
    if (all.back().empty()) return {};
  }
  return all;
}

std::vector<RefOutput> read_litert_outputs(const fs::path& out_dir, std::string& error) {
  std::ifstream in(out_dir / "outputs.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json root;
  if (!polyhead::testing::parse_json(text, root) || !root.get("outputs") ||
      root.get("outputs")->kind != Json::kArray) {
    error = "cannot read " + (out_dir / "outputs.json").string() + ":\n" + text;
    return {};
  }
  std::vector<RefOutput> outs;
  for (const Json& o_json : root.get("outputs")->array) {
    const Json* name = o_json.get("name");
    const Json* shape = o_json.get("shape");
    const Json* file = o_json.get("file");
    if (!name || !shape || !file) {
      error = "outputs.json: an output lacks name, shape or file";
      return {};
    }
    RefOutput r;
    r.name = name->string;
    int64_t elements = 1;
    for (const Json& d : shape->array) {
      r.shape.push_back(static_cast<int64_t>(d.number));
      elements *= r.shape.back();
    }
    if (!read_f32(out_dir / file->string, r.values) ||
        static_cast<int64_t>(r.values.size()) != elements) {
      error = "outputs.json: " + file->string + " is missing or does not hold " +
              std::to_string(elements) + " floats";
      return {};
    }
    outs.push_back(std::move(r));
  }
  return outs;
}

// ---- inputs ------------------------------------------------------------------------------------

// Uniform values in [lo, hi], seeded.
std::vector<float> random_input(size_t count, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// A smooth synthetic NHWC image (gradients, a soft disc, a rectangle, a ring), mapped to [lo, hi]:
// closer to what a camera delivers than noise, without a JPEG decoder.
std::vector<float> synthetic_image(int h, int w, int c, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(h) * static_cast<size_t>(w) * static_cast<size_t>(c));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float fy = (y + 0.5f) / static_cast<float>(h);
      const float fx = (x + 0.5f) / static_cast<float>(w);
      const float dx = fx - 0.5f, dy = fy - 0.42f;
      const float r = std::sqrt(dx * dx + dy * dy);
      const float disc = 1.f / (1.f + std::exp((r - 0.22f) * 60.f));    // head-sized blob
      const bool body = fx > 0.3f && fx < 0.7f && fy > 0.62f;           // a torso
      const float ring = std::exp(-std::pow((r - 0.33f) * 25.f, 2.f));  // soft ring
      for (int ch = 0; ch < c; ++ch) {
        float t = 0.25f * fx + 0.2f * fy + 0.1f * static_cast<float>(ch);  // background gradient
        t += 0.1f * std::sin(6.28f * (fx * 3.f + fy * 2.f + 0.3f * static_cast<float>(ch)));
        t = t * (1.f - disc) + (0.85f - 0.2f * static_cast<float>(ch)) * disc;
        if (body) t = 0.15f + 0.25f * static_cast<float>(ch);
        t += 0.3f * ring * (ch == 1 ? 1.f : -0.5f);
        t = std::clamp(t, 0.f, 1.f);
        v[(static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)) *
              static_cast<size_t>(c) +
          static_cast<size_t>(ch)] = lo + (hi - lo) * t;
      }
    }
  }
  return v;
}

// Every value moved by one float32 ulp, up or down at random (seeded): a perturbation at the level
// of rounding, to measure how much the model amplifies it.
std::vector<float> one_ulp_apart(const std::vector<float>& v, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float toward = (rng() & 1u) ? std::numeric_limits<float>::infinity()
                                      : -std::numeric_limits<float>::infinity();
    out[i] = std::nextafter(v[i], toward);
  }
  return out;
}

// ---- comparison --------------------------------------------------------------------------------

std::vector<int64_t> dims_of(const polyhead::Shape& s) {
  return {s.begin(), s.end()};
}

// NCHW [n,c,h,w] holding NHWC [n,h,w,c]'s values.
bool is_nchw_of(const std::vector<int64_t>& ours, const std::vector<int64_t>& ref) {
  return ours.size() == 4 && ref.size() == 4 && ours[0] == ref[0] && ours[1] == ref[3] &&
         ours[2] == ref[1] && ours[3] == ref[2] && ref[3] != 1;
}

int64_t elements_of(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t x : d) n *= x;
  return n;
}

// Ours, in the reference's (NHWC, TFLite) element order; empty when the shapes cannot correspond.
std::vector<float> to_reference_order(const float* data, const std::vector<int64_t>& ours,
                                      const std::vector<int64_t>& ref) {
  const int64_t n = elements_of(ref);
  if (elements_of(ours) != n) return {};
  if (is_nchw_of(ours, ref)) {
    const int64_t N = ref[0], H = ref[1], W = ref[2], C = ref[3];
    std::vector<float> out(static_cast<size_t>(n));
    for (int64_t b = 0; b < N; ++b)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x)
          for (int64_t c = 0; c < C; ++c)
            out[static_cast<size_t>(((b * H + y) * W + x) * C + c)] =
                data[((b * C + c) * H + y) * W + x];
    return out;
  }
  // Same shape, or the same elements in the same order with unit dimensions added or dropped.
  auto squeeze = [](std::vector<int64_t> d) {
    d.erase(std::remove(d.begin(), d.end(), int64_t{1}), d.end());
    return d;
  };
  if (ours != ref && squeeze(ours) != squeeze(ref)) return {};
  return std::vector<float>(data, data + n);
}

struct ModelCase {
  const char* file;
  const char* preset;
  float lo, hi;       // the model's input range (MediaPipe's graphs)
  const char* photo;  // a real photo, pre-processed as the model declares (needs OpenCV)
  // How Polyhead runs layers whose weights the .phm stores sparse: every mode listed must agree.
  std::vector<polyhead::SparseWeights> sparse_modes = {polyhead::SparseWeights::kAuto};
};

#ifdef POLYHEAD_HAVE_VISION
// The photo (a file of the data dir, or of Debian's scikit-image data) as the model's input.
std::vector<float> photo_input(const std::string& name, const polyhead::InputInfo& input) {
  fs::path path = fs::path(data_dir()) / name;
  if (!fs::exists(path)) path = fs::path(polyhead::testing::skimage_dir()) / name;
  auto image = polyhead::vision::load_image(path.string());
  if (!image) FAIL(image.status().to_string() << " (scripts/fetch_data.sh, python3-skimage)");
  std::vector<float> values(static_cast<size_t>(input.shape.elements()));
  auto transform = polyhead::vision::preprocess(*image, input, values.data());
  if (!transform) FAIL(transform.status().to_string());
  return values;
}
#endif

struct Agreement {
  std::string label;  // task.output <- tflite name
  double max_error = 0;
  double max_reference = 0;
  double litert_spread = 0;  // LiteRT against itself, inputs one ulp apart
  double tolerance = 0;
  double worst_ratio = 0;  // max over samples of error / tolerance
};

void check_model(const ModelCase& mc) {
  const auto started = std::chrono::steady_clock::now();
  const fs::path tflite = fs::path(data_dir()) / mc.file;
  INFO("model " << tflite.string() << ", preset " << mc.preset);
  if (!fs::exists(tflite)) {
    FAIL(
        "missing " << tflite.string()
                   << ": run scripts/fetch_data.sh (or set POLYHEAD_DATA_DIR to the folder holding "
                      "the real models)");
  }

  polyhead::tflite::ConvertOptions options;
  options.preset = mc.preset;
  auto phm = polyhead::tflite::convert_file(tflite.string(), options);
  if (!phm) FAIL("conversion failed: " << phm.status().to_string());
  auto model = polyhead::Model::from_bytes(*phm);
  if (!model) FAIL("the converted model does not load: " << model.status().to_string());
  REQUIRE(model->inputs().size() == 1);
  const polyhead::InputInfo& input = model->inputs()[0];
  INFO("input " << input.name << " " << input.shape.to_string());

  // The input range the preset records must be the range we feed.
  const polyhead::Preprocess& pre = input.preprocess;
  if (!pre.mean.empty() && !pre.std.empty()) {
    const float lo = (0.f - pre.mean[0]) / pre.std[0];
    const float hi = (pre.pixel_scale - pre.mean[0]) / pre.std[0];
    CHECK(lo == Approx(mc.lo).margin(1e-6));
    CHECK(hi == Approx(mc.hi).margin(1e-6));
  }

  // The TFLite input is NHWC [1,H,W,3]; Polyhead's is the same or its NCHW permutation.
  const std::vector<int64_t> in_dims = dims_of(input.shape);
  REQUIRE(in_dims.size() == 4);
  const bool nchw = in_dims[1] == 3 && in_dims[3] != 3;
  const int h = static_cast<int>(nchw ? in_dims[2] : in_dims[1]);
  const int w = static_cast<int>(nchw ? in_dims[3] : in_dims[2]);
  const int c = static_cast<int>(nchw ? in_dims[1] : in_dims[3]);

  struct Sample {
    std::string label;
    std::vector<float> nhwc;
  };
  const size_t count = static_cast<size_t>(h) * static_cast<size_t>(w) * static_cast<size_t>(c);
  std::vector<Sample> samples = {
      {"random seed 1", random_input(count, mc.lo, mc.hi, 1)},
      {"random seed 2", random_input(count, mc.lo, mc.hi, 2)},
      {"synthetic image", synthetic_image(h, w, c, mc.lo, mc.hi)},
  };
#ifdef POLYHEAD_HAVE_VISION
  if (!nchw) samples.push_back({std::string("photo ") + mc.photo, photo_input(mc.photo, input)});
#endif

  TempDir tmp;
  REQUIRE(!tmp.path().empty());
  // LiteRT on every sample and on every sample one ulp apart, in one process.
  std::vector<LiteRtRun> runs;
  for (size_t s = 0; s < samples.size(); ++s) {
    const std::string id = std::to_string(s);
    write_f32(tmp.path() / ("input" + id + ".f32"), samples[s].nhwc);
    write_f32(tmp.path() / ("input" + id + "_ulp.f32"),
              one_ulp_apart(samples[s].nhwc, 100 + static_cast<uint32_t>(s)));
    runs.push_back({{tmp.path() / ("input" + id + ".f32")}, tmp.path() / ("litert" + id)});
    runs.push_back(
        {{tmp.path() / ("input" + id + "_ulp.f32")}, tmp.path() / ("litert" + id + "_ulp")});
  }
  std::string error;
  const std::vector<std::vector<RefOutput>> litert = run_litert(tflite.string(), runs, error);
  if (litert.size() != runs.size()) FAIL(error);

  std::map<std::string, Agreement> worst;  // per output, over all samples
  for (const polyhead::SparseWeights mode : mc.sparse_modes) {
    INFO("sparse weights: " << polyhead::sparse_weights_name(mode));
    polyhead::EngineOptions engine_options;
    engine_options.threads = 2;
    engine_options.sparse_weights = mode;
    auto engine = polyhead::Engine::create(*model, engine_options);
    if (!engine) FAIL(engine.status().to_string());
    auto plan = engine->prepare();
    if (!plan) FAIL(plan.status().to_string());
    // The mode's label in the summary, when there are several.
    const std::string mode_label =
        mc.sparse_modes.size() > 1
            ? std::string(" (sparse weights ") + polyhead::sparse_weights_name(mode) + ")"
            : std::string();
    for (size_t s = 0; s < samples.size(); ++s) {
      const Sample& sample = samples[s];
      INFO("input: " << sample.label);
      const std::vector<RefOutput>& ref = litert[2 * s];
      const std::vector<RefOutput>& nudged = litert[2 * s + 1];
      if (nudged.size() != ref.size()) FAIL("LiteRT gave different outputs for the nudged input");

      // Polyhead on the same values (transposed when it wants NCHW).
      std::vector<float> ours_in = sample.nhwc;
      if (nchw) {
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            for (int ch = 0; ch < c; ++ch)
              ours_in[(static_cast<size_t>(ch) * static_cast<size_t>(h) + static_cast<size_t>(y)) *
                          static_cast<size_t>(w) +
                      static_cast<size_t>(x)] =
                  sample.nhwc[(static_cast<size_t>(y) * static_cast<size_t>(w) +
                               static_cast<size_t>(x)) *
                                  static_cast<size_t>(c) +
                              static_cast<size_t>(ch)];
      }
      const polyhead::Status set = plan->set_input(input.name, ours_in.data(), ours_in.size());
      if (!set.is_ok()) FAIL(set.to_string());
      const polyhead::Status ran = plan->run();
      if (!ran.is_ok()) FAIL(ran.to_string());

      // Every LiteRT output must be some task's output: by tensor name, else by a unique shape.
      std::vector<bool> matched(ref.size(), false);
      for (const polyhead::TaskInfo& task : model->tasks()) {
        for (const polyhead::TaskOutputInfo& out : task.outputs) {
          const std::string label = task.name + "." + out.name;
          INFO("output " << label << " (tensor " << out.tensor << " " << out.shape.to_string()
                         << ")");
          int found = -1;
          for (size_t r = 0; r < ref.size(); ++r)
            if (ref[r].name == out.tensor) found = static_cast<int>(r);
          if (found < 0) {
            for (size_t r = 0; r < ref.size(); ++r) {
              const std::vector<int64_t> ours = dims_of(out.shape);
              if (ours == ref[r].shape || is_nchw_of(ours, ref[r].shape)) {
                if (found >= 0) FAIL("two LiteRT outputs have this output's shape; cannot map it");
                found = static_cast<int>(r);
              }
            }
          }
          if (found < 0) FAIL("no LiteRT output corresponds to this output");
          const RefOutput& r = ref[static_cast<size_t>(found)];
          matched[static_cast<size_t>(found)] = true;

          auto view = plan->output(task.name, out.name);
          if (!view) FAIL(view.status().to_string());
          REQUIRE(view->f32() != nullptr);
          const std::vector<float> ours =
              to_reference_order(view->f32(), dims_of(view->shape), r.shape);
          if (ours.empty()) {
            FAIL("shape " << view->shape.to_string() << " does not correspond to LiteRT's "
                          << r.name << " " << dims_text(r.shape));
          }
          const RefOutput& n = nudged[static_cast<size_t>(found)];
          REQUIRE(n.values.size() == r.values.size());
          double max_ref = 0, max_err = 0, spread = 0;
          size_t worst_at = 0;
          bool finite = true;
          for (size_t i = 0; i < ours.size(); ++i) {
            max_ref = std::max(max_ref, std::fabs(static_cast<double>(r.values[i])));
            spread = std::max(spread, std::fabs(static_cast<double>(n.values[i]) - r.values[i]));
            if (!std::isfinite(ours[i])) finite = false;
            const double e = std::fabs(static_cast<double>(ours[i]) - r.values[i]);
            if (e > max_err) {
              max_err = e;
              worst_at = i;
            }
          }
          const double tol = std::max(1e-4 * std::max(1.0, max_ref), 4.0 * spread);
          INFO("vs LiteRT " << r.name << " " << dims_text(r.shape) << ": max |error| " << max_err
                            << " at element " << worst_at << " (polyhead " << ours[worst_at]
                            << ", litert " << r.values[worst_at] << "), max |reference| " << max_ref
                            << ", LiteRT's own spread at 1 ulp " << spread << ", tolerance "
                            << tol);
          CHECK(finite);
          CHECK(max_err <= tol);
          Agreement& a = worst[label + mode_label];
          a.label = label + " <- " + r.name + " " + dims_text(r.shape) + mode_label;
          a.max_error = std::max(a.max_error, max_err);
          a.max_reference = std::max(a.max_reference, max_ref);
          a.litert_spread = std::max(a.litert_spread, spread);
          a.tolerance = std::max(a.tolerance, tol);
          a.worst_ratio = std::max(a.worst_ratio, max_err / tol);
        }
      }
      for (size_t r = 0; r < ref.size(); ++r) {
        INFO("LiteRT output " << ref[r].name << " " << dims_text(ref[r].shape));
        CHECK(matched[r]);  // the preset must expose every model output as a task output
      }
    }
    // The sparse kernel ran where asked for, the dense one only where told.
    if (mode == polyhead::SparseWeights::kDense) CHECK(engine->stats().sparse_kernel_nodes == 0);
    if (mode == polyhead::SparseWeights::kSparse && mc.sparse_modes.size() > 1)
      CHECK(engine->stats().sparse_kernel_nodes > 0);
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::ostringstream summary;
  summary << mc.file << " (" << samples.size() << " inputs, " << seconds << " s):\n";
  for (const auto& [label, a] : worst) {
    summary << "  " << a.label << ": max |error| " << a.max_error << ", max |reference| "
            << a.max_reference << ", LiteRT's own spread at 1 ulp " << a.litert_spread
            << ", tolerance up to " << a.tolerance << ", worst error/tolerance " << a.worst_ratio
            << "\n";
  }
  std::cout << summary.str() << std::flush;
}

}  // namespace

TEST_CASE("face detection (short range) agrees with LiteRT", "[tflite][litert]") {
  check_model({"face_detection_short_range.tflite", "mediapipe-face-detection-short", -1.f, 1.f,
               "sample1.jpg"});
}

// The pruned full-range detector: 46 of its 1x1 convolutions read fp16 weights stored sparse
// (TFLite sparsity, DENSIFY then DEQUANTIZE), decoded by the importer (sparse_tensor.h) and kept
// block-sparse in the .phm; run with those weights expanded, on the sparse kernel, and as auto
// chooses.
TEST_CASE("face detection (full range, sparse) agrees with LiteRT", "[tflite][litert][sparse]") {
  check_model({"face_detection_full_range_sparse.tflite",
               "mediapipe-face-detection-full",
               -1.f,
               1.f,
               "sample2.jpg",
               {polyhead::SparseWeights::kDense, polyhead::SparseWeights::kSparse,
                polyhead::SparseWeights::kAuto}});
}

// Its dense twin, the same network before pruning.
TEST_CASE("face detection (full range) agrees with LiteRT", "[tflite][litert]") {
  check_model({"face_detection_full_range.tflite", "mediapipe-face-detection-full", -1.f, 1.f,
               "sample2.jpg"});
}

TEST_CASE("selfie segmentation agrees with LiteRT", "[tflite][litert]") {
  check_model(
      {"selfie_segmentation.tflite", "mediapipe-selfie-segmentation", 0.f, 1.f, "astronaut.png"});
}

TEST_CASE("pose landmarks (lite) agree with LiteRT", "[tflite][litert]") {
  check_model(
      {"pose_landmark_lite.tflite", "mediapipe-pose-landmark-lite", 0.f, 1.f, "astronaut.png"});
}

// A synthetic full-integer int8 model (tests/support/tflite_int8_net: QUANTIZE, per-channel
// CONV_2D and DEPTHWISE_CONV_2D, ADD, both pools, CONCATENATION, MEAN, FULLY_CONNECTED, LOGISTIC,
// SOFTMAX, DEQUANTIZE), every layer dequantized into a float model output, on seeded inputs:
// each layer must agree with LiteRT to 1 quantization step (2 below the average pooling, whose
// rounding may differ by one step and carries on), and nearly all values exactly.
TEST_CASE("a synthetic int8 model agrees with LiteRT layer by layer", "[tflite][litert][int8]") {
  using polyhead::testing::Int8Net;
  const Int8Net net(/*dequantize_taps=*/true, /*same_concat_params=*/true);
  TempDir dir;
  REQUIRE(!dir.path().empty());
  const std::string model_file = dir / "int8_net.tflite";
  {
    std::ofstream f(model_file, std::ios::binary);
    f.write(reinterpret_cast<const char*>(net.tflite.data()),
            static_cast<std::streamsize>(net.tflite.size()));
  }
  auto phm = polyhead::tflite::convert(net.tflite, polyhead::tflite::ConvertOptions{});
  if (!phm) FAIL("conversion failed: " << phm.status().to_string());
  auto model = polyhead::Model::from_bytes(*phm);
  if (!model) FAIL(model.status().to_string());
  auto engine = polyhead::Engine::create(*model, {/*threads=*/2});
  if (!engine) FAIL(engine.status().to_string());
  auto plan = engine->prepare();
  if (!plan) FAIL(plan.status().to_string());

  const size_t n_in = static_cast<size_t>(Int8Net::H * Int8Net::W * Int8Net::C);
  std::vector<std::vector<float>> inputs;
  std::vector<LiteRtRun> runs;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    inputs.push_back(random_input(n_in, -1.f, 1.f, seed));
    const fs::path in = dir.path() / ("in" + std::to_string(seed) + ".f32");
    write_f32(in, inputs.back());
    runs.push_back({{in}, dir.path() / ("out" + std::to_string(seed))});
    fs::create_directories(runs.back().out_dir);
  }
  std::string error;
  const auto refs = run_litert(model_file, runs, error);
  if (refs.empty()) FAIL(error);

  const std::map<std::string, std::pair<float, int>> steps = {
      {"probs", {Int8Net::kProbScale, 1}}, {"image_q", {Int8Net::kInScale, 1}},
      {"conv", {Int8Net::kConvScale, 1}},  {"dw", {Int8Net::kDwScale, 1}},
      {"sum", {Int8Net::kSumScale, 1}},    {"pool", {Int8Net::kSumScale, 1}},
      {"avg", {net.avg_scale, 1}},         {"cat", {net.cat_scale, 1}},
      {"gap", {Int8Net::kGapScale, 2}},    {"logits", {Int8Net::kFcScale, 2}},
      {"gate", {Int8Net::kSigScale, 2}}};
  size_t values = 0, exact = 0;
  for (size_t r = 0; r < runs.size(); ++r) {
    INFO("input seed " << r + 1);
    REQUIRE(plan->set_input("image", inputs[r].data(), inputs[r].size()).is_ok());
    REQUIRE(plan->run().is_ok());
    REQUIRE(refs[r].size() == steps.size());
    for (const RefOutput& ref : refs[r]) {
      INFO("output " << ref.name);
      REQUIRE(steps.count(ref.name));
      const float step = steps.at(ref.name).first;
      const int allowed = steps.at(ref.name).second;
      auto view = plan->output(ref.name, ref.name);
      REQUIRE(view.is_ok());
      REQUIRE(static_cast<size_t>(view->shape.elements()) == ref.values.size());
      const float* got = view->f32();
      double worst = 0;
      for (size_t i = 0; i < ref.values.size(); ++i) {
        const double d = std::fabs(double(got[i]) - ref.values[i]) / step;
        worst = std::max(worst, d);
        exact += d < 0.5;
        ++values;
      }
      INFO("worst difference " << worst << " steps");
      CHECK(worst <= allowed + 1e-3);
    }
  }
  INFO(exact << " of " << values << " values identical");
  CHECK(exact >= values * 97 / 100);
}

// Diagnosis, not run by default (`test_tflite_vs_litert "[.diagnose]"`): the pose model on random
// seed 1 through Polyhead, LiteRT and the naive interpreter of tests/support (double
// accumulation), to tell a kernel bug (Polyhead far from both) from float32 conditioning (Polyhead
// and LiteRT equally far from the double-accumulated result).
TEST_CASE("pose segmentation: Polyhead and LiteRT against double accumulation", "[.diagnose]") {
  const fs::path tflite = fs::path(data_dir()) / "pose_landmark_lite.tflite";
  if (!fs::exists(tflite)) FAIL("missing " << tflite.string() << ": run scripts/fetch_data.sh");
  polyhead::tflite::ConvertOptions options;
  options.preset = "mediapipe-pose-landmark-lite";
  auto phm = polyhead::tflite::convert_file(tflite.string(), options);
  REQUIRE(phm);
  auto model = polyhead::Model::from_bytes(*phm);
  REQUIRE(model);
  const std::vector<float> x = random_input(256 * 256 * 3, 0.f, 1.f, 1);
  auto engine = polyhead::Engine::create(*model, {/*threads=*/2});
  REQUIRE(engine);
  auto plan = engine->prepare();
  REQUIRE(plan);
  const std::string in_name = model->inputs()[0].name;
  REQUIRE(plan->set_input(in_name, x.data(), x.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  TempDir tmp;
  write_f32(tmp.path() / "x.f32", x);
  std::string error;
  const auto runs =
      run_litert(tflite.string(), {{{tmp.path() / "x.f32"}, tmp.path() / "out"}}, error);
  if (runs.empty()) FAIL(error);
  const std::vector<RefOutput>& ref = runs[0];
  const auto naive = polyhead::testing::reference_run(*phm, {{in_name, x}});
  for (const polyhead::TaskInfo& task : model->tasks()) {
    for (const polyhead::TaskOutputInfo& out : task.outputs) {
      const float* ours = plan->output(task.name, out.name)->f32();
      const std::vector<float>& d = naive.at(out.tensor);
      const RefOutput* r = nullptr;
      for (const RefOutput& o : ref)
        if (o.name == out.tensor) r = &o;
      if (!r) continue;
      double e_ours = 0, e_litert = 0, e_between = 0, m = 0;
      for (size_t i = 0; i < d.size(); ++i) {
        e_ours = std::max(e_ours, std::fabs(static_cast<double>(ours[i]) - d[i]));
        e_litert = std::max(e_litert, std::fabs(static_cast<double>(r->values[i]) - d[i]));
        e_between = std::max(e_between, std::fabs(static_cast<double>(ours[i]) - r->values[i]));
        m = std::max(m, std::fabs(static_cast<double>(d[i])));
      }
      std::cout << task.name << "." << out.name << ": max |ref| " << m << ", polyhead-naive "
                << e_ours << ", litert-naive " << e_litert << ", polyhead-litert " << e_between
                << "\n";
    }
  }
}
