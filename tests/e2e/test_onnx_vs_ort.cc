// Agreement with ONNX Runtime: every model scripts/make_onnx_models.sh generates (PyTorch exports,
// docs/onnx_models.md) is run by ONNX Runtime (scripts/ort_reference.sh: npm onnxruntime-node, CPU
// execution provider) on the input it generates, converted by the ONNX importer, run by the Engine
// on the same bytes, and every output must agree within 1e-4 x the output's largest magnitude.
// Output names and shapes must be ONNX's (NCHW kept). unsupported.onnx must be refused with the
// operators unsupported.txt lists.
//
// The models are generated here on first use (the script caches them by a stamp) into
// onnx_models_dir() (POLYHEAD_ONNX_MODELS_DIR overrides build/onnx_models). The tests skip, with a
// warning, only when /usr/bin/python3 lacks torch or node is missing; scripts/test.sh installs
// both, so in CI they run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "converters/onnx/onnx_converter.h"
#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "support/json_reader.h"
#include "support/test_files.h"

namespace fs = std::filesystem;

namespace {

using polyhead::testing::Json;
using polyhead::testing::onnx_models_dir;
using polyhead::testing::run_shell;
using polyhead::testing::shell_quote;
using polyhead::testing::TempDir;

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool read_f32(const fs::path& file, std::vector<float>& values) {
  const std::string bytes = read_text(file);
  if (bytes.empty() || bytes.size() % sizeof(float)) return false;
  values.resize(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());  // little-endian hosts only
  return true;
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t k = 0; k < dims.size(); ++k) s += (k ? "," : "") + std::to_string(dims[k]);
  return s + "]";
}

std::vector<int64_t> dims_of(const Json& shape) {
  std::vector<int64_t> d;
  for (const Json& v : shape.array) d.push_back(static_cast<int64_t>(v.number));
  return d;
}

// Whether the models can be made: made (ready), or not and why; `skip` when the reason is one
// the brief allows to skip for (no torch for /usr/bin/python3, no node).
struct Setup {
  bool ready = false;
  bool skip = false;
  std::string why;
};

const Setup& setup() {
  static const Setup s = [] {
    Setup r;
    if (run_shell("command -v node").exit_code != 0) {
      r.skip = true;
      r.why = "node is missing (apt-get install nodejs npm; scripts/test.sh installs it)";
      return r;
    }
    const std::string cmd =
        shell_quote(POLYHEAD_MAKE_ONNX_MODELS) + " " + shell_quote(onnx_models_dir());
    const auto made = run_shell(cmd);
    if (made.exit_code == 0) {
      r.ready = true;
      return r;
    }
    if (run_shell("/usr/bin/python3 -c 'import torch'").exit_code != 0) {
      r.skip = true;
      r.why =
          "/usr/bin/python3 cannot import torch (apt-get install python3-torch "
          "python3-torchvision python3-onnx; scripts/test.sh installs them)";
      return r;
    }
    r.why = "generating the ONNX models failed (exit " + std::to_string(made.exit_code) +
            "): " + cmd + "\n" + made.output;
    return r;
  }();
  return s;
}

// False (after a WARN) when the test must skip; fails when the models cannot be made otherwise.
bool models_available() {
  const Setup& s = setup();
  if (s.skip) {
    WARN("skipped: " << s.why);
    return false;
  }
  if (!s.ready) FAIL(s.why);
  return true;
}

struct Expected {
  std::string name;
  std::vector<int64_t> shape;
};

struct Reference {
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
  };
  std::vector<Tensor> inputs, outputs;
};

// Runs ONNX Runtime on `model` with its generated input; reads inputs and outputs back.
Reference run_ort(const fs::path& model, const fs::path& out) {
  const std::string cmd = shell_quote(POLYHEAD_ORT_REFERENCE) + " " + shell_quote(model.string()) +
                          " --out " + shell_quote(out.string());
  const auto r = run_shell(cmd);
  if (r.exit_code != 0)
    FAIL("the ONNX Runtime reference failed (exit " << r.exit_code << "): " << cmd << "\n"
                                                    << r.output
                                                    << "\n(scripts/ort_reference.sh --install "
                                                       "installs it; scripts/test.sh does)");
  Json root;
  const std::string text = read_text(out / "outputs.json");
  if (!polyhead::testing::parse_json(text, root))
    FAIL("cannot read " << (out / "outputs.json").string() << ":\n" << text);
  Reference ref;
  for (const char* kind : {"inputs", "outputs"}) {
    const Json* list = root.get(kind);
    REQUIRE(list != nullptr);
    for (const Json& t : list->array) {
      Reference::Tensor tensor;
      tensor.name = t["name"].string;
      tensor.shape = dims_of(t["shape"]);
      const fs::path file = fs::path(t["file"].string).is_absolute() ? fs::path(t["file"].string)
                                                                     : out / t["file"].string;
      INFO(kind << " " << tensor.name << " in " << file.string());
      REQUIRE(read_f32(file, tensor.values));
      int64_t n = 1;
      for (int64_t d : tensor.shape) n *= d;
      REQUIRE(static_cast<int64_t>(tensor.values.size()) == n);
      (std::string(kind) == "inputs" ? ref.inputs : ref.outputs).push_back(std::move(tensor));
    }
  }
  return ref;
}

// The model's entry in manifest.json.
Json manifest_entry(const std::string& file) {
  Json root;
  const fs::path path = fs::path(onnx_models_dir()) / "manifest.json";
  REQUIRE(polyhead::testing::parse_json(read_text(path), root));
  for (const auto& kv : root["models"].object)
    if (kv.second["file"].string == file) return kv.second;
  FAIL(file << " is not in " << path.string());
  return {};
}

// Converts `file`, runs it on ONNX Runtime's input and compares every output with ONNX Runtime's.
// `expected` (when given) are the outputs' names and shapes in order.
void check_model(const std::string& file, const std::vector<Expected>& expected = {}) {
  if (!models_available()) return;
  const auto started = std::chrono::steady_clock::now();
  const fs::path path = fs::path(onnx_models_dir()) / file;
  INFO("model " << path.string());
  REQUIRE(fs::exists(path));
  TempDir tmp;
  REQUIRE_FALSE(tmp.path().empty());
  const Reference ref = run_ort(path, tmp.path() / "ort");
  REQUIRE(!ref.outputs.empty());

  if (!expected.empty()) {
    REQUIRE(ref.outputs.size() == expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
      CHECK(ref.outputs[k].name == expected[k].name);
      CHECK(ref.outputs[k].shape == expected[k].shape);
    }
  }

  polyhead::onnx_import::ConvertReport report;
  auto phm = polyhead::onnx_import::convert_file(path.string(), {}, &report);
  if (!phm.is_ok()) FAIL("conversion failed: " << phm.status().to_string());
  const Json entry = manifest_entry(file);
  CHECK(report.opset == static_cast<int>(entry["opset"].number));
  auto model = polyhead::Model::from_bytes(*phm);
  if (!model.is_ok()) FAIL("the converted model does not load: " << model.status().to_string());

  // Inputs: ONNX's names and NCHW shapes.
  REQUIRE(model->inputs().size() == ref.inputs.size());
  for (size_t k = 0; k < ref.inputs.size(); ++k) {
    CHECK(model->inputs()[k].name == ref.inputs[k].name);
    CHECK(std::vector<int64_t>(model->inputs()[k].shape.begin(), model->inputs()[k].shape.end()) ==
          ref.inputs[k].shape);
  }
  // One task per ONNX output, named after it, in the graph's order.
  REQUIRE(model->tasks().size() == ref.outputs.size());
  for (size_t k = 0; k < ref.outputs.size(); ++k) {
    CHECK(model->tasks()[k].name == ref.outputs[k].name);
    REQUIRE(model->tasks()[k].outputs.size() == 1);
    CHECK(model->tasks()[k].outputs[0].name == ref.outputs[k].name);
  }

  auto engine = polyhead::Engine::create(*model);
  if (!engine.is_ok()) FAIL(engine.status().to_string());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL(plan.status().to_string());
  for (const auto& in : ref.inputs) {
    const polyhead::Status s = plan->set_input(in.name, in.values.data(), in.values.size());
    if (!s.is_ok()) FAIL(s.to_string());
  }
  const polyhead::Status ran = plan->run();
  if (!ran.is_ok()) FAIL(ran.to_string());

  std::ostringstream summary;
  for (const auto& out : ref.outputs) {
    INFO("output " << out.name << " " << dims_text(out.shape));
    auto view = plan->output(out.name, out.name);
    if (!view.is_ok()) FAIL(view.status().to_string());
    REQUIRE(view->f32() != nullptr);
    const std::vector<int64_t> ours(view->shape.begin(), view->shape.end());
    INFO("polyhead's shape " << dims_text(ours));
    REQUIRE(ours == out.shape);
    double max_ref = 0, max_diff = 0;
    size_t worst = 0;
    bool finite = true;
    for (size_t i = 0; i < out.values.size(); ++i) {
      const double got = view->f32()[i];
      finite = finite && std::isfinite(got);
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(out.values[i])));
      const double d = std::fabs(got - out.values[i]);
      if (!(d <= max_diff)) {
        max_diff = d;
        worst = i;
      }
    }
    const double tolerance = 1e-4 * max_ref;
    INFO("max abs diff " << max_diff << " at element " << worst << " (polyhead "
                         << view->f32()[worst] << ", onnxruntime " << out.values[worst]
                         << "), max |onnxruntime| " << max_ref << ", tolerance " << tolerance);
    CHECK(finite);
    CHECK(max_ref > 0);
    CHECK(max_diff <= tolerance);
    summary << "  " << out.name << " " << dims_text(out.shape) << ": max abs diff " << max_diff
            << ", max |reference| " << max_ref << ", relative " << max_diff / max_ref << "\n";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << file << " vs onnxruntime (" << seconds << " s):\n" << summary.str() << std::flush;
}

// Every model make_models.py writes, except unsupported.onnx; a new model must be added here.
const std::set<std::string> kChecked = {"mobilenet_v2.onnx",
                                        "mobilenet_v2_035_96.onnx",
                                        "mobilenet_v3_small.onnx",
                                        "multitask.onnx",
                                        "classify.onnx",
                                        "segment.onnx",
                                        "detect.onnx",
                                        "ops_opset11.onnx",
                                        "ops_opset17.onnx",
                                        "shape_subgraph.onnx",
                                        "shufflenet_v2_x0_5.onnx",
                                        "slicing_opset11.onnx",
                                        "slicing_opset17.onnx"};

}  // namespace

TEST_CASE("onnx vs ort: every generated model is checked here", "[onnx][ort]") {
  if (!models_available()) return;
  Json root;
  REQUIRE(polyhead::testing::parse_json(read_text(fs::path(onnx_models_dir()) / "manifest.json"),
                                        root));
  std::set<std::string> files;
  for (const auto& kv : root["models"].object) files.insert(kv.second["file"].string);
  std::set<std::string> want = kChecked;
  want.insert("unsupported.onnx");
  CHECK(files == want);
  for (const std::string& f : files) CHECK(fs::exists(fs::path(onnx_models_dir()) / f));
}

TEST_CASE("onnx vs ort: multitask.onnx", "[onnx][ort]") {
  check_model("multitask.onnx", {{"classify_logits", {1, 10}},
                                 {"segment_logits", {1, 4, 160, 160}},
                                 {"detect_boxes", {1, 375, 4}},
                                 {"detect_scores", {1, 375, 5}}});
}

TEST_CASE("onnx vs ort: classify.onnx", "[onnx][ort]") {
  check_model("classify.onnx", {{"classify_logits", {1, 10}}});
}

TEST_CASE("onnx vs ort: segment.onnx", "[onnx][ort]") {
  check_model("segment.onnx", {{"segment_logits", {1, 4, 160, 160}}});
}

TEST_CASE("onnx vs ort: detect.onnx", "[onnx][ort]") {
  check_model("detect.onnx", {{"detect_boxes", {1, 375, 4}}, {"detect_scores", {1, 375, 5}}});
}

TEST_CASE("onnx vs ort: mobilenet_v2.onnx", "[onnx][ort]") {
  check_model("mobilenet_v2.onnx", {{"logits", {1, 1000}}});
}

TEST_CASE("onnx vs ort: mobilenet_v2_035_96.onnx", "[onnx][ort]") {
  check_model("mobilenet_v2_035_96.onnx", {{"logits", {1, 10}}});
}

TEST_CASE("onnx vs ort: mobilenet_v3_small.onnx", "[onnx][ort]") {
  check_model("mobilenet_v3_small.onnx", {{"logits", {1, 1000}}});
}

TEST_CASE("onnx vs ort: ops_opset11.onnx", "[onnx][ort]") {
  check_model("ops_opset11.onnx", {{"out_a", {1, 24, 32, 32}},
                                   {"out_b", {1, 10}},
                                   {"out_c", {1, 256, 12}},
                                   {"out_d", {1, 16}}});
}

TEST_CASE("onnx vs ort: ops_opset17.onnx", "[onnx][ort]") {
  check_model("ops_opset17.onnx", {{"out_a", {1, 24, 32, 32}},
                                   {"out_b", {1, 10}},
                                   {"out_c", {1, 256, 12}},
                                   {"out_d", {1, 16}}});
}

TEST_CASE("onnx vs ort: shape_subgraph.onnx", "[onnx][ort]") {
  check_model("shape_subgraph.onnx", {{"logits", {1, 10}}});
}

TEST_CASE("onnx vs ort: shufflenet_v2_x0_5.onnx", "[onnx][ort]") {
  check_model("shufflenet_v2_x0_5.onnx", {{"logits", {1, 1000}}});
}

TEST_CASE("onnx vs ort: slicing_opset11.onnx", "[onnx][ort]") {
  check_model("slicing_opset11.onnx", {{"out_a", {1, 16, 16, 16}},
                                       {"out_b", {1, 4, 32, 32}},
                                       {"out_c", {1, 5, 32}},
                                       {"out_d", {1, 10}}});
}

TEST_CASE("onnx vs ort: slicing_opset17.onnx", "[onnx][ort]") {
  check_model("slicing_opset17.onnx", {{"out_a", {1, 16, 16, 16}},
                                       {"out_b", {1, 4, 32, 32}},
                                       {"out_c", {1, 5, 32}},
                                       {"out_d", {1, 10}}});
}

TEST_CASE("onnx vs ort: unsupported.onnx is refused with the operators unsupported.txt lists",
          "[onnx][ort]") {
  if (!models_available()) return;
  const fs::path dir = onnx_models_dir();
  // unsupported.txt: "op_type count first_node_name" per line, in graph order.
  std::istringstream lines(read_text(dir / "unsupported.txt"));
  std::string expected = "unsupported operators: ", op, first;
  int count = 0, listed = 0;
  while (lines >> op >> count >> first) {
    expected +=
        (listed++ ? ", " : "") + op + " x" + std::to_string(count) + " (first: '" + first + "')";
  }
  REQUIRE(listed == 3);
  auto r = polyhead::onnx_import::convert_file((dir / "unsupported.onnx").string(), {});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == polyhead::ErrorCode::kUnsupported);
  CHECK(r.status().message() == (dir / "unsupported.onnx").string() + ": " + expected);
}
