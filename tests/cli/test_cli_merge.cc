// `polyhead merge` end to end: runs the built binary on models written with the ModelBuilder, then
// `polyhead inspect` and `polyhead run` on the merged file, as a user would.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/backbone_models.h"
#include "support/cli_runner.h"
#include "support/json_reader.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;

namespace {

using testing::run_cli;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

testing::Json parse_json(const std::string& text) {
  testing::Json j;
  INFO(text);
  REQUIRE(testing::parse_json(text, j));
  return j;
}

testing::BackboneSpec spec(const std::string& prefix, int differ_at = -1) {
  testing::BackboneSpec s;
  s.prefix = prefix;
  s.differ_at = differ_at;
  return s;
}

// classify.phm, segment.phm and detect.phm in `dir`, one frozen backbone.
void write_models(const testing::TempDir& dir) {
  testing::write_file(dir / "classify.phm", testing::classify_model(spec("cls")));
  testing::write_file(dir / "segment.phm", testing::segment_model(spec("seg")));
  testing::write_file(dir / "detect.phm", testing::detect_model(spec("det")));
}

}  // namespace

TEST_CASE("cli: merge keeps the backbone once and inspect shows it shared") {
  testing::TempDir dir;
  write_models(dir);
  const std::string out = dir / "merged.phm";
  auto o =
      run_cli({"merge", dir / "classify.phm", dir / "segment.phm", dir / "detect.phm", "-o", out});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK(fs::is_regular_file(out));
  for (const char* text : {"merged 3 models", "shared by all 3", "shared by some",
                           "head of segment", "MACs", "file ", "warning: metadata 'license'"})
    CHECK(contains(o.output, text));

  o = run_cli({"inspect", out, "--json"});
  REQUIRE(o.exit_code == 0);
  const testing::Json report = parse_json(o.output);
  // inspect counts a node as shared when two tasks need it: the backbone (stages 0-2 in all three
  // models, stages 3-4 in two of them).
  const testing::Json& shared = report["shared_nodes"];
  REQUIRE(shared.array.size() == testing::kBackboneNodesThrough[4]);
  std::vector<std::string> names;
  for (size_t i = 0; i < shared.array.size(); ++i) names.push_back(shared.array[i].string);
  CHECK(std::count(names.begin(), names.end(), "cls.stem") == 1);
  CHECK(std::count(names.begin(), names.end(), "classify+detect/cls.block4") == 1);
  CHECK(report["tasks"].array.size() == 3);

  o = run_cli({"inspect", out});
  REQUIRE(o.exit_code == 0);
  CHECK(contains(o.output, "shared nodes (7)"));
  CHECK(contains(o.output, "segment/seg.skip"));
}

TEST_CASE("cli: merge --json reports nodes, weights and MACs per part") {
  testing::TempDir dir;
  write_models(dir);
  const std::string out = dir / "merged.phm";
  auto o = run_cli({"merge", dir / "classify.phm", dir / "segment.phm", dir / "detect.phm", "-o",
                    out, "--json", "--names", "c,s,d"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  // Warnings go to stderr; the JSON is the last line.
  const std::string json = o.output.substr(o.output.find("{\n"));
  const testing::Json r = parse_json(json);
  CHECK(r["shared"]["nodes"].number == testing::kBackboneNodesThrough[2]);
  CHECK(r["shared"]["macs"].number > 0);
  CHECK(r["shared"]["param_bytes"].number > 0);
  CHECK(r["partly_shared"]["nodes"].number == 2);
  const testing::Json& models = r["models"];
  REQUIRE(models.array.size() == 3);
  CHECK(models.array[0]["tasks"].array[0].string == "c");
  CHECK(models.array[1]["head_nodes"].number == 4);
  double heads = 0;
  for (size_t m = 0; m < 3; ++m) heads += models.array[m]["head_macs"].number;
  CHECK(r["total_macs"].number ==
        heads + r["shared"]["macs"].number + r["partly_shared"]["macs"].number);
  CHECK(r["separate_macs"].number > r["total_macs"].number);
  CHECK(r["file_bytes"].number < r["source_file_bytes"].number);
  CHECK(r["file_bytes"].number == static_cast<double>(fs::file_size(out)));

  o = run_cli({"inspect", out, "--tasks", "s"});
  CHECK(o.exit_code == 0);
}

TEST_CASE("cli: merge errors name the files and exit with 1, bad options with 2") {
  testing::TempDir dir;
  write_models(dir);
  testing::write_file(dir / "classify2.phm", testing::classify_model(spec("other", 3)));
  const std::string out = dir / "m.phm";

  auto o = run_cli({"merge", dir / "classify.phm", dir / "classify2.phm", "-o", out});
  INFO(o.output);
  CHECK(o.exit_code == 1);
  CHECK(contains(o.output, "task 'classify' is in both"));
  CHECK(contains(o.output, "classify2.phm"));
  CHECK_FALSE(fs::exists(out));

  o = run_cli({"merge", dir / "classify.phm", dir / "classify2.phm", "-o", out, "--names", "a,b"});
  CHECK(o.exit_code == 0);
  CHECK(contains(o.output, "where sharing with a ends"));
  CHECK(contains(o.output, "holds different values"));

  o = run_cli(
      {"merge", dir / "classify.phm", dir / "segment.phm", "-o", out, "--split-at", "cls.down3"});
  CHECK(o.exit_code == 1);
  CHECK(contains(o.output, "does not contain the backbone"));

  struct Case {
    std::vector<std::string> args;
    const char* mention;
  };
  for (const Case& c : std::vector<Case>{
           {{"merge", dir / "classify.phm", "-o", out}, "two models or more"},
           {{"merge", dir / "classify.phm", dir / "detect.phm"}, "missing -o"},
           {{"merge", dir / "classify.phm", dir / "detect.phm", "-o", out, "--names", "a"},
            "--names gives 1 names for 2 models"},
           {{"merge", dir / "classify.phm", dir / "detect.phm", "-o", dir / "detect.phm"},
            "would overwrite"},
           {{"merge", dir / "classify.phm", dir / "detect.phm", "-o", out, "--bogus"},
            "--bogus"}}) {
    o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == 2);
    CHECK(contains(o.output, c.mention));
  }
  o = run_cli({"merge", dir / "classify.phm", dir / "missing.phm", "-o", out});
  CHECK(o.exit_code == 1);
  CHECK(contains(o.output, "missing.phm"));

  o = run_cli({"merge", "--help"});
  CHECK(o.exit_code == 0);
  CHECK(contains(o.output, "usage: polyhead merge"));
}
