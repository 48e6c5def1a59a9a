// `polyhead quantize` end to end: the built binary on a small ModelBuilder model (summary, JSON,
// --sensitivity, --auto, the written model run against the float one) and on MediaPipe's selfie
// segmentation (mask IoU of int8 against float through `polyhead compare`), and its errors (exit 2
// for a bad command line, 1 for bad models or calibration images).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli_streams.h"
#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/vision/preprocess.h"
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

Json read_json(const std::string& path) {
  std::ifstream in(path);
  return parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

std::string data_file(const std::string& name) {
  std::string path = (fs::path(testing::data_dir()) / name).string();
  if (!fs::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
  return path;
}

ShellResult run_ok(const std::vector<std::string>& args) {
  const ShellResult o = run_cli(args);
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  return o;
}

// image [1,16,16,3] -> stem conv3x3 s2 + relu6 [1,8,8,8] -> dw conv3x3 + relu [1,8,8,8]
//   -> proj conv1x1 [1,8,8,8] -> add (stem + proj) -> mean [1,8] -> fc [1,5] -> softmax
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
  const int proj = must(b.conv2d("proj", dw, constant("proj.w", Shape{8, 1, 1, 8}, 0.5f), -1, {}));
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

// Photos of different sizes with shapes on them, in `dir`.
std::string write_photos(const TempDir& dir, int count = 4) {
  const std::string folder = dir / "photos";
  fs::create_directories(folder);
  for (int i = 0; i < count; ++i) {
    cv::Mat img(40 + 8 * i, 56 - 4 * i, CV_8UC3, cv::Scalar(40 * i, 90, 200 - 40 * i));
    cv::rectangle(img, cv::Rect(4 + 2 * i, 6, 18, 14), cv::Scalar(250, 30 * i, 10), cv::FILLED);
    cv::circle(img, cv::Point(30, 18 + 3 * i), 8, cv::Scalar(0, 255, 120), cv::FILLED);
    REQUIRE(cv::imwrite((fs::path(folder) / ("photo" + std::to_string(i) + ".png")).string(), img));
  }
  return folder;
}

// Every output of every task of `model` on `photo`, in task order.
std::vector<std::vector<float>> outputs(const std::string& model, const std::string& photo) {
  auto m = Model::load_file(model);
  REQUIRE(m.is_ok());
  auto engine = Engine::create(*m);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL(plan.status().to_string());
  auto image = vision::load_image(photo);
  REQUIRE(image.is_ok());
  const InputInfo& in = m->inputs()[0];
  auto dst = plan->input_buffer(in.name);
  REQUIRE(dst.is_ok());
  REQUIRE(vision::preprocess(*image, in, *dst).is_ok());
  REQUIRE(plan->run().is_ok());
  std::vector<std::vector<float>> out;
  for (const TaskInfo& t : m->tasks())
    for (const TaskOutputInfo& o : t.outputs) {
      auto v = plan->output(t.name, o.name);
      REQUIRE(v.is_ok());
      REQUIRE(v->type == ElementType::kF32);
      out.emplace_back(v->f32(), v->f32() + v->shape.elements());
    }
  return out;
}

}  // namespace

TEST_CASE("cli quantize: a small model, quantized and run against float") {
  TempDir dir;
  const std::string fp32 = write_model(dir / "model.phm");
  const std::string photos = write_photos(dir);
  const std::string int8 = dir / "model_int8.phm";
  const ShellResult o = run_ok({"quantize", fp32, "--calib", photos, "-o", int8, "--method",
                                "percentile", "--json", dir / "q.json"});
  CHECK(contains(o.output, "quantized " + fp32 + " -> " + int8));
  CHECK(contains(o.output, "5 int8, 2 float"));  // all but the softmax and the stem
  CHECK(contains(o.output, "softmax (SOFTMAX, float-only operator)"));
  CHECK(contains(o.output, "stem (CONV_2D, stem (--int8-stem quantizes it))"));
  CHECK(contains(o.output, "4 calibration image(s)"));

  const Json j = read_json(dir / "q.json");
  CHECK(j["method"].string == "percentile");
  CHECK(j["percentile"].number == Approx(99.99));
  CHECK(j["calibration_images"].number == 4);
  CHECK(j["int8_nodes"].number == 5);
  CHECK(j["output_bytes"].number == static_cast<double>(fs::file_size(int8)));
  CHECK(j["size_ratio"].number == Approx(j["output_bytes"].number / j["input_bytes"].number));
  REQUIRE(j["nodes"].array.size() == 7);

  const ShellResult inspect = run_ok({"inspect", int8});
  CHECK(contains(inspect.output, "format 1.8"));  // per-channel weight scales stored as halves

  // The int8 model keeps the float model's inputs and outputs and stays close to it.
  const std::string photo = (fs::path(photos) / "photo1.png").string();
  const auto want = outputs(fp32, photo);
  const auto got = outputs(int8, photo);
  REQUIRE(got.size() == want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    REQUIRE(got[k].size() == want[k].size());
    float largest = 0, error = 0;
    for (size_t i = 0; i < want[k].size(); ++i) {
      largest = std::max(largest, std::fabs(want[k][i]));
      error = std::max(error, std::fabs(want[k][i] - got[k][i]));
    }
    INFO("output " << k << ": largest " << largest << ", error " << error);
    CHECK(error <= 0.05f * largest);
  }
  // The same top class.
  const auto top = [](const std::vector<float>& v) {
    return std::max_element(v.begin(), v.end()) - v.begin();
  };
  CHECK(top(got[0]) == top(want[0]));
}

TEST_CASE("cli quantize: --keep-float, --sensitivity and --auto") {
  TempDir dir;
  const std::string fp32 = write_model(dir / "model.phm");
  const std::string photos = write_photos(dir, 3);
  // --quiet: run_shell merges stderr, where the progress lines go, into the JSON parsed here.
  ShellResult o = run_ok({"quantize", fp32, "--calib", photos, "-o", dir / "k.phm", "--int8-stem",
                          "--keep-float", "dw,proj", "--sensitivity", "--limit", "2", "--json", "-",
                          "--quiet"});
  Json j = parse(o.output);
  CHECK(j["int8_nodes"].number == 4);
  CHECK(j["evaluation_images"].number == 2);
  // Every int8 candidate (not the kept ones, not the softmax) was measured, most sensitive first.
  const std::vector<Json>& s = j["sensitivity"].array;
  REQUIRE(s.size() == 4);
  for (size_t i = 0; i + 1 < s.size(); ++i)
    CHECK(s[i]["evaluation"]["worst_drop"].number >= s[i + 1]["evaluation"]["worst_drop"].number);
  for (const Json& n : s) {
    CHECK(n["node"].string != "dw");
    CHECK(n["evaluation"]["tasks"].array.size() == 2);
    CHECK(n["evaluation"]["tasks"].array[0]["metric"].string == "1 - top-1 agreement");
  }
  // --tasks: only the named task is judged.
  o = run_ok({"quantize", fp32, "--calib", photos, "-o", dir / "t.phm", "--sensitivity", "--tasks",
              "classify", "--limit", "1", "--json", "-", "--quiet"});
  j = parse(o.output);
  REQUIRE(!j["sensitivity"].array.empty());
  for (const Json& n : j["sensitivity"].array) {
    REQUIRE(n["evaluation"]["tasks"].array.size() == 1);
    CHECK(n["evaluation"]["tasks"].array[0]["task"].string == "classify");
  }

  // A budget of 0 on the "embed" task's raw values: nodes go back to float until it holds, and
  // the search ends (at worst with every node float).
  o = run_ok({"quantize", fp32, "--calib", photos, "-o", dir / "a.phm", "--auto", "--max-drop", "0",
              "--json", "-", "--quiet"});
  j = parse(o.output);
  const Json& a = j["auto"];
  CHECK(a["within_budget"].boolean);
  CHECK(a["final"]["worst_drop"].number <= 0);
  CHECK(a["steps"].array.size() >= 2);
  CHECK(j["int8_nodes"].number + a["kept_float"].array.size() ==
        5);  // all but the softmax and the stem

  // A generous budget keeps everything int8.
  o = run_ok(
      {"quantize", fp32, "--calib", photos, "-o", dir / "b.phm", "--auto", "--max-drop", "1"});
  CHECK(contains(o.output,
                 "within the budget (--max-drop 1) after 1 evaluation(s); 0 node(s) kept float"));

  // A budget per task: "embed" must not move at all, "classify" may drop entirely; the JSON
  // states both and every step's share of the budget.
  o = run_ok({"quantize", fp32, "--calib", photos, "-o", dir / "p.phm", "--auto", "--max-drop",
              "classify=1,embed=0", "--json", "-", "--quiet"});
  j = parse(o.output);
  const Json& per = j["auto"];
  CHECK(per["within_budget"].boolean);
  CHECK(per["max_drop"]["tasks"]["classify"].number == 1);
  CHECK(per["max_drop"]["tasks"]["embed"].number == 0);
  CHECK_FALSE(per["max_drop"].has("others"));
  for (const Json& t : per["final"]["tasks"].array)
    if (t["task"].string == "embed") CHECK(t["drop"].number <= 0);
  CHECK(per["steps"].array.back()["budget_use"].number <= 1);

  // Only the named task is judged when no number covers the others.
  o = run_ok({"quantize", fp32, "--calib", photos, "-o", dir / "c.phm", "--auto", "--max-drop",
              "classify=1", "--json", "-", "--quiet"});
  j = parse(o.output);
  REQUIRE(j["auto"]["final"]["tasks"].array.size() == 1);
  CHECK(j["auto"]["final"]["tasks"].array[0]["task"].string == "classify");
  CHECK(j["auto"]["kept_float"].array.empty());
}

TEST_CASE("cli quantize: progress lines on stderr, stdout unchanged, none with --quiet") {
  TempDir dir;
  const std::string fp32 = write_model(dir / "model.phm");
  const std::string photos = write_photos(dir, 3);
  const std::vector<std::string> args = {"quantize",   fp32,          "--calib",       photos,
                                         "-o",         dir / "q.phm", "--sensitivity", "--auto",
                                         "--max-drop", "0.5",         "--limit",       "2"};
  const testing::CliStreams loud = testing::run_cli_streams(args, dir);
  INFO(loud.err);
  REQUIRE(loud.exit_code == 0);
  // One line as each stage begins; steps within a stage come once a second (on a loaded machine
  // only: this small model is quick).
  const std::vector<std::string> lines = testing::stage_lines(loud.err);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "polyhead quantize: calibrating on 3 photos");
  CHECK(lines[1] == "polyhead quantize: sensitivity of 5 nodes, each alone in int8, on 2 photos");
  CHECK(lines[2] ==
        "polyhead quantize: --auto: nodes back to float until every task is within --max-drop 0.5");
  CHECK(contains(loud.out, "quantized " + fp32));
  CHECK_FALSE(contains(loud.out, "polyhead quantize:"));

  std::vector<std::string> quiet_args = args;
  quiet_args.push_back("--quiet");
  const testing::CliStreams quiet = testing::run_cli_streams(quiet_args, dir);
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
  CHECK(quiet.out == loud.out);  // the same model, photos and output path: the same report
}

TEST_CASE("cli quantize: the selfie segmentation in int8 against float", "[needs-data]") {
  TempDir dir;
  const std::string tflite = data_file("selfie_segmentation.tflite");
  const std::string fp32 = dir / "selfie.phm", int8 = dir / "selfie_int8.phm";
  run_ok({"convert", tflite, "--preset", "mediapipe-selfie-segmentation", "-o", fp32});
  const std::string data = testing::data_dir();  // the six sample photos (people)
  run_ok({"quantize", fp32, "--calib", data, "-o", int8, "--method", "percentile"});
  const ShellResult o = run_ok(
      {"compare", fp32, int8, "--images", data, "--rounds", "1", "--runs", "1", "--json", "-"});
  const Json j = parse(o.output.substr(o.output.find('{')));
  REQUIRE(j["tasks"].array.size() == 1);
  const Json& mask = j["tasks"].array[0];
  CHECK(mask["method"].string == "mask");
  CHECK(mask["iou_mean"].number > 0.85);
  CHECK(mask["probability_error_mean"].number < 0.08);
  CHECK(j["ratios"]["file_bytes"].number < 0.45);
}

// Each case starts the binary: the list keeps to the errors users meet most (the library test
// covers the rest, such as a photo for a model with another channel count).
TEST_CASE("cli quantize: errors") {
  TempDir dir;
  const std::string fp32 = write_model(dir / "model.phm");
  const std::string photos = write_photos(dir, 1);
  const std::string out = dir / "out.phm";
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::string empty = dir / "empty";
  fs::create_directories(empty);
  const std::string broken = dir / "broken.jpg";
  std::ofstream(broken) << "not a photo";
  const std::vector<Case> cases = {
      {{"quantize", fp32, "-o", out}, 2, "missing --calib"},
      {{"quantize", fp32, "--calib", photos}, 2, "missing -o"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--method", "median"},
       2,
       "unknown range method 'median'"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--percentile", "99"},
       2,
       "--percentile needs --method percentile"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto"}, 2, "--auto needs --max-drop"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--weight-scales", "double"},
       2,
       "invalid value 'double' for --weight-scales: expected half or float"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--per-tensor", "--weight-scales", "half"},
       2,
       "--weight-scales half rounds per-channel scales"},
      {{"quantize", fp32, "--calib", photos, "-o", fp32}, 2, "would overwrite"},
      {{"quantize", fp32, "--calib", empty, "-o", out}, 1, "no images in " + empty},
      {{"quantize", fp32, "--calib", dir / "nowhere", "-o", out}, 1, "nowhere' does not exist"},
      {{"quantize", fp32, "--calib", broken, "-o", out}, 1, broken},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--keep-float", "dw,nope"},
       1,
       "no node named 'nope'"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--tasks", "embed"},
       2,
       "--tasks needs --sensitivity or --auto"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto", "--max-drop", "0.1", "--tasks",
        "embed,nope"},
       1,
       "--tasks: the model has no task 'nope'"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto", "--max-drop", "x"},
       2,
       "--max-drop: invalid value 'x': 'x' is not a fraction in [0, 1]"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto", "--max-drop", "embed=2"},
       2,
       "the budget '2' of task 'embed' is not a fraction in [0, 1]"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto", "--max-drop", "0.1,0.2"},
       2,
       "more than one budget without a task name"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto", "--max-drop",
        "embed=0.1,embed=0"},
       2,
       "task 'embed' is given twice"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto", "--max-drop", "nope=0.1"},
       1,
       "--max-drop: the model has no task 'nope' (it has classify, embed)"},
      {{"quantize", fp32, "--calib", photos, "-o", out, "--auto", "--max-drop", "embed=0.1",
        "--tasks", "classify"},
       1,
       "--max-drop: task 'embed' has a budget but --tasks leaves it out"},
  };
  for (const Case& c : cases) {
    const ShellResult o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == c.code);
    CHECK(contains(o.output, c.message));
  }
  CHECK_FALSE(fs::exists(out));
}
