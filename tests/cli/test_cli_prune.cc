// `polyhead prune` end to end: the built binary on a small ModelBuilder model (unstructured and
// --structured, the text and JSON summaries, sensitivity and --max-drop on one photo, progress on
// stderr), on MediaPipe's selfie segmentation, and its errors (exit 2 for a bad command line, 1
// for what the pruner refuses; nothing written either way).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli_streams.h"
#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "support/cli_runner.h"
#include "support/json_reader.h"
#include "support/test_files.h"
#include "support/test_models.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;
using namespace polyhead;

namespace {

using testing::Json;
using testing::ShellResult;
using testing::TempDir;

using testing::run_cli;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int must(Result<int> r) {
  if (!r.is_ok()) FAIL(r.status().to_string());
  return *r;
}

Json parse(const std::string& text) {
  Json j;
  INFO(text);
  REQUIRE(testing::parse_json(text, j));
  return j;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

ShellResult run_ok(const std::vector<std::string>& args) {
  const ShellResult o = run_cli(args);
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  return o;
}

std::string data_file(const std::string& name) {
  std::string path = (fs::path(testing::data_dir()) / name).string();
  if (!fs::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
  return path;
}

// image [1,16,16,3] -> stem conv3x3 s2 + relu6 [1,8,8,8] -> dw conv3x3 + relu [1,8,8,8]
//   -> expand conv1x1 [1,8,8,16] + relu -> proj conv1x1 [1,8,8,8] -> add (stem + proj)
//   -> mean [1,8] -> fc [1,5] -> softmax
//   task "classify" (probabilities), task "embed" (the mean, other)
std::string write_model(const std::string& path) {
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 16;
  pre.pixel_scale = 1.f;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  const int image = b.add_input("image", Shape{1, 16, 16, 3}, pre);
  uint32_t seed = 3;
  auto constant = [&](const std::string& name, const Shape& shape, float scale) {
    return b.add_constant(
        name, shape, testing::random_values(static_cast<size_t>(shape.elements()), seed++, scale));
  };
  Conv2DParams s;
  s.stride_h = s.stride_w = 2;
  s.pad_bottom = s.pad_right = 1;
  s.activation = Activation::relu6();
  const int stem = must(b.conv2d("stem", image, constant("stem.w", Shape{8, 3, 3, 3}, 0.4f),
                                 constant("stem.b", Shape{8}, 0.1f), s));
  Conv2DParams d;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  d.groups = 8;
  d.activation = Activation::relu();
  const int dw = must(b.conv2d("dw", stem, constant("dw.w", Shape{8, 3, 3, 1}, 0.5f),
                               constant("dw.b", Shape{8}, 0.1f), d));
  Conv2DParams relu;
  relu.activation = Activation::relu();
  const int expand = must(b.conv2d("expand", dw, constant("expand.w", Shape{16, 1, 1, 8}, 0.5f),
                                   constant("expand.b", Shape{16}, 0.1f), relu));
  const int proj =
      must(b.conv2d("proj", expand, constant("proj.w", Shape{8, 1, 1, 16}, 0.5f), -1, {}));
  const int add = must(b.binary("add", BinaryOp::kAdd, stem, proj));
  const int mean = must(b.mean("mean", add, false));
  const int fc = must(b.fully_connected("fc", mean, constant("fc.w", Shape{5, 8}, 1.f),
                                        constant("fc.b", Shape{5}, 0.1f)));
  const int soft = must(b.softmax("softmax", fc));
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"probs", soft}}).is_ok());
  REQUIRE(b.add_task("embed", TaskKind::kOther, {{"vector", mean}}).is_ok());
  REQUIRE(b.write(path).is_ok());
  return path;
}

// One photo with shapes on it, in dir/photos.
std::string write_photo(const TempDir& dir) {
  const std::string folder = dir / "photos";
  fs::create_directories(folder);
  cv::Mat img(48, 56, CV_8UC3, cv::Scalar(40, 90, 200));
  cv::rectangle(img, cv::Rect(6, 6, 18, 14), cv::Scalar(250, 30, 10), cv::FILLED);
  cv::circle(img, cv::Point(30, 21), 8, cv::Scalar(0, 255, 120), cv::FILLED);
  REQUIRE(cv::imwrite((fs::path(folder) / "photo0.png").string(), img));
  return folder;
}

void require_loads_and_runs(const std::string& path) {
  auto m = Model::load_file(path);
  if (!m.is_ok()) FAIL(m.status().to_string());
  auto engine = Engine::create(*m);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL(plan.status().to_string());
  const std::vector<float> x = testing::random_values(16 * 16 * 3, 5, 1.f);
  REQUIRE(plan->set_input("image", x.data(), x.size()).is_ok());
  REQUIRE(plan->run().is_ok());
}

}  // namespace

TEST_CASE("cli prune: unstructured and structured on a small model") {
  TempDir dir;
  const std::string model = write_model(dir / "model.phm");
  const std::string out = dir / "sparse.phm";
  const ShellResult o = run_ok({"prune", model, "-o", out, "--sparsity", "0.5", "--quiet"});
  CHECK(contains(o.output, "pruned " + model + " -> " + out));
  CHECK(contains(o.output, "unstructured"));
  CHECK(contains(o.output, "not measured (no --calib)"));
  CHECK(contains(o.output, "expand"));
  CHECK(contains(o.output, "[16,1,1,8]"));
  CHECK(contains(o.output, "3x3 convolution"));  // the stem, skipped
  CHECK(contains(o.output, "depthwise convolution"));
  require_loads_and_runs(out);
  CHECK_FALSE(fs::exists(out + ".partial"));
  auto pruned = Model::load_file(out);
  REQUIRE(pruned.is_ok());
  CHECK(pruned->metadata("pruning.method") == "blocks");

  const std::string narrow = dir / "narrow.phm";
  const ShellResult s =
      run_ok({"prune", model, "-o", narrow, "--sparsity", "0.5", "--structured", "--json", "-"});
  const Json j = parse(s.output);
  CHECK(j["method"].string == "structured");
  CHECK(j["input"].string == model);
  CHECK(j["output"].string == narrow);
  CHECK(j["target_sparsity"].number == Approx(0.5));
  CHECK(j["evaluation_images"].number == 0);
  const Json& layers = j["layers"];
  REQUIRE(layers.array.size() == 1);
  CHECK(layers.array[0]["layer"].string == "expand");
  CHECK(layers.array[0]["channels"].number == 16);
  CHECK(layers.array[0]["kept_channels"].number == 8);
  CHECK(j["pruned_macs"].number < j["original_macs"].number);
  // The stem and the projection meet at the residual ADD, whose mean is task "embed"'s output:
  // their channels stay. The fully connected layer feeds the SOFTMAX.
  std::map<std::string, std::string> skipped;
  for (const Json& k : j["skipped"].array) skipped[k["layer"].string] = k["reason"].string;
  CHECK(skipped["stem"] ==
        "its output channels reach output 'vector' of task 'embed' (tied with 1 other layer)");
  CHECK(contains(skipped["fc"], "read by SOFTMAX node 'softmax'"));
  CHECK(fs::file_size(narrow) < fs::file_size(model));
  require_loads_and_runs(narrow);
}

TEST_CASE("cli prune: sensitivity and --max-drop on a photo, progress on stderr") {
  TempDir dir;
  const std::string model = write_model(dir / "model.phm");
  const std::string photos = write_photo(dir);
  const std::string out = dir / "out.phm";
  const std::string json = dir / "summary.json";
  const testing::CliStreams loud = testing::run_cli_streams(
      {"prune", model, "-o", out, "--sparsity", "0.4", "--calib", photos, "--json", json}, dir);
  INFO(loud.out << loud.err);
  REQUIRE(loud.exit_code == 0);
  CHECK(
      contains(loud.err, "polyhead prune: sensitivity of 3 layers, each pruned alone, on 1 photo"));
  CHECK_FALSE(contains(loud.out, "polyhead prune:"));
  CHECK(contains(loud.out, "each layer pruned alone at 0.5, on 1 photo(s)"));
  const Json j = parse(read_text(json));
  CHECK(j["evaluation_images"].number == 1);
  // auto: measured both ways, the better one kept.
  const Json& correction = j["bias_correction"];
  CHECK(correction["images"].number == 1);
  const double with = correction["with"]["worst_drop"].number;
  const double without = correction["without"]["worst_drop"].number;
  if (with != without) CHECK(correction["applied"].boolean == (with < without));
  CHECK(j["compression"]["worst_drop"].number == Approx(std::min(with, without)));
  for (const Json& l : j["layers"].array) CHECK(l["sensitivity"]["tasks"].array.size() == 2);

  const testing::CliStreams budget =
      testing::run_cli_streams({"prune", model, "-o", out, "--max-drop", "1", "--calib", photos,
                                "--tasks", "classify", "--quiet"},
                               dir);
  INFO(budget.out << budget.err);
  REQUIRE(budget.exit_code == 0);
  CHECK(budget.err.empty());
  CHECK(contains(budget.out, "--max-drop   1: sparsity 0.95"));
}

// Each case starts the binary: the list keeps to the errors users meet most (the library test
// covers the rest).
TEST_CASE("cli prune: errors") {
  TempDir dir;
  const std::string model = write_model(dir / "model.phm");
  const std::string photos = write_photo(dir);
  const std::string out = dir / "out.phm";
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"prune", model, "--sparsity", "0.5"}, 2, "missing -o"},
      {{"prune", "-o", out, "--sparsity", "0.5"}, 2, "needs a model"},
      {{"prune", model, "-o", out}, 2, "missing --sparsity S or --max-drop X"},
      {{"prune", model, "-o", out, "--sparsity", "1"}, 2, "expected a number in (0, 1)"},
      {{"prune", model, "-o", out, "--sparsity", "0"}, 2, "expected a number in (0, 1)"},
      {{"prune", model, "-o", out, "--sparsity", "half"}, 2, "invalid value 'half' for --sparsity"},
      {{"prune", model, "-o", out, "--sparsity", "0.5", "--max-drop", "0.1", "--calib", photos},
       2,
       "not both"},
      {{"prune", model, "-o", out, "--max-drop", "0.1"}, 2, "--max-drop needs --calib"},
      {{"prune", model, "-o", out, "--max-drop", "2", "--calib", photos}, 2, "--max-drop"},
      {{"prune", model, "-o", model, "--sparsity", "0.5"}, 2, "would overwrite"},
      {{"prune", model, "-o", out, "--sparsity", "0.5", "--bias-correction", "on"},
       2,
       "--bias-correction needs --calib"},
      {{"prune", model, "-o", out, "--sparsity", "0.5", "--calib", photos, "--bias-correction",
        "maybe"},
       2,
       "invalid value 'maybe' for --bias-correction"},
      {{"prune", model, "-o", out, "--sparsity", "0.5", "--tasks", "nope"},
       1,
       "--tasks: the model has no task 'nope' (it has classify, embed)"},
      {{"prune", model, "-o", out, "--sparsity", "0.5", "--layers", "dw"},
       1,
       "node 'dw' cannot be pruned: depthwise convolution"},
      {{"prune", model, "-o", out, "--sparsity", "0.5", "--structured", "--layers", "fc"},
       1,
       "node 'fc' cannot be pruned: its output channels are read by SOFTMAX node 'softmax'"},
      {{"prune", model, "-o", out, "--max-drop", "0", "--calib", photos, "--quiet"},
       1,
       "no sparsity meets --max-drop 0: the smallest drop reached is"},
      {{"prune", dir / "missing.phm", "-o", out, "--sparsity", "0.5"}, 1, "cannot load model"},
  };
  for (const Case& c : cases) {
    const ShellResult o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == c.code);
    CHECK(contains(o.output, c.message));
  }
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(out + ".partial"));
  const ShellResult help = run_ok({"help", "prune"});
  CHECK(contains(help.output, "usage: polyhead prune MODEL -o OUT.phm"));
  CHECK(contains(run_ok({"--help"}).output, "prune"));
}

TEST_CASE("cli prune: the selfie segmentation, structured and unstructured", "[needs-data]") {
  TempDir dir;
  const std::string model = dir / "selfie.phm";
  run_ok({"convert", data_file("selfie_segmentation.tflite"), "--preset",
          "mediapipe-selfie-segmentation", "-o", model});
  const std::string photo = data_file("sample1.jpg");
  const std::string narrow = dir / "narrow.phm";
  const ShellResult s = run_ok({"prune", model, "-o", narrow, "--sparsity", "0.25", "--structured",
                                "--json", "-", "--quiet"});
  const Json j = parse(s.output);
  CHECK(j["sparsity"].number == Approx(0.25).margin(0.02));
  CHECK(j["layers"].array.size() > 10);
  CHECK(j["output_bytes"].number < 0.9 * j["input_bytes"].number);
  const std::string sparse = dir / "sparse.phm";
  // Two layers keep the sensitivity cheap under emulation.
  const ShellResult u = run_ok({"prune", model, "-o", sparse, "--sparsity", "0.5", "--calib", photo,
                                "--layers", "conv2d_5,conv2d_6", "--quiet"});
  CHECK(contains(u.output, "each layer pruned alone at 0.5, on 1 photo(s)"));
  CHECK(contains(u.output, "compressed against the original (1 image(s)"));
  CHECK(contains(u.output, "(1 - mask IoU)"));
  const ShellResult c = run_ok({"compare", model, narrow, "--images", photo});
  CHECK(contains(c.output, "IoU"));
}
