// `polyhead convert MODEL.onnx` end to end: the built program on small ONNX models written here
// with the protobuf API (support/onnx_builder.h). What it prints, that inspect and run accept the
// result with ONNX's names and NCHW shapes, and that every option mistake is a usage error (exit
// 2) naming the value while a bad file is a runtime error (exit 1) saying what is wrong.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/json_reader.h"
#include "support/onnx_builder.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;

namespace {

using testing::attr_int;
using testing::attr_ints;
using testing::OnnxModel;
using testing::ShellResult;
using testing::TempDir;

using testing::run_cli;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<float> seeded(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// image [1,3,8,8] -> Conv+BN+Relu -> "seg" [1,4,8,8]; -> GlobalAveragePool, Flatten, Gemm ->
// "logits" [1,3]. With `symbolic`, the batch dimension is "N".
OnnxModel two_head_model(bool symbolic = false, int opset = 13) {
  OnnxModel m(opset);
  if (symbolic)
    m.input("image", {"N", 3, 8, 8});
  else
    m.input("image", {1, 3, 8, 8});
  m.initializer("w", {4, 3, 3, 3}, seeded(108, 1));
  m.initializer("scale", {4}, {1.f, 0.5f, 1.5f, 1.f});
  m.initializer("shift", {4}, {0.f, 0.1f, -0.1f, 0.2f});
  m.initializer("mean", {4}, {0.f, 0.1f, 0.f, -0.1f});
  m.initializer("var", {4}, {1.f, 2.f, 0.5f, 1.f});
  m.initializer("fc", {3, 4}, seeded(12, 2));
  m.initializer("fc_b", {3}, {0.1f, 0.2f, 0.3f});
  attr_ints(m.node("Conv", {"image", "w"}, {"c"}, "conv"), "pads", {1, 1, 1, 1});
  m.node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"bn"}, "bn");
  m.node("Relu", {"bn"}, {"seg"}, "relu");
  m.node("GlobalAveragePool", {"seg"}, {"gap"}, "gap");
  m.node("Flatten", {"gap"}, {"flat"}, "flatten");
  attr_int(m.node("Gemm", {"flat", "fc", "fc_b"}, {"logits"}, "fc"), "transB", 1);
  m.output("seg");
  m.output("logits");
  return m;
}

std::string write_model(const TempDir& dir, const std::string& name, const OnnxModel& m) {
  return testing::write_file(dir / name, m.bytes());
}

testing::Json parse_json(const std::string& text) {
  testing::Json j;
  INFO(text);
  REQUIRE(testing::parse_json(text, j));
  return j;
}

std::vector<int64_t> dims_of(const testing::Json& shape) {
  std::vector<int64_t> d;
  for (const auto& v : shape.array) d.push_back(static_cast<int64_t>(v.number));
  return d;
}

}  // namespace

TEST_CASE("cli onnx: convert prints the node counts and what folded", "[onnx][cli]") {
  TempDir dir;
  REQUIRE_FALSE(dir.path().empty());
  const std::string onnx = write_model(dir, "two_heads.onnx", two_head_model());
  const std::string out = dir / "two_heads.phm";
  const ShellResult o = run_cli({"convert", onnx, "-o", out});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  // 6 ONNX nodes: Conv (BN and Relu folded in), GlobalAveragePool, Flatten, Gemm.
  CHECK(contains(o.output, out + ": 6 ONNX nodes (opset 13) -> "));
  CHECK(contains(o.output, "tasks: seg, logits"));
  CHECK(contains(o.output, "  folded: "));
  CHECK(contains(o.output, "BatchNormalization x1"));
  CHECK(contains(o.output, "Relu into the previous node x1"));
  REQUIRE(fs::is_regular_file(out));

  // inspect: ONNX's input name and NCHW shapes, one task per output.
  const ShellResult ins = run_cli({"inspect", out, "--json"});
  INFO(ins.output);
  REQUIRE(ins.exit_code == 0);
  const testing::Json j = parse_json(ins.output);
  REQUIRE(j["inputs"].array.size() == 1);
  CHECK(j["inputs"].array[0]["name"].string == "image");
  CHECK(dims_of(j["inputs"].array[0]["shape"]) == std::vector<int64_t>{1, 3, 8, 8});
  REQUIRE(j["tasks"].array.size() == 2);
  CHECK(j["tasks"].array[0]["name"].string == "seg");
  CHECK(j["tasks"].array[1]["name"].string == "logits");
  CHECK(dims_of(j["tasks"].array[0]["outputs"].array[0]["shape"]) ==
        std::vector<int64_t>{1, 4, 8, 8});

  // run: fed and read in NCHW.
  const std::vector<float> image = seeded(3 * 8 * 8, 3);
  const std::string image_file = testing::write_file(
      dir / "image.f32",
      std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(image.data()),
                           reinterpret_cast<const uint8_t*>(image.data() + image.size())));
  const ShellResult r =
      run_cli({"run", out, "--input", "image=" + image_file, "--dump", dir / "dump"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(fs::file_size(dir / "dump/seg.seg.f32") == 4u * 8u * 8u * sizeof(float));
  CHECK(fs::file_size(dir / "dump/logits.logits.f32") == 3u * sizeof(float));
}

TEST_CASE("cli onnx: --task, --kind and --input-shape", "[onnx][cli]") {
  TempDir dir;
  const std::string onnx = write_model(dir, "two_heads.onnx", two_head_model());
  const std::string out = dir / "tasks.phm";
  ShellResult o =
      run_cli({"convert", onnx, "-o", out, "--task", "masks=seg", "--task", "classes=logits",
               "--kind", "masks=segmentation", "--kind", "classes=classification"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK(contains(o.output, "tasks: masks, classes"));
  o = run_cli({"inspect", out, "--json"});
  REQUIRE(o.exit_code == 0);
  const testing::Json j = parse_json(o.output);
  REQUIRE(j["tasks"].array.size() == 2);
  CHECK(j["tasks"].array[0]["name"].string == "masks");
  CHECK(j["tasks"].array[0]["kind"].string == "segmentation");
  CHECK(j["tasks"].array[1]["kind"].string == "classification");

  // Both outputs in one task.
  o = run_cli({"convert", onnx, "-o", dir / "one.phm", "--task", "all=seg,logits"});
  INFO(o.output);
  CHECK(o.exit_code == 0);
  CHECK(contains(o.output, "tasks: all"));

  // A symbolic batch needs --input-shape.
  const std::string symbolic = write_model(dir, "symbolic.onnx", two_head_model(true));
  o = run_cli({"convert", symbolic, "-o", dir / "symbolic.phm"});
  INFO(o.output);
  CHECK(o.exit_code == 1);
  CHECK(contains(o.output, "'image'"));
  CHECK(contains(o.output, "'N'"));
  CHECK(contains(o.output, "--input-shape"));
  o = run_cli({"convert", symbolic, "-o", dir / "symbolic.phm", "--input-shape", "image=1,3,8,8"});
  INFO(o.output);
  CHECK(o.exit_code == 0);
  o = run_cli({"inspect", dir / "symbolic.phm", "--json"});
  REQUIRE(o.exit_code == 0);
  CHECK(dims_of(parse_json(o.output)["inputs"].array[0]["shape"]) ==
        std::vector<int64_t>{1, 3, 8, 8});
}

TEST_CASE("cli onnx: option mistakes are usage errors naming the value", "[onnx][cli]") {
  TempDir dir;
  const std::string onnx = write_model(dir, "two_heads.onnx", two_head_model());
  const std::string symbolic = write_model(dir, "symbolic.onnx", two_head_model(true));
  const std::string out = dir / "out.phm";
  struct Case {
    const char* what;
    std::vector<std::string> args;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {"unknown kind",
       {"convert", onnx, "-o", out, "--task", "a=seg", "--kind", "a=weird"},
       {"'weird'", "segmentation"}},
      {"--kind for an unknown task",
       {"convert", onnx, "-o", out, "--task", "a=seg", "--kind", "b=segmentation"},
       {"--kind", "'b'"}},
      {"--kind without any --task", {"convert", onnx, "-o", out, "--kind", "seg=other"}, {"'seg'"}},
      {"--kind without '='", {"convert", onnx, "-o", out, "--kind", "segmentation"}, {"--kind"}},
      {"unknown output", {"convert", onnx, "-o", out, "--task", "a=nope"}, {"'nope'", "seg"}},
      {"--input-shape for a non-input",
       {"convert", onnx, "-o", out, "--input-shape", "images=1,3,8,8"},
       {"'images'"}},
      {"--input-shape for an initializer",
       {"convert", onnx, "-o", out, "--input-shape", "w=4,3,3,3"},
       {"'w'"}},
      {"--input-shape with a non-number",
       {"convert", symbolic, "-o", out, "--input-shape", "image=1,3,x,8"},
       {"--input-shape", "'x'"}},
      {"--input-shape with a zero",
       {"convert", symbolic, "-o", out, "--input-shape", "image=1,3,0,8"},
       {"--input-shape", "'0'"}},
      {"--input-shape without a shape",
       {"convert", symbolic, "-o", out, "--input-shape", "image="},
       {"--input-shape", "'image='"}},
      {"--preset with .onnx",
       {"convert", onnx, "-o", out, "--preset", "mediapipe-selfie-segmentation"},
       {"--preset"}},
      {"task twice",
       {"convert", onnx, "-o", out, "--task", "a=seg", "--task", "a=logits"},
       {"'a'"}},
      {"missing -o", {"convert", onnx}, {"-o"}},
  };
  for (const Case& c : cases) {
    const ShellResult o = run_cli(c.args);
    INFO(c.what << "\n" << o.output);
    CHECK(o.exit_code == 2);
    CHECK(std::count(o.output.begin(), o.output.end(), '\n') == 1);
    for (const std::string& m : c.mentions) CHECK(contains(o.output, m));
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("cli onnx: bad .onnx files exit 1 with a clear message", "[onnx][cli]") {
  TempDir dir;
  const std::string out = dir / "out.phm";
  {
    std::ofstream(dir / "garbage.onnx", std::ios::binary)
        << "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
    std::ofstream(dir / "empty.onnx", std::ios::binary);
  }
  OnnxModel erf(13);
  erf.input("x", {1, 4});
  erf.node("Erf", {"x"}, {"y"}, "the_erf");
  erf.output("y");
  const std::string unsupported = write_model(dir, "erf.onnx", erf);
  const std::string opset18 = write_model(dir, "opset18.onnx", two_head_model(false, 18));
  struct Case {
    const char* what;
    std::string file;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {"garbage", dir / "garbage.onnx", {"garbage.onnx", "not a valid ONNX model"}},
      {"empty", dir / "empty.onnx", {"empty.onnx", "empty"}},
      {"absent", dir / "absent.onnx", {"absent.onnx"}},
      {"unsupported operator", unsupported, {"unsupported operators: Erf x1 (first: 'the_erf')"}},
      {"opset 18", opset18, {"opset 18", "11 to 17"}},
  };
  for (const Case& c : cases) {
    const ShellResult o = run_cli({"convert", c.file, "-o", out});
    INFO(c.what << "\n" << o.output);
    CHECK(o.exit_code == 1);
    for (const std::string& m : c.mentions) CHECK(contains(o.output, m));
    CHECK_FALSE(fs::exists(out));
  }
}
