// File size tools as a user runs them: `polyhead inspect`'s file sections (text and JSON, summing
// to the file size), `--names short` of `convert` and `quantize` (a smaller file with the same
// outputs) and the errors of --names.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/json_reader.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;
using testing::Json;
using testing::run_cli;
using testing::TempDir;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// `inspect --json` of `model`: checks that the sections sum to the file size and returns them.
Json sections_of(const std::string& model) {
  const testing::ShellResult o = run_cli({"inspect", model, "--json"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  Json j;
  REQUIRE(testing::parse_json(o.output, j));
  double sum = 0;
  for (const Json& s : j["file_sections"].array) sum += s["bytes"].number;
  CHECK(sum == j["file_bytes"].number);
  CHECK(j["file_bytes"].number == static_cast<double>(fs::file_size(model)));
  return j;
}

double section(const Json& report, const std::string& key) {
  for (const Json& s : report["file_sections"].array)
    if (s["section"].string == key) return s["bytes"].number;
  FAIL("no section " << key);
  return 0;
}

// The bytes of every output `run` dumps for `model` with its one input filled with a fixed
// pattern, concatenated in index order.
std::string run_outputs(const std::string& model, const TempDir& dir, const std::string& name) {
  const Json info = sections_of(model);
  const Json& input = info["inputs"].array.at(0);
  double elements = 1;
  for (const Json& d : input["shape"].array) elements *= d.number;
  std::vector<float> values(static_cast<size_t>(elements));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 251) / 125.f - 1.f;
  const std::string raw = dir / (name + ".f32");
  std::ofstream(raw, std::ios::binary)
      .write(reinterpret_cast<const char*>(values.data()),
             static_cast<std::streamsize>(values.size() * sizeof(float)));
  const std::string out = dir / name;
  const testing::ShellResult o =
      run_cli({"run", model, "--input", input["name"].string + "=" + raw, "--dump", out});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  Json index;
  REQUIRE(testing::parse_json(read_file(out + "/outputs.json"), index));
  std::string all;
  for (const Json& e : index["outputs"].array) all += read_file(out + "/" + e["file"].string);
  REQUIRE(!all.empty());
  return all;
}

}  // namespace

TEST_CASE("cli: inspect shows bytes per file section, summing to the file size") {
  TempDir dir;
  const testing::ShellResult demo =
      run_cli({"demo", "--out", dir.path().string(), "--size", "96", "--width", "0.5"});
  INFO(demo.output);
  REQUIRE(demo.exit_code == 0);
  const std::string model = dir / "mobilenet_multitask.phm";
  const Json j = sections_of(model);
  CHECK(section(j, "float_constants") > 0);
  CHECK(section(j, "tensor_names") > 0);
  const testing::ShellResult text = run_cli({"inspect", model});
  REQUIRE(text.exit_code == 0);
  CHECK(contains(text.output, "file sections ("));
  CHECK(contains(text.output, "float constants"));
  CHECK(contains(text.output, "tensor names"));
}

TEST_CASE("cli: --names takes keep or short") {
  TempDir dir;
  const std::string out = dir / "x.phm";
  for (const std::string bad : {"strip", "", "SHORT"}) {
    const testing::ShellResult o =
        run_cli({"convert", dir / "absent.tflite", "-o", out, "--names", bad});
    INFO(o.output);
    CHECK(o.exit_code == 2);
    // An empty value is refused by the option parser itself, naming the option.
    CHECK(contains(o.output, bad.empty() ? std::string("'--names' needs a non-empty value")
                                         : "--names must be keep or short, got '" + bad + "'"));
  }
#ifdef POLYHEAD_TEST_HAS_QUANTIZE
  const testing::ShellResult q = run_cli(
      {"quantize", dir / "absent.phm", "--calib", dir.path().string(), "-o", out, "--names", "no"});
  INFO(q.output);
  CHECK(q.exit_code == 2);
  CHECK(contains(q.output, "--names must be keep or short, got 'no'"));
  const testing::ShellResult b = run_cli({"quantize", dir / "absent.phm", "--calib",
                                          dir.path().string(), "-o", out, "--bias-scales", "none"});
  INFO(b.output);
  CHECK(b.exit_code == 2);
  CHECK(contains(b.output, "--bias-scales must be stored or implied, got 'none'"));
#endif
}

TEST_CASE("cli: convert and quantize --names short write smaller files with the same outputs",
          "[needs-data]") {
  const std::string tflite = testing::data_dir() + "/face_detection_short_range.tflite";
  const std::string photo = testing::data_dir() + "/sample1.jpg";
  if (!fs::exists(tflite)) FAIL("missing " << tflite << ": run scripts/fetch_data.sh");
  TempDir dir;
  const std::string plain = dir / "face.phm", shortened = dir / "face.short.phm";
  const std::vector<std::string> convert = {"convert", tflite, "--preset",
                                            "mediapipe-face-detection-short"};
  std::vector<std::string> args = convert;
  args.insert(args.end(), {"-o", plain});
  REQUIRE(run_cli(args).exit_code == 0);
  args = convert;
  args.insert(args.end(), {"-o", shortened, "--names", "short"});
  const testing::ShellResult o = run_cli(args);
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK(fs::file_size(shortened) < fs::file_size(plain));
  const Json a = sections_of(plain), b = sections_of(shortened);
  CHECK(section(b, "tensor_names") < section(a, "tensor_names"));
  CHECK(section(b, "float_constants") == section(a, "float_constants"));
  // The interface is unchanged: same input and task output names, same values.
  CHECK(b["inputs"].array[0]["name"].string == a["inputs"].array[0]["name"].string);
  CHECK(run_outputs(shortened, dir, "short") == run_outputs(plain, dir, "plain"));

#ifdef POLYHEAD_TEST_HAS_QUANTIZE
  const std::string int8 = dir / "face.int8.phm", int8_short = dir / "face.int8.short.phm";
  const std::vector<std::string> quantize = {"quantize", plain, "--calib", photo, "--quiet"};
  args = quantize;
  args.insert(args.end(), {"-o", int8});
  REQUIRE(run_cli(args).exit_code == 0);
  args = quantize;
  args.insert(args.end(), {"-o", int8_short, "--names", "short"});
  REQUIRE(run_cli(args).exit_code == 0);
  CHECK(fs::file_size(int8_short) < fs::file_size(int8));
  const Json c = sections_of(int8), d = sections_of(int8_short);
  CHECK(section(d, "int8_constants") == section(c, "int8_constants"));
  // Names shortened: nodes take their output's short name, one string for both.
  CHECK(section(d, "tensor_names") + section(d, "node_names") <
        section(c, "tensor_names") + section(c, "node_names"));
  CHECK(run_outputs(int8_short, dir, "int8_short") == run_outputs(int8, dir, "int8_plain"));
  // --bias-scales implied: no int32 bias keeps scales, the same outputs again (format 1.8: the
  // anchors are grids and the weight scales halves).
  const std::string int8_implied = dir / "face.int8.implied.phm";
  args = quantize;
  args.insert(args.end(), {"-o", int8_implied, "--bias-scales", "implied"});
  REQUIRE(run_cli(args).exit_code == 0);
  const Json e = sections_of(int8_implied);
  CHECK(section(e, "quantization") < section(c, "quantization"));
  CHECK(e["format_version"].string == "1.8");
  CHECK(run_outputs(int8_implied, dir, "int8_implied") == run_outputs(int8, dir, "int8_plain"));
#endif
}
