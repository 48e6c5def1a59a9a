// Agreement with native LiteRT on full-integer TFLite models: the seeded Keras MobileNetV2,
// MobileNetV3Small and small two-head detector that scripts/make_int8_tflite_models.sh converts
// with tf.lite.TFLiteConverter (int8 activations, per-channel int8 weights, float32 input and
// output), imported by the TFLite converter and run by Polyhead on the photos the script
// preprocessed, against the outputs LiteRT (ai-edge-litert, default XNNPACK delegate) wrote for
// the same inputs.
//
// Compared in the quantized domain: each float output is the DEQUANTIZE of an int8 tensor whose
// scale and zero point the manifest records, so both runtimes' outputs map back to int8 codes
// exactly. Per output, every code must be within 1 LSB of LiteRT's and at least 95% equal, on all
// three models: MobileNetV3Small too, since Polyhead's int8 HARD_SWISH follows TFLite's fixed-point
// definition (docs/int8.md, "Rounding"; with the exact function it measured 45.8% exact, max 3).
//
// Needs the models: without them the test fails and names the script. POLYHEAD_INT8_TFLITE_DIR in
// the environment overrides the folder (default build/int8_tflite of the source tree).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "support/json_reader.h"

namespace fs = std::filesystem;
using polyhead::testing::Json;

namespace {

// The bound of the acceptance criterion: within 1 LSB, at least 95% exact.
struct Bound {
  int max_lsb = 1;
  double min_exact = 0.95;
};
constexpr Bound kStrict{};

fs::path models_dir() {
  const char* env = std::getenv("POLYHEAD_INT8_TFLITE_DIR");
  return env && *env ? fs::path(env) : fs::path(POLYHEAD_INT8_TFLITE_DIR);
}

std::string missing_models_message(const fs::path& dir) {
  return "the full-integer TFLite models are missing in " + dir.string() +
         ": run scripts/make_int8_tflite_models.sh " + dir.string() +
         " (scripts/test.sh does; it needs network access for its pinned virtualenv)";
}

bool read_text(const fs::path& file, std::string& text) {
  std::ifstream in(file);
  if (!in) return false;
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool read_f32(const fs::path& file, std::vector<float>& values) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() % sizeof(float)) return false;
  values.resize(bytes.size() / sizeof(float));
  // Little-endian hosts only (x86-64, aarch64, armv7 as built here): the bytes are the format.
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return true;
}

// The int8 code a dequantized value came from: exact for a value on the grid.
int to_code(float value, double scale, int zero_point) {
  const double q = std::nearbyint(static_cast<double>(value) / scale) + zero_point;
  return static_cast<int>(std::min(127.0, std::max(-128.0, q)));
}

struct Agreement {
  size_t count = 0, exact = 0, within_one = 0;
  int max_diff = 0;
  size_t worst = 0;
  void add(const std::vector<float>& ours, const std::vector<float>& theirs, double scale,
           int zero_point) {
    for (size_t i = 0; i < ours.size(); ++i) {
      const int d =
          std::abs(to_code(ours[i], scale, zero_point) - to_code(theirs[i], scale, zero_point));
      exact += d == 0;
      within_one += d <= 1;
      if (d > max_diff) {
        max_diff = d;
        worst = count + i;
      }
    }
    count += ours.size();
  }
  double exact_fraction() const { return count ? double(exact) / double(count) : 0.0; }
};

const Json& manifest_model(const Json& manifest, const std::string& name) {
  for (const Json& m : manifest["models"].array)
    if (m["name"].string == name) return m;
  static const Json kMissing;
  return kMissing;
}

void check_model(const std::string& name, const Bound& bound) {
  const fs::path dir = models_dir();
  std::string text;
  if (!read_text(dir / "manifest.json", text)) FAIL(missing_models_message(dir));
  Json manifest;
  REQUIRE(polyhead::testing::parse_json(text, manifest));
  const Json& entry = manifest_model(manifest, name);
  if (entry.kind != Json::kObject)
    FAIL(name << " is not in " << (dir / "manifest.json").string() << "; "
              << missing_models_message(dir));
  const fs::path tflite = dir / entry["file"].string;
  INFO("model " << tflite.string());

  auto phm = polyhead::tflite::convert_file(tflite.string(), {});
  if (!phm.is_ok()) FAIL("conversion failed: " << phm.status().to_string());
  auto model = polyhead::Model::from_bytes(*phm);
  if (!model.is_ok()) FAIL("the converted model does not load: " << model.status().to_string());
  REQUIRE(model->inputs().size() == 1);
  const std::string input = model->inputs()[0].name;
  auto engine = polyhead::Engine::create(*model);
  if (!engine.is_ok()) FAIL(engine.status().to_string());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL(plan.status().to_string());

  const std::vector<Json>& outputs = entry["outputs"].array;
  REQUIRE(!outputs.empty());
  // Per output: against LiteRT's default (XNNPACK) and, reported only, its reference kernels.
  std::vector<Agreement> vs_litert(outputs.size()), vs_reference(outputs.size());
  for (const Json& sample : entry["samples"].array) {
    INFO("input " << sample["input"].string << " (" << sample["photo"].string << ")");
    std::vector<float> x;
    REQUIRE(read_f32(dir / sample["input"].string, x));
    const polyhead::Status set = plan->set_input(input, x.data(), x.size());
    if (!set.is_ok()) FAIL(set.to_string());
    const polyhead::Status ran = plan->run();
    if (!ran.is_ok()) FAIL(ran.to_string());
    for (size_t k = 0; k < outputs.size(); ++k) {
      const std::string out_name = outputs[k]["name"].string;
      INFO("output " << out_name);
      auto view = plan->output(out_name, out_name);
      if (!view.is_ok()) FAIL(view.status().to_string());
      REQUIRE(view->f32() != nullptr);
      size_t elements = 1;
      for (const Json& d : outputs[k]["shape"].array) elements *= static_cast<size_t>(d.number);
      const std::vector<float> ours(view->f32(), view->f32() + elements);
      const Json& q = outputs[k]["quantization"];
      REQUIRE(q.kind == Json::kObject);
      const double scale = q["scale"].number;
      const int zero_point = static_cast<int>(q["zero_point"].number);
      std::vector<float> theirs, reference;
      REQUIRE(read_f32(dir / sample["litert"].array[k].string, theirs));
      REQUIRE(read_f32(dir / sample["litert_reference_kernels"].array[k].string, reference));
      REQUIRE(theirs.size() == elements);
      REQUIRE(reference.size() == elements);
      vs_litert[k].add(ours, theirs, scale, zero_point);
      vs_reference[k].add(ours, reference, scale, zero_point);
    }
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Agreement& a = vs_litert[k];
    const Agreement& r = vs_reference[k];
    // The measured agreement, for docs/int8.md and the report (ctest --output-on-failure -V).
    std::cout << name << " " << outputs[k]["name"].string << ": " << a.count << " codes, "
              << 100.0 * a.exact_fraction() << "% exact, "
              << 100.0 * double(a.within_one) / double(a.count ? a.count : 1)
              << "% within 1 LSB, max " << a.max_diff << " LSB vs LiteRT (XNNPACK); "
              << 100.0 * r.exact_fraction() << "% exact, max " << r.max_diff
              << " LSB vs LiteRT's reference kernels\n";
    INFO("output " << outputs[k]["name"].string << ": " << a.exact << " of " << a.count
                   << " codes equal, max difference " << a.max_diff << " LSB at element "
                   << a.worst);
    CHECK(a.count > 0);
    CHECK(a.max_diff <= bound.max_lsb);
    CHECK(a.exact_fraction() >= bound.min_exact);
  }
}

}  // namespace

TEST_CASE("full-integer MobileNetV2 agrees with LiteRT int8", "[int8][tflite]") {
  check_model("mobilenet_v2_int8", kStrict);
}

TEST_CASE("full-integer MobileNetV3Small agrees with LiteRT int8", "[int8][tflite]") {
  check_model("mobilenet_v3_small_int8", kStrict);
}

TEST_CASE("full-integer two-head detector agrees with LiteRT int8", "[int8][tflite]") {
  check_model("detector_int8", kStrict);
}
