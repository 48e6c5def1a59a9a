// `polyhead lowrank` end to end: the built binary on a small ModelBuilder model (the per-layer
// table, JSON, --rank-ratio, --max-drop, the written model run against the original) and on
// MediaPipe's selfie segmentation, progress lines, and its errors (exit 2 for a bad command line,
// 1 for models, photos or settings that cannot work), none of which leaves a file behind.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
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
using testing::run_cli;
using testing::ShellResult;
using testing::TempDir;

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

// 16 x 16 weights of rank 2.
std::vector<float> rank_two_weights() {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.f, 0.5f);
  std::vector<float> a(32), b(32), w(256);
  for (float& x : a) x = d(rng);
  for (float& x : b) x = d(rng);
  for (int o = 0; o < 16; ++o)
    for (int i = 0; i < 16; ++i)
      w[static_cast<size_t>(o) * 16 + i] = a[o * 2] * b[i] + a[o * 2 + 1] * b[16 + i];
  return w;
}

// image [1,8,8,3] -> stem conv3x3 3 -> 16 + relu -> low: 1x1 conv 16 -> 16 of rank 2
// -> full: 1x1 conv 16 -> 16 (random) + relu -> mean [1,16] -> fc 10x16 -> softmax
// Tasks "classify" (probabilities) and "features" (low's output, other).
// `variant`: kPlain stops after the stem (nothing to factorize); kRandom puts one random 1x1 conv
// 16 -> 16 after it (task "features"), which every saving rank approximates visibly.
enum class Variant { kFull, kPlain, kRandom };
std::string write_model(const std::string& path, Variant variant = Variant::kFull) {
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 8;
  pre.pixel_scale = 1.f;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  const int image = b.add_input("image", Shape{1, 8, 8, 3}, pre);
  Conv2DParams k3;
  k3.pad_top = k3.pad_left = k3.pad_bottom = k3.pad_right = 1;
  k3.activation = Activation::relu();
  const int stem_w = testing::random_constant(b, "stem.w", Shape{16, 3, 3, 3}, 1, 0.5f);
  const int stem = must(b.conv2d("stem", image, stem_w, -1, k3));
  if (variant != Variant::kFull) {
    int out = stem;
    if (variant == Variant::kRandom)
      out = must(b.conv2d(
          "pw", stem, testing::random_constant(b, "pw.w", Shape{16, 1, 1, 16}, 7, 0.5f), -1, {}));
    REQUIRE(b.add_task("features", TaskKind::kOther, {{"out", out}}).is_ok());
    REQUIRE(b.write(path).is_ok());
    return path;
  }
  const int low = must(b.conv2d(
      "low", stem, b.add_constant("low.w", Shape{16, 1, 1, 16}, rank_two_weights()), -1, {}));
  Conv2DParams relu;
  relu.activation = Activation::relu();
  const int full_w = testing::random_constant(b, "full.w", Shape{16, 1, 1, 16}, 4, 0.5f);
  const int full = must(b.conv2d("full", low, full_w, -1, relu));
  const int mean = must(b.mean("mean", full, false));
  const int fc_w = testing::random_constant(b, "fc.w", Shape{10, 16}, 5, 1.f);
  const int fc_b = testing::random_constant(b, "fc.b", Shape{10}, 6, 0.1f);
  const int fc = must(b.fully_connected("fc", mean, fc_w, fc_b));
  const int soft = must(b.softmax("softmax", fc));
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"probs", soft}}).is_ok());
  REQUIRE(b.add_task("features", TaskKind::kOther, {{"low", low}}).is_ok());
  REQUIRE(b.write(path).is_ok());
  return path;
}

std::string write_photos(const TempDir& dir, int count = 2) {
  const std::string folder = dir / "photos";
  fs::create_directories(folder);
  for (int i = 0; i < count; ++i) {
    cv::Mat img(24 + 8 * i, 32 - 4 * i, CV_8UC3, cv::Scalar(40 * i, 90, 200 - 40 * i));
    cv::rectangle(img, cv::Rect(3 + 2 * i, 4, 12, 10), cv::Scalar(250, 30 * i, 10), cv::FILLED);
    cv::circle(img, cv::Point(20, 12 + 3 * i), 6, cv::Scalar(0, 255, 120), cv::FILLED);
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
      out.emplace_back(v->f32(), v->f32() + v->shape.elements());
    }
  return out;
}

const Json& layer(const Json& j, const std::string& name) {
  for (const Json& l : j["layers"].array)
    if (l["node"].string == name) return l;
  FAIL("no layer " << name);
  return j;
}

// Files in `dir` other than `keep`: a failed run must leave none (no temporary file either).
std::vector<std::string> stray_files(const std::string& dir, const std::vector<std::string>& keep) {
  std::vector<std::string> stray;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) stray.push_back(name);
  }
  return stray;
}

}  // namespace

TEST_CASE("cli lowrank: --energy on a small model, run against the original") {
  TempDir dir;
  const std::string in = write_model(dir / "model.phm");
  const std::string photos = write_photos(dir);
  const std::string out = dir / "low.phm";
  const ShellResult o = run_ok({"lowrank", in, "-o", out, "--energy", "0.999", "--calib", photos,
                                "--json", dir / "l.json", "--quiet"});
  CHECK(contains(o.output, "factorized " + in + " -> " + out));
  CHECK(contains(o.output, "--energy 0.999"));
  CHECK(contains(o.output, "1 of 3 factorizable layer(s) factorized"));
  CHECK(contains(o.output, "compressed against the original (2 image(s)"));
  CHECK(contains(o.output, "saves no MACs (at most 7 does)"));
  CHECK(contains(o.output, "saves no MACs (at most 5 does)"));

  const Json j = read_json(dir / "l.json");
  CHECK(j["mode"].string == "energy");
  CHECK(j["value"].number == Approx(0.999));
  CHECK(j["factorized_layers"].number == 1);
  REQUIRE(j["layers"].array.size() == 3);
  const Json& low = layer(j, "low");
  CHECK(low["kind"].string == "CONV_2D 1x1");
  CHECK(low["out_channels"].number == 16);
  CHECK(low["rank"].number == 2);
  CHECK(low["energy_kept"].number == Approx(1.0));
  CHECK(low["macs_before"].number == 64 * 256);
  CHECK(low["macs_after"].number == 64 * 2 * 32);
  // The compression report: the written file, fewer MACs, both tasks' drops.
  const Json& c = j["compression"];
  CHECK(c["images"].number == 2);
  CHECK(c["fine_tuned"].boolean == false);
  CHECK(c["compressed"]["file_bytes"].number == static_cast<double>(fs::file_size(out)));
  CHECK(c["original"]["file_bytes"].number == static_cast<double>(fs::file_size(in)));
  CHECK(c["ratios"]["macs"].number < 1);
  CHECK(c["original"]["macs"].number - c["compressed"]["macs"].number ==
        low["macs_before"].number - low["macs_after"].number);
  CHECK(c["ratios"]["latency"].number > 0);
  CHECK(c["tasks"].array.size() == 2);
  CHECK(c["worst_drop"].number < 0.01);  // 'low' is reproduced
  CHECK(layer(j, "full")["rank"].number == 0);
  CHECK(layer(j, "full")["note"].string ==
        "rank " + std::to_string(static_cast<int>(layer(j, "full")["wanted_rank"].number)) +
            " saves no MACs (at most 7 does)");

  // 'low' has rank 2: its two layers reproduce it, and so every output.
  const std::string photo = (fs::path(photos) / "photo1.png").string();
  const auto want = outputs(in, photo);
  const auto got = outputs(out, photo);
  REQUIRE(got.size() == want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    REQUIRE(got[k].size() == want[k].size());
    for (size_t i = 0; i < want[k].size(); ++i) CHECK(got[k][i] == Approx(want[k][i]).margin(1e-4));
  }
  const ShellResult inspect = run_ok({"inspect", out});
  CHECK(contains(inspect.output, "low/lowrank_in"));
}

TEST_CASE("cli lowrank: --rank-ratio and --max-drop") {
  TempDir dir;
  const std::string in = write_model(dir / "model.phm");
  const std::string photos = write_photos(dir);
  ShellResult o = run_ok({"lowrank", in, "-o", dir / "r.phm", "--rank-ratio", "0.25", "--calib",
                          photos, "--json", "-", "--quiet"});
  Json j = parse(o.output);
  CHECK(j["mode"].string == "rank-ratio");
  CHECK(layer(j, "low")["rank"].number == 4);
  CHECK(layer(j, "full")["rank"].number == 4);
  CHECK(layer(j, "fc")["rank"].number == 3);  // ceil(0.25 * 10)
  CHECK(j["factorized_layers"].number == 3);
  CHECK(j["layer_macs_after"].number < j["layer_macs_before"].number);
  CHECK(j["compression"]["ratios"]["file"].number < 1);

  // A budget of 1: every layer at its lowest rank, found at the first evaluation.
  o = run_ok({"lowrank", in, "-o", dir / "m.phm", "--max-drop", "1", "--calib", photos, "--limit",
              "1", "--json", "-", "--quiet"});
  j = parse(o.output);
  CHECK(j["mode"].string == "max-drop");
  const Json& search = j["search"];
  CHECK(search["evaluation_images"].number == 1);
  CHECK(search["steps"].array.size() == 1);
  REQUIRE(search["sensitivity"].array.size() == 3);
  CHECK(search["sensitivity"].array[0]["layer"].string == "low");
  CHECK(!search["sensitivity"].array[0]["trials"].array.empty());
  CHECK(search["final"]["worst_drop"].number <= 1);
  CHECK(j["factorized_layers"].number == 3);
  CHECK(j["compression"]["images"].number == 1);  // --limit applies to the report too

  // The text: the per-layer table and the search.
  o = run_ok({"lowrank", in, "-o", dir / "m2.phm", "--max-drop", "1", "--calib", photos, "--tasks",
              "features", "--quiet"});
  CHECK(contains(o.output, "max-drop search on 2 photo(s): 1 evaluation(s) of the whole model"));
  CHECK(contains(o.output, "CONV_2D 1x1     16x16"));
}

TEST_CASE("cli lowrank: progress lines on stderr, stdout unchanged, none with --quiet") {
  TempDir dir;
  const std::string in = write_model(dir / "model.phm");
  const std::string photos = write_photos(dir);
  const std::vector<std::string> args = {"lowrank",    in,    "-o",      dir / "q.phm",
                                         "--max-drop", "0.5", "--calib", photos};
  const testing::CliStreams loud = testing::run_cli_streams(args, dir);
  INFO(loud.err);
  REQUIRE(loud.exit_code == 0);
  const std::vector<std::string> lines = testing::stage_lines(loud.err);
  REQUIRE(lines.size() >= 3);
  CHECK(lines[0] == "polyhead lowrank: singular value decomposition of 3 layers");
  CHECK(lines[1] == "polyhead lowrank: sensitivity of 3 layers, each alone at a ladder of ranks");
  CHECK(lines[2] == "polyhead lowrank: search: the most MACs saved within a drop of 0.5");
  CHECK(contains(loud.out, "factorized " + in));
  CHECK_FALSE(contains(loud.out, "polyhead lowrank:"));

  std::vector<std::string> quiet_args = args;
  quiet_args.push_back("--quiet");
  const testing::CliStreams quiet = testing::run_cli_streams(quiet_args, dir);
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
}

TEST_CASE("cli lowrank: the selfie segmentation at energy 0.99", "[needs-data]") {
  TempDir dir;
  const std::string fp32 = dir / "selfie.phm", low = dir / "selfie_lowrank.phm";
  run_ok({"convert", data_file("selfie_segmentation.tflite"), "--preset",
          "mediapipe-selfie-segmentation", "-o", fp32});
  const std::string photo = data_file("sample1.jpg");
  const ShellResult o = run_ok(
      {"lowrank", fp32, "-o", low, "--energy", "0.99", "--calib", photo, "--json", "-", "--quiet"});
  const Json j = parse(o.output);
  CHECK(j["factorized_layers"].number >= 1);
  CHECK(j["layer_macs_after"].number < j["layer_macs_before"].number);
  // The mask barely moves at 99% of the energy.
  const ShellResult c = run_ok(
      {"compare", fp32, low, "--images", photo, "--rounds", "1", "--runs", "1", "--json", "-"});
  const Json cj = parse(c.output.substr(c.output.find('{')));
  REQUIRE(cj["tasks"].array.size() == 1);
  CHECK(cj["tasks"].array[0]["iou_mean"].number > 0.9);
}

// Each case starts the binary: the list keeps to the errors users meet most (the library test
// covers the rest).
TEST_CASE("cli lowrank: errors leave nothing behind") {
  TempDir dir;
  const std::string in = write_model(dir / "model.phm");
  const std::string plain = write_model(dir / "plain.phm", Variant::kPlain);
  const std::string random = write_model(dir / "random.phm", Variant::kRandom);
  const std::string photos = write_photos(dir, 1);
  const std::string out = dir / "out.phm";
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::vector<std::string> base = {"lowrank", in, "--calib", photos, "-o", out};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::vector<Case> cases = {
      {{"lowrank", in, "--calib", photos}, 2, "missing -o"},
      {{"lowrank", in, "-o", out}, 2, "missing --calib"},
      {{"lowrank", "--calib", photos, "-o", out}, 2, "needs a model IN.phm"},
      {{"lowrank", in, "--calib", photos, "-o", in}, 2, "would overwrite"},
      {with({"--energy", "0.9", "--rank-ratio", "0.5"}), 2,
       "--energy, --rank-ratio and --max-drop choose the rank in different ways: give one of "
       "them"},
      {with({"--energy", "0"}), 2, "invalid value '0' for --energy: expected a number in (0, 1]"},
      {with({"--energy", "1.5"}), 2, "invalid value '1.5' for --energy"},
      {with({"--energy", "most"}), 2, "invalid value 'most' for --energy"},
      {with({"--rank-ratio", "1"}), 2,
       "invalid value '1' for --rank-ratio: expected a number in (0, 1)"},
      {with({"--max-drop", "2"}), 2, "--max-drop"},
      {with({"--limit", "0"}), 2, "--limit"},
      {with({"--tasks", "features,nope"}), 1, "--tasks: the model has no task 'nope'"},
      {{"lowrank", random, "--calib", photos, "-o", out, "--energy", "1"},
       1,
       "no layer saves MACs at --energy 1: the closest, 'pw' (16x16), needs rank 16 where at most "
       "7 saves MACs; try a lower setting"},
      {{"lowrank", random, "--calib", photos, "-o", out, "--max-drop", "0"},
       1,
       "no factorization meets --max-drop 0: the best drop reached is "},
      {{"lowrank", plain, "--calib", photos, "-o", out}, 1, "the model has no layer to factorize"},
      {{"lowrank", in, "--calib", dir / "nowhere", "-o", out}, 1, "nowhere' does not exist"},
  };
  for (const Case& c : cases) {
    const ShellResult o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == c.code);
    CHECK(contains(o.output, c.message));
  }
  CHECK_FALSE(fs::exists(out));
  CHECK(
      stray_files(dir.path().string(), {"model.phm", "plain.phm", "random.phm", "photos"}).empty());
}
