// The `polyhead` program end to end: runs the built binary in a temporary directory and checks its
// files, its JSON and its errors the way a user or a script would see them.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "polyhead/format_version.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/version.h"
#include "support/json_reader.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;

namespace {

using testing::ShellResult;
using testing::TempDir;
using Outcome = ShellResult;

// Runs `polyhead ARGS` (each argument quoted) and collects its output and exit code.
Outcome run_cli(const std::vector<std::string>& args) {
  std::string cmd = testing::shell_quote(POLYHEAD_CLI);
#ifdef POLYHEAD_CLI_EMULATOR
  cmd = POLYHEAD_CLI_EMULATOR " " + cmd;  // a cross build: the CLI runs under qemu-user too
#endif
  for (const std::string& a : args) cmd += " " + testing::shell_quote(a);
  return testing::run_shell(cmd);
}

// A small demo model (96x96, width 0.5) and its image, written into `dir`.
void write_demo(const TempDir& dir) {
  const Outcome o =
      run_cli({"demo", "--out", dir.path().string(), "--size", "96", "--width", "0.5"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
}

using testing::Json;

Json parse_json(const std::string& text) {
  Json j;
  INFO(text);
  REQUIRE(testing::parse_json(text, j));
  return j;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("cli: demo writes the default model and image and runs every task") {
  TempDir dir;
  REQUIRE_FALSE(dir.path().string().empty());
  const Outcome o =
      run_cli({"demo", "--out", dir.path().string(), "--size", "96", "--width", "0.5"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK(fs::is_regular_file(dir / "mobilenet_multitask.phm"));
  REQUIRE(fs::is_regular_file(dir / "image.f32"));
  CHECK(fs::file_size(dir / "image.f32") == 96u * 96u * 3u * 4u);
  for (const char* text :
       {"classify", "segment", "detect", "logits", "mask", "boxes", "scores", "top-5", "latency"})
    CHECK(contains(o.output, text));
  CHECK_FALSE(contains(o.output, "non-finite"));
}

TEST_CASE("cli: inspect --json splits shared and head nodes and plans near the memory bound") {
  TempDir dir;
  write_demo(dir);
  const std::string model = dir / "mobilenet_multitask.phm";
  const std::vector<std::string> subsets = {"classify",
                                            "segment",
                                            "detect",
                                            "classify,segment",
                                            "classify,detect",
                                            "segment,detect",
                                            "classify,segment,detect"};
  for (const std::string& tasks : subsets) {
    INFO("tasks " << tasks);
    const Outcome o = run_cli({"inspect", model, "--tasks", tasks, "--json"});
    Json j;
    {
      INFO(o.output);
      REQUIRE(o.exit_code == 0);
      j = parse_json(o.output);
    }
    for (const char* key :
         {"inputs", "tasks", "shared_nodes", "shared_macs", "total_macs", "param_bytes",
          "arena_bytes", "arena_lower_bound_bytes", "arena_strategy"})
      CHECK(j.has(key));
    const double arena = j["arena_bytes"].number, bound = j["arena_lower_bound_bytes"].number;
    INFO("arena " << arena << " lower bound " << bound << " ratio " << arena / bound);
    CHECK(bound > 0);
    CHECK(arena >= bound);
    CHECK(arena <= 1.05 * bound);

    const size_t task_count = j["tasks"].array.size();
    CHECK(task_count == static_cast<size_t>(std::count(tasks.begin(), tasks.end(), ',') + 1));
    // One pass = shared part once + each head; nodes belong to exactly one of the parts.
    double macs = j["shared_macs"].number, params = j["shared_param_bytes"].number;
    std::map<std::string, int> owner_count;
    for (const Json& s : j["shared_nodes"].array) ++owner_count[s.string];
    for (const Json& t : j["tasks"].array) {
      CHECK(t["macs"].number > 0);
      CHECK(t["standalone_macs"].number >= t["macs"].number);
      macs += t["macs"].number;
      params += t["param_bytes"].number;
      for (const Json& n : t["exclusive_nodes"].array) ++owner_count[n.string];
    }
    CHECK(macs == j["total_macs"].number);
    CHECK(params == j["param_bytes"].number);
    for (const auto& [node, count] : owner_count) {
      INFO(node);
      CHECK(count == 1);
    }
    if (task_count == 1) {
      CHECK(j["shared_nodes"].array.empty());
    } else {
      // The stem and the stride-16 blocks feed every head.
      CHECK(owner_count.count("backbone.stem"));
      CHECK(j["shared_macs"].number > 0);
    }
  }
}

TEST_CASE("cli: inspect prints a table by default") {
  TempDir dir;
  write_demo(dir);
  const Outcome o = run_cli({"inspect", dir / "mobilenet_multitask.phm"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  for (const char* text :
       {"image", "[1,96,96,3]", "classify", "segment", "detect", "shared nodes", "arena"})
    CHECK(contains(o.output, text));
}

TEST_CASE("cli: run --dump writes every output with the size outputs.json declares") {
  TempDir dir;
  write_demo(dir);
  const std::string out = dir / "out";
  const Outcome o = run_cli({"run", dir / "mobilenet_multitask.phm", "--input",
                             "image=" + (dir / "image.f32"), "--threads", "2", "--dump", out});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  const Json index = parse_json(read_text(out + "/outputs.json"));
  const std::vector<Json>& outputs = index["outputs"].array;
  REQUIRE(outputs.size() == 4);
  std::map<std::string, std::vector<double>> shapes;
  for (const Json& e : outputs) {
    const std::string key = e["task"].string + "." + e["output"].string;
    INFO(key);
    CHECK(e["type"].string == "f32");
    CHECK(e["file"].string == key + ".f32");
    double elements = 1;
    for (const Json& d : e["shape"].array) {
      elements *= d.number;
      shapes[key].push_back(d.number);
    }
    const std::string file = out + "/" + e["file"].string;
    REQUIRE(fs::is_regular_file(file));
    CHECK(static_cast<double>(fs::file_size(file)) == elements * 4);
    CHECK(e["bytes"].number == elements * 4);
  }
  CHECK(shapes["classify.logits"] == std::vector<double>{1, 1000});
  CHECK(shapes["segment.mask"] == std::vector<double>{1, 24, 24, 21});
  CHECK(shapes["detect.boxes"] == std::vector<double>{1, 135, 4});
  CHECK(shapes["detect.scores"] == std::vector<double>{1, 135, 91});
}

TEST_CASE("cli: run of one task prints only that task") {
  TempDir dir;
  write_demo(dir);
  const Outcome o = run_cli({"run", dir / "mobilenet_multitask.phm", "--input",
                             "image=" + (dir / "image.f32"), "--tasks", "segment"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK(contains(o.output, "mask"));
  CHECK_FALSE(contains(o.output, "logits"));
}

TEST_CASE("cli: run --precision f16 runs in half precision where the CPU has fp16 arithmetic") {
  TempDir dir;
  write_demo(dir);
  const Outcome o = run_cli({"run", dir / "mobilenet_multitask.phm", "--input",
                             "image=" + (dir / "image.f32"), "--precision", "f16"});
  INFO(o.output);
  if (polyhead::kernels::cpu_has_fp16_arithmetic()) {
    REQUIRE(o.exit_code == 0);
    CHECK(contains(o.output, "f16"));
    CHECK(contains(o.output, "logits"));
  } else {
    CHECK(o.exit_code == 1);  // a runtime error, not a usage error
    CHECK(contains(o.output, "precision f16 needs a CPU with half-precision arithmetic"));
  }
}

TEST_CASE("cli: run --parallel-heads reports the heads and gives the same outputs every way") {
  TempDir dir;
  write_demo(dir);
  const std::string model = dir / "mobilenet_multitask.phm";
  const std::string image = "image=" + (dir / "image.f32");
  std::map<std::string, Outcome> runs;
  for (const char* mode : {"never", "always", "auto"}) {
    runs[mode] = run_cli({"run", model, "--input", image, "--threads", "2", "--repeat", "12",
                          "--parallel-heads", mode, "--dump", dir / mode});
    INFO(mode << "\n" << runs[mode].output);
    REQUIRE(runs[mode].exit_code == 0);
  }
  CHECK(contains(runs["never"].output, "heads    one after another (--parallel-heads never)\n"));
  CHECK(
      contains(runs["always"].output,
               "heads    3 heads may run in parallel; in parallel: yes (--parallel-heads always)"));
  // The demo model's detection head does most of the heads' work: auto keeps one order.
  CHECK(contains(runs["auto"].output,
                 "heads    one after another (--parallel-heads auto: fewer than two heads, or one "
                 "does most of their work)\n"));
  // Bit-identical outputs whichever way the heads ran.
  for (const char* file :
       {"classify.logits.f32", "segment.mask.f32", "detect.boxes.f32", "detect.scores.f32"}) {
    INFO(file);
    auto dumped = [&](const char* mode) { return read_text(dir / mode + "/" + file); };
    const std::string never = dumped("never");
    CHECK_FALSE(never.empty());
    CHECK(dumped("always") == never);
    CHECK(dumped("auto") == never);
  }
  // One thread has nothing to run in parallel; without the option the report is as before.
  const Outcome one = run_cli({"run", model, "--input", image, "--parallel-heads", "always"});
  INFO(one.output);
  CHECK(contains(one.output, "heads    one after another (1 thread)"));
  const Outcome plain = run_cli({"run", model, "--input", image, "--threads", "2"});
  CHECK_FALSE(contains(plain.output, "heads "));
}

TEST_CASE("cli: bad models, inputs and tasks fail with a message naming them") {
  TempDir dir;
  write_demo(dir);
  const std::string model = dir / "mobilenet_multitask.phm";
  const std::string image = "image=" + (dir / "image.f32");
  {
    std::ofstream(dir / "short.f32") << "0123456789";
    std::ofstream(dir / "notes.txt") << "this is a text file, not a model\n";
  }
  struct Case {
    const char* what;
    std::vector<std::string> args;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {"unknown task", {"run", model, "--input", image, "--tasks", "classify,nope"}, {"nope"}},
      {"unknown task (inspect)", {"inspect", model, "--tasks", "nope"}, {"nope"}},
      {"wrong input size",
       {"run", model, "--input", "image=" + (dir / "short.f32")},
       {"image", "110592", "10 bytes"}},
      {"missing input", {"run", model}, {"missing input", "image"}},
      {"unknown input",
       {"run", model, "--input", image, "--input", "depth=" + (dir / "image.f32")},
       {"depth"}},
      {"missing input file",
       {"run", model, "--input", "image=" + (dir / "absent.f32")},
       {"absent.f32"}},
      {"text file as model", {"inspect", dir / "notes.txt"}, {"notes.txt"}},
      {"text file as model (run)", {"run", dir / "notes.txt", "--input", image}, {"notes.txt"}},
      {"absent model", {"inspect", dir / "absent.phm"}, {"absent.phm"}},
  };
  for (const Case& c : cases) {
    const Outcome o = run_cli(c.args);
    INFO(c.what << "\n" << o.output);
    CHECK(o.exit_code == 1);
    for (const std::string& m : c.mentions) CHECK(contains(o.output, m));
  }
}

TEST_CASE("cli: command-line mistakes exit with 2 and name the option and value") {
  TempDir dir;
  write_demo(dir);
  const std::string model = dir / "mobilenet_multitask.phm";
  const std::string image = "image=" + (dir / "image.f32");
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {{"frobnicate"}, {"frobnicate"}},
      {{"run", model, "--input", image, "--threads", "x"}, {"--threads", "'x'"}},
      {{"run", model, "--input", image, "--threads", "-1"}, {"--threads", "'-1'"}},
      {{"run", model, "--input", image, "--threads"}, {"--threads"}},
      {{"run", model, "--input", "image"}, {"--input", "'image'"}},
      {{"run", model, "--input", image, "--fast"}, {"--fast"}},
      {{"run", model, "--input", image, "--precision", "f8"}, {"--precision", "'f8'"}},
      {{"run", model, "--input", image, "--parallel-heads", "sometimes"},
       {"--parallel-heads", "'sometimes'", "auto, never or always"}},
      {{"run", model, "--input", image, "--parallel-heads", ""}, {"--parallel-heads"}},
      {{"run", model, "--image", "photo.png", "--parallel-heads", "always"},
       {"--parallel-heads", "--image"}},
      {{"inspect"}, {"MODEL"}},
      {{"inspect", model, "--tasks", "a,,b"}, {"--tasks"}},
      {{"demo", "--size", "100"}, {"--size", "100"}},
      {{"demo", "--width", "wide"}, {"--width", "wide"}},
      {{"help", "nope"}, {"nope"}},
  };
  for (const Case& c : cases) {
    const Outcome o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == 2);
    // One line, naming what was wrong.
    CHECK(std::count(o.output.begin(), o.output.end(), '\n') == 1);
    for (const std::string& m : c.mentions) CHECK(contains(o.output, m));
  }
}

TEST_CASE("cli: help is available for the program and every command") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"help"},
                                             {"help", "run"},
                                             {"inspect", "--help"},
                                             {"run", "-h"},
                                             {"demo", "--help"}}) {
    const Outcome o = run_cli(args);
    INFO(o.output);
    CHECK(o.exit_code == 0);
    CHECK(contains(o.output, "usage: polyhead"));
  }
}

TEST_CASE("cli: --version names the release and the newest model format") {
  const Outcome o = run_cli({"--version"});
  INFO(o.output);
  CHECK(o.exit_code == 0);
  // The release comes from project(polyhead VERSION ...) through polyhead/version.h.
  CHECK(std::string(PH_VERSION_STRING) == "0.2.0");
  CHECK(o.output == "polyhead " PH_VERSION_STRING " (model format " +
                        std::to_string(polyhead::kFormatVersionMajor) + "." +
                        std::to_string(polyhead::kFormatVersionMinorLatest) + ")\n");
}

// What a fresh machine must give: the CLI the README's commands build reads both model formats
// (a build configured with -DPOLYHEAD_ONNX=OFF says so instead).
TEST_CASE("cli: the built CLI converts a .tflite and an .onnx file", "[needs-data]") {
  const std::string tflite = testing::data_dir() + "/face_detection_short_range.tflite";
  const std::string onnx = testing::onnx_models_dir() + "/mobilenet_v2_035_96.onnx";
  if (!fs::exists(tflite)) FAIL("missing " << tflite << ": run scripts/fetch_data.sh");
  TempDir dir;
  Outcome o = run_cli({"convert", tflite, "-o", dir / "from_tflite.phm"});
  INFO(o.output);
  CHECK(o.exit_code == 0);
  CHECK(fs::exists(dir / "from_tflite.phm"));
#ifdef POLYHEAD_TEST_HAS_ONNX
  if (!fs::exists(onnx))
    FAIL("missing " << onnx << ": run scripts/make_onnx_models.sh build/onnx_models");
  o = run_cli({"convert", onnx, "-o", dir / "from_onnx.phm"});
  INFO(o.output);
  CHECK(o.exit_code == 0);
  CHECK(fs::exists(dir / "from_onnx.phm"));
#else
  o = run_cli({"convert", onnx, "-o", dir / "from_onnx.phm"});
  CHECK(o.exit_code != 0);
  CHECK(contains(o.output, "ONNX"));
#endif
}

TEST_CASE("cli: convert turns a .tflite into a model that inspect and run accept", "[needs-data]") {
  const std::string tflite = testing::data_dir() + "/face_detection_short_range.tflite";
  if (!fs::exists(tflite)) FAIL("missing " << tflite << ": run scripts/fetch_data.sh");
  TempDir dir;
  const std::string out = dir / "faces.phm";
  Outcome o = run_cli({"convert", tflite, "--preset", "mediapipe-face-detection-short", "-o", out});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  o = run_cli({"inspect", out, "--json"});
  REQUIRE(o.exit_code == 0);
  const Json report = parse_json(o.output);
  REQUIRE(report.has("tasks"));
  CHECK(contains(o.output, "\"faces\""));

  struct Case {
    const char* what;
    std::vector<std::string> args;
    int exit_code;
    std::vector<std::string> mentions;
  };
  { std::ofstream(dir / "notes.txt") << "not a model\n"; }
  const std::vector<Case> cases = {
      {"unknown preset", {"convert", tflite, "--preset", "nope", "-o", out}, 2, {"nope"}},
      {"text file", {"convert", dir / "notes.txt", "-o", out}, 1, {"notes.txt"}},
      {"a .phm is no .tflite", {"convert", out, "-o", dir / "again.phm"}, 1, {"TFL3"}},
      {"absent file", {"convert", dir / "absent.tflite", "-o", out}, 1, {"absent.tflite"}},
      {"unknown output", {"convert", tflite, "--task", "x=nope", "-o", out}, 2, {"nope"}},
  };
  for (const Case& c : cases) {
    const Outcome r = run_cli(c.args);
    INFO(c.what << "\n" << r.output);
    CHECK(r.exit_code == c.exit_code);
    for (const std::string& m : c.mentions) CHECK(contains(r.output, m));
  }
}
