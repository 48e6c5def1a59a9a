// `polyhead compare` end to end: the built binary on converted MediaPipe models and demo models,
// its table and JSON, and its errors (exit 2 for a bad command line, 1 for bad models or images).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli_streams.h"
#include "support/cli_runner.h"
#include "support/json_reader.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;

namespace {

using testing::Json;
using testing::ShellResult;
using testing::TempDir;

using testing::run_cli;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Json read_json(const std::string& path) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json j;
  INFO(text);
  REQUIRE(testing::parse_json(text, j));
  return j;
}

std::string data_file(const std::string& name) {
  std::string path = (fs::path(testing::data_dir()) / name).string();
  if (!fs::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
  return path;
}

std::string skimage_file(const std::string& name) {
  std::string path = (fs::path(testing::skimage_dir()) / name).string();
  if (!fs::exists(path))
    FAIL("missing " << path << ": install python3-skimage (scripts/install_deps.sh)");
  return path;
}

void run_ok(const std::vector<std::string>& args) {
  const ShellResult o = run_cli(args);
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
}

// A single-round latency keeps the tests quick; the numbers are not judged.
const std::vector<std::string> kQuick = {"--rounds", "1", "--runs", "1"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("cli compare: the selfie model against itself and against a copy with another mean",
          "[needs-data]") {
  TempDir dir;
  const std::string tflite = data_file("selfie_segmentation.tflite");
  const std::string teacher = dir / "selfie.phm", student = dir / "selfie_mean.phm";
  run_ok({"convert", tflite, "--preset", "mediapipe-selfie-segmentation", "-o", teacher});
  run_ok({"convert", tflite, "--preset", "mediapipe-selfie-segmentation", "--mean", "0.05", "-o",
          student});
  const std::string data = testing::data_dir();

  ShellResult o = run_cli(with({"compare", teacher, teacher, "--images", data, "--images",
                                skimage_file("astronaut.png"), "--json", dir / "same.json"},
                               kQuick));
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  for (const char* text : {"mask IoU", "mean 1.0000", "student / teacher", "file size", "arena",
                           "latency", "skipping"})
    CHECK(contains(o.output, text));
  Json j = read_json(dir / "same.json");
  CHECK(j["images"].array.size() == 7);   // six samples and the astronaut
  CHECK(j["skipped"].array.size() >= 3);  // the .tflite files next to the photos
  CHECK(j["ratios"]["file_bytes"].number == 1);
  CHECK(j["ratios"]["arena_bytes"].number == 1);
  CHECK(j["ratios"]["latency"].number > 0);
  CHECK(j["teacher"]["input_width"].number == 256);
  REQUIRE(j["tasks"].array.size() == 1);
  const Json& same = j["tasks"].array[0];
  CHECK(same["task"].string == "mask");
  CHECK(same["method"].string == "mask");
  CHECK(same["iou_mean"].number == 1);
  CHECK(same["iou_min"].number == 1);
  CHECK(same["probability_error_mean"].number == 0);
  CHECK(same["per_image"].array.size() == 7);

  o = run_cli(
      with({"compare", teacher, student, "--images", data, "--limit", "3", "--json", "-"}, kQuick));
  REQUIRE(o.exit_code == 0);
  // Notes go to stderr, which run_shell merges: the JSON starts at the first brace.
  Json k;
  REQUIRE(testing::parse_json(o.output.substr(o.output.find('{')), k));
  CHECK(k["images"].array.size() == 3);
  const Json& other = k["tasks"].array[0];
  CHECK(other["iou_mean"].number < 0.999);
  CHECK(other["iou_mean"].number > 0.8);
  CHECK(other["probability_error_mean"].number > 1e-3);
}

TEST_CASE("cli compare: progress lines on stderr, none with --quiet") {
  TempDir dir;
  run_ok({"demo", "--out", dir / "a", "--size", "64", "--width", "0.35"});
  const std::string a = dir / "a/mobilenet_multitask.phm";
  const std::vector<std::string> args =
      with({"compare", a, a, "--images", skimage_file("coffee.png")}, kQuick);
  const testing::CliStreams loud = testing::run_cli_streams(args, dir);
  INFO(loud.err);
  REQUIRE(loud.exit_code == 0);
  CHECK(testing::stage_lines(loud.err) ==
        std::vector<std::string>{
            "polyhead compare: comparing on 1 photo",
            "polyhead compare: timing teacher and student: 1 round of 1 run each, interleaved"});
  CHECK(contains(loud.out, "student / teacher"));
  CHECK_FALSE(contains(loud.out, "polyhead compare:"));
  const testing::CliStreams quiet = testing::run_cli_streams(with(args, {"--quiet"}), dir);
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
}

TEST_CASE("cli compare: demo models, a smaller-input student and the tasks it can pair") {
  TempDir dir;
  run_ok({"demo", "--out", dir / "a", "--size", "64", "--width", "0.35"});
  run_ok({"demo", "--out", dir / "b", "--size", "96", "--width", "0.35"});
  const std::string a = dir / "a/mobilenet_multitask.phm", b = dir / "b/mobilenet_multitask.phm";
  const std::string photo = skimage_file("coffee.png");

  ShellResult o =
      run_cli(with({"compare", a, a, "--images", photo, "--json", dir / "a.json"}, kQuick));
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  Json j = read_json(dir / "a.json");
  REQUIRE(j["tasks"].array.size() == 3);
  const Json& classify = j["tasks"].array[0];
  CHECK(classify["method"].string == "classification");
  CHECK(classify["scores"].string == "logits");
  CHECK(classify["top1_agreement"].number == 1);
  CHECK(classify["top5_agreement"].number == 1);
  CHECK(classify["kl_mean"].number == 0);
  const Json& segment = j["tasks"].array[1];
  CHECK(segment["method"].string == "class_map");
  CHECK(segment["classes"].number == 21);
  CHECK(segment["miou_mean"].number == 1);
  const Json& detect = j["tasks"].array[2];
  CHECK(detect["method"].string == "raw");  // no box format in the demo model's metadata
  CHECK(contains(detect["note"].string, "detect.box_format"));
  CHECK(detect["abs_error_max"].number == 0);

  // The 96 px student has more anchors: its raw detections cannot be paired with the teacher's.
  o = run_cli(with({"compare", a, b, "--images", photo}, kQuick));
  CHECK(o.exit_code == 1);
  CHECK(contains(o.output, "task 'detect'"));
  CHECK(contains(o.output, "--tasks"));
  o = run_cli(with({"compare", a, b, "--images", photo, "--tasks", "classify,segment",
                    "--temperature", "2", "--json", dir / "ab.json"},
                   kQuick));
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  j = read_json(dir / "ab.json");
  CHECK(j["temperature"].number == 2);
  CHECK(j["student"]["input_width"].number == 96);
  CHECK(j["ratios"]["arena_bytes"].number > 1);
  REQUIRE(j["tasks"].array.size() == 2);
  CHECK(j["tasks"].array[0]["kl_mean"].number > 0);
  CHECK(j["tasks"].array[1]["miou_mean"].number < 1);
}

TEST_CASE("cli compare: bad command lines exit 2, bad models and images exit 1 naming them") {
  TempDir dir;
  run_ok({"demo", "--out", dir / "m", "--size", "32", "--width", "0.35"});
  const std::string model = dir / "m/mobilenet_multitask.phm";
  const std::string photo = skimage_file("coffee.png");
  fs::create_directory(dir.path() / "empty");
  { std::ofstream(dir / "empty/readme.txt") << "no photos here\n"; }
  { std::ofstream(dir / "broken.png") << "not a PNG\n"; }
  struct Case {
    const char* what;
    std::vector<std::string> args;
    int exit_code;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {"no models", {"compare", "--images", photo}, 2, {"TEACHER.phm and STUDENT.phm"}},
      {"one model", {"compare", model, "--images", photo}, 2, {"got 1 model"}},
      {"three models", {"compare", model, model, model, "--images", photo}, 2, {"extra"}},
      {"no images", {"compare", model, model}, 2, {"--images"}},
      {"zero temperature",
       {"compare", model, model, "--images", photo, "--temperature", "0"},
       2,
       {"--temperature", "'0'", "> 0"}},
      {"negative temperature",
       {"compare", model, model, "--images", photo, "--temperature", "-1"},
       2,
       {"'-1'"}},
      {"NaN temperature",
       {"compare", model, model, "--images", photo, "--temperature", "nan"},
       2,
       {"'nan'", "finite"}},
      {"infinite temperature",
       {"compare", model, model, "--images", photo, "--temperature", "inf"},
       2,
       {"'inf'"}},
      {"match IoU 0",
       {"compare", model, model, "--images", photo, "--match-iou", "0"},
       2,
       {"--match-iou"}},
      {"limit 0", {"compare", model, model, "--images", photo, "--limit", "0"}, 2, {"--limit"}},
      {"unknown option", {"compare", model, model, "--images", photo, "--frob"}, 2, {"--frob"}},
      {"empty folder",
       {"compare", model, model, "--images", dir / "empty"},
       1,
       {"no images in " + (dir / "empty")}},
      {"unreadable image",
       {"compare", model, model, "--images", dir / "broken.png"},
       1,
       {"broken.png"}},
      {"absent image",
       {"compare", model, model, "--images", dir / "absent.jpg"},
       1,
       {"absent.jpg"}},
      {"absent model",
       {"compare", dir / "absent.phm", model, "--images", photo},
       1,
       {"teacher", "absent.phm"}},
      {"unknown task",
       {"compare", model, model, "--images", photo, "--tasks", "nope"},
       1,
       {"task 'nope'"}},
  };
  for (const Case& c : cases) {
    const ShellResult o = run_cli(with(c.args, kQuick));
    INFO(c.what << ": " << o.output);
    CHECK(o.exit_code == c.exit_code);
    for (const std::string& m : c.mentions) CHECK(contains(o.output, m));
    CHECK(contains(o.output, "polyhead compare"));
  }
  const ShellResult help = run_cli({"compare", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.output, "--temperature"));
  CHECK(contains(run_cli({"--help"}).output, "compare"));
}
