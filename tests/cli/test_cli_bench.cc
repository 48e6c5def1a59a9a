// `polyhead bench` end to end: runs the built binary on a small demo model and checks its JSON for
// the documented fields and their consistency, its HTML report for being self-contained, and its
// errors for naming the option and the value. No test looks at how fast anything ran.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "cli_streams.h"
#include "support/cli_runner.h"
#include "support/json_reader.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;
using testing::Json;

namespace {

using testing::run_cli;

// One small demo model (96x96, width 0.5, three tasks) for every test of this program.
const testing::TempDir& demo_dir() {
  static const testing::TempDir dir;
  static const bool written = [] {
    const auto o =
        run_cli({"demo", "--out", dir.path().string(), "--size", "96", "--width", "0.5"});
    INFO(o.output);
    REQUIRE(o.exit_code == 0);
    return true;
  }();
  (void)written;
  return dir;
}

std::string demo_model() {
  return demo_dir() / "mobilenet_multitask.phm";
}

// The soak's bound on resident memory growth in these tests: its default, except under
// AddressSanitizer, whose quarantine of freed blocks (up to 256 MiB) grows resident memory with
// every prepare again after an eviction without a leak (LeakSanitizer checks leaks there).
#if defined(__SANITIZE_ADDRESS__)
const char* const kSoakRssGrowthMib = "64";
#else
const char* const kSoakRssGrowthMib = "2";
#endif

// A tiny demo model (32x32, width 0.35, the same three tasks) for the soak cases, which run it
// hundreds of times, also under qemu in the ARM suite.
std::string soak_model() {
  static const testing::TempDir dir;
  static const bool written = [] {
    const auto o =
        run_cli({"demo", "--out", dir.path().string(), "--size", "32", "--width", "0.35"});
    INFO(o.output);
    REQUIRE(o.exit_code == 0);
    return true;
  }();
  (void)written;
  return (dir.path() / "mobilenet_multitask.phm").string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Json parse(const std::string& text) {
  Json j;
  INFO(text);
  REQUIRE(testing::parse_json(text, j));
  return j;
}

// The ordering every latency summary must satisfy, and its sample count.
void check_latency(const Json& l, size_t runs) {
  for (const char* key : {"count", "min", "median", "p90", "p99", "max", "mean", "stddev"}) {
    INFO(key);
    REQUIRE(l[key].kind == Json::kNumber);
  }
  CHECK(l["count"].number == static_cast<double>(runs));
  CHECK(l["samples"].array.size() == runs);
  CHECK(l["min"].number > 0);
  CHECK(l["min"].number <= l["median"].number);
  CHECK(l["median"].number <= l["p90"].number);
  CHECK(l["p90"].number <= l["p99"].number);
  CHECK(l["p99"].number <= l["max"].number);
  CHECK(l["min"].number <= l["mean"].number);
  CHECK(l["mean"].number <= l["max"].number);
  CHECK(l["stddev"].number >= 0);
}

}  // namespace

TEST_CASE("cli bench: --json holds latency, memory, profile, separate and sweep") {
  testing::TempDir out;
  const std::string json_path = out / "bench.json", html_path = out / "bench.html";
  const auto o =
      run_cli({"bench", demo_model(), "--runs", "4", "--warmup", "1", "--profile", "--separate",
               "--sweep-threads", "1,2", "--json", json_path, "--html", html_path});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  for (const char* text : {"latency", "median", "p99", "prepare", "arena", "VmHWM", "profile",
                           "backbone.stem", "shared", "one pass", "classify alone", "speed-up"})
    CHECK(contains(o.output, text));

  const Json j = parse(read_text(json_path));
  CHECK(j["schema"].string == "polyhead-bench/1");
  CHECK(j["model_format"].string == "phm");
  REQUIRE(j["tasks"].array.size() == 3);
  CHECK(j["config"]["runs"].number == 4);
  CHECK(j["plan"]["nodes"].number > 0);
  CHECK(j["plan"]["macs"].number > 0);
  // One thread: no node has a thread choice to make.
  CHECK(j["plan"]["nodes_with_thread_choice"].number == 0);
  CHECK(j["plan"]["nodes_on_calling_thread"].number == 0);
  CHECK(j["load_ms"].number > 0);
  CHECK(j["prepare_ms"].number > 0);
  check_latency(j["latency_ms"], 4);

  const Json& m = j["memory"];
  CHECK(m["model_bytes"].number == static_cast<double>(fs::file_size(demo_model())));
  CHECK(m["packed_weight_bytes"].number > 0);
  // Own kernels count their padding to whole SIMD panels (a few percent here); XNNPACK's count
  // the constants they packed from. Either way never much more than the file.
  CHECK(m["packed_weight_bytes"].number <= 1.1 * m["model_bytes"].number);
  CHECK(m["arena_bytes"].number >= m["arena_lower_bound_bytes"].number);
  CHECK(m["arena_lower_bound_bytes"].number > 0);
  CHECK(m.has("prepare_rss_delta_bytes"));
  // Linux reports VmHWM; the process held at least the arena.
  CHECK(m["peak_rss_bytes"].number >= m["arena_bytes"].number);

  // Profile: one entry per plan node, shares summing to one, parts adding up to the whole.
  const Json& p = j["profile"];
  CHECK(p["runs"].number == 4);
  REQUIRE(p["nodes"].array.size() == static_cast<size_t>(j["plan"]["nodes"].number));
  double share = 0, macs = 0, previous = INFINITY;
  std::set<std::string> parts;
  for (const Json& n : p["nodes"].array) {
    INFO(n["name"].string);
    CHECK_FALSE(n["op"].string.empty());
    CHECK_FALSE(n["output_shapes"].array.empty());
    CHECK(n["median_us"].number <= previous);  // slowest first
    previous = n["median_us"].number;
    CHECK(n["share"].number >= 0);
    CHECK(n["gflops"].number >= 0);
    share += n["share"].number;
    macs += n["macs"].number;
    parts.insert(n["part"].string);
  }
  CHECK(share == Approx(1.0).margin(1e-6));
  CHECK(macs == j["plan"]["macs"].number);
  CHECK(parts == std::set<std::string>{"shared", "classify", "segment", "detect"});
  REQUIRE(p["parts"].array.size() == 4);
  CHECK(p["parts"].array[0]["part"].string == "shared");
  double part_share = 0, part_nodes = 0;
  for (const Json& part : p["parts"].array) {
    part_share += part["share"].number;
    part_nodes += part["nodes"].number;
  }
  CHECK(part_share == Approx(1.0).margin(1e-6));
  CHECK(part_nodes == j["plan"]["nodes"].number);

  // Separate: one entry per task, in plan order, and the sum and saving they imply.
  const Json& s = j["separate"];
  REQUIRE(s["tasks"].array.size() == 3);
  double sum = 0;
  for (size_t i = 0; i < 3; ++i) {
    const Json& t = s["tasks"].array[i];
    CHECK(t["task"].string == j["tasks"].array[i].string);
    check_latency(t["latency_ms"], 4);
    sum += t["latency_ms"]["median"].number;
  }
  CHECK(s["sum_median_ms"].number == Approx(sum));
  CHECK(s["one_pass_median_ms"].number == Approx(j["latency_ms"]["median"].number));
  CHECK(s["saving"].number ==
        Approx(1.0 - s["one_pass_median_ms"].number / s["sum_median_ms"].number));

  // Sweep: one entry per thread count, speed-up against the first.
  const Json& sweep = j["sweep"];
  REQUIRE(sweep.array.size() == 2);
  CHECK(sweep.array[0]["threads"].number == 1);
  CHECK(sweep.array[1]["threads"].number == 2);
  CHECK(sweep.array[1]["resolved_threads"].number == 2);
  CHECK(sweep.array[0]["speedup"].number == Approx(1.0));
  for (const Json& point : sweep.array) {
    check_latency(point["latency_ms"], 4);
    CHECK(point["speedup"].number == Approx(sweep.array[0]["latency_ms"]["median"].number /
                                            point["latency_ms"]["median"].number));
    CHECK(point["separate"]["tasks"].array.size() == 3);
  }

  // The HTML report: one file, charts inline, nothing fetched from the network.
  const std::string html = read_text(html_path);
  CHECK(contains(html, "<!DOCTYPE html>"));
  CHECK(contains(html, "<svg"));
  CHECK(contains(html, "backbone.stem"));
  CHECK(contains(html, "Thread scaling"));
  CHECK_FALSE(contains(html, "http://"));
  CHECK_FALSE(contains(html, "https://"));
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "@import"));
}

TEST_CASE("cli bench: sections not asked for are left out and --json - prints JSON only") {
  // --quiet: run_shell merges stderr, where the progress lines go, into the output parsed here.
  const auto o = run_cli({"bench", demo_model(), "--runs", "2", "--warmup", "0", "--tasks",
                          "segment", "--json", "-", "--quiet"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  const Json j = parse(o.output);
  REQUIRE(j["tasks"].array.size() == 1);
  CHECK(j["tasks"].array[0].string == "segment");
  check_latency(j["latency_ms"], 2);
  CHECK_FALSE(j.has("profile"));
  CHECK_FALSE(j.has("separate"));
  CHECK(j["sweep"].array.empty());
}

TEST_CASE("cli bench: --min-time keeps running past --runs") {
  testing::TempDir out;
  const auto o = run_cli({"bench", demo_model(), "--runs", "1", "--warmup", "0", "--min-time",
                          "0.2", "--json", out / "b.json"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  const Json j = parse(read_text(out / "b.json"));
  const Json& l = j["latency_ms"];
  // The timed runs add up to at least the minimum time.
  double total = 0;
  for (const Json& s : l["samples"].array) total += s.number;
  CHECK(total >= 200.0);
  CHECK(l["count"].number == static_cast<double>(l["samples"].array.size()));
  // Past --runs 1 whenever the first run alone was shorter than --min-time (under a loaded
  // emulator one run can take longer, and then it is enough).
  if (!l["samples"].array.empty() && l["samples"].array[0].number < 200.0)
    CHECK(l["count"].number > 1);
}

TEST_CASE("cli bench: bad options name the option and the value") {
  const std::string model = demo_model();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"bench", model, "--runs", "0"}, "invalid value '0' for --runs"},
      {{"bench", model, "--threads", "-1"}, "invalid value '-1' for --threads"},
      {{"bench", model, "--warmup", "x"}, "invalid value 'x' for --warmup"},
      {{"bench", model, "--min-time", "-1"}, "invalid value '-1' for --min-time"},
      {{"bench", model, "--sweep-threads", "1,x"}, "invalid value 'x' for --sweep-threads"},
      {{"bench", model, "--sweep-threads", "1,,2"}, "for --sweep-threads: empty name"},
      {{"bench", model, "--tasks", "classify,nope"}, "invalid value 'nope' for --tasks"},
      {{"bench", model, "--html", "-"}, "invalid value '-' for --html"},
      {{"bench", model, "--parallel-heads", "sometimes"},
       "invalid value 'sometimes' for --parallel-heads: expected auto, never or always"},
      {{"bench", model, "--frobnicate"}, "--frobnicate"},
      {{"bench"}, "missing MODEL"},
  };
  for (const Case& c : cases) {
    const auto o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == 2);
    CHECK(contains(o.output, c.message));
  }
  const auto unknown = run_cli({"bench", model, "--tasks", "nope"});
  CHECK(contains(unknown.output, "classify, segment, detect"));  // lists the model's tasks
}

TEST_CASE("cli bench: a missing model or an unwritable output is a runtime error") {
  testing::TempDir out;
  const auto missing = run_cli({"bench", out / "no_such.phm", "--runs", "1"});
  INFO(missing.output);
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.output, "no_such.phm"));
  // A failed run leaves no empty report behind.
  const auto failed = run_cli({"bench", demo_model(), "--runs", "1", "--tasks", "nope", "--json",
                               out / "failed.json", "--html", out / "failed.html"});
  CHECK(failed.exit_code == 2);
  CHECK_FALSE(fs::exists(out / "failed.json"));
  CHECK_FALSE(fs::exists(out / "failed.html"));
  const auto unwritable =
      run_cli({"bench", demo_model(), "--runs", "1", "--json", out / "no_dir/b.json"});
  INFO(unwritable.output);
  CHECK(unwritable.exit_code == 1);
  CHECK(contains(unwritable.output, "--json"));
  CHECK(contains(unwritable.output, "no_dir/b.json"));
}

TEST_CASE("cli bench: a .tflite model is converted in memory", "[needs-data]") {
  const std::string path = testing::data_dir() + "/face_detection_short_range.tflite";
  if (!fs::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
  const auto o = run_cli({"bench", path, "--runs", "2", "--warmup", "0", "--json", "-", "--quiet"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  const Json j = parse(o.output);
  CHECK(j["model_format"].string == "tflite");
  CHECK(j["plan"]["nodes"].number > 0);
  check_latency(j["latency_ms"], 2);
}

TEST_CASE("cli bench: with two threads every node has measured its thread choice") {
  const auto o = run_cli({"bench", demo_model(), "--runs", "8", "--warmup", "1", "--threads", "2",
                          "--json", "-", "--quiet"});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  const Json j = parse(o.output);
  // One warm-up and three runs each way: seven runs decide every node.
  CHECK(j["plan"]["nodes_with_thread_choice"].number == j["plan"]["nodes"].number);
  CHECK(j["plan"]["nodes_on_calling_thread"].number <= j["plan"]["nodes"].number);
}

TEST_CASE("cli bench: --parallel-heads is in the config and the plan shows its head groups") {
  struct Expect {
    const char* mode;
    double groups;
    bool in_parallel;
  };
  for (const Expect& e : {Expect{"never", 0, false}, Expect{"always", 3, true}}) {
    const auto o = run_cli({"bench", demo_model(), "--runs", "2", "--warmup", "0", "--threads", "2",
                            "--parallel-heads", e.mode, "--json", "-", "--quiet"});
    INFO(e.mode << "\n" << o.output);
    REQUIRE(o.exit_code == 0);
    const Json j = parse(o.output);
    CHECK(j["config"]["parallel_heads"].string == e.mode);
    CHECK(j["plan"]["parallel_head_groups"].number == e.groups);
    CHECK(j["plan"]["heads_in_parallel"].kind == Json::kBool);
    CHECK(j["plan"]["heads_in_parallel"].boolean == e.in_parallel);
  }
  // The default is auto, which keeps the demo model's heads in one order: its detection head
  // does most of their work.
  const auto automatic = run_cli({"bench", demo_model(), "--runs", "2", "--warmup", "0",
                                  "--threads", "2", "--json", "-", "--quiet"});
  INFO(automatic.output);
  REQUIRE(automatic.exit_code == 0);
  const Json j = parse(automatic.output);
  CHECK(j["config"]["parallel_heads"].string == "auto");
  CHECK(j["plan"]["parallel_head_groups"].number == 0);
  CHECK_FALSE(j["plan"]["heads_in_parallel"].boolean);
  // The table says it too.
  const auto text = run_cli({"bench", demo_model(), "--runs", "2", "--warmup", "0", "--threads",
                             "2", "--parallel-heads", "always", "--quiet"});
  INFO(text.output);
  REQUIRE(text.exit_code == 0);
  CHECK(contains(
      text.output,
      "heads     3 heads may run in parallel; in parallel: yes (--parallel-heads always)"));
  const auto one = run_cli({"bench", demo_model(), "--runs", "2", "--warmup", "0", "--quiet"});
  CHECK(contains(one.output, "heads     one after another (1 thread)"));
}

TEST_CASE("cli bench: a line per stage on stderr, JSON alone on stdout, none with --quiet") {
  testing::TempDir dir;
  const std::vector<std::string> args = {"bench",           demo_model(), "--runs",    "2",
                                         "--warmup",        "1",          "--profile", "--separate",
                                         "--sweep-threads", "1,2",        "--json",    "-"};
  testing::CliStreams o = testing::run_cli_streams(args, dir);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  parse(o.out);  // stdout is the JSON and nothing else
  const std::vector<std::string> want = {
      "polyhead bench: loading " + demo_model(),
      "polyhead bench: preparing every task, 1 thread",
      "polyhead bench: one pass: 1 warm-up run, then 2 timed",
      "polyhead bench: profiling every node: 2 runs",
      "polyhead bench: classify alone (1/3): 1 warm-up run, then 2 timed",
      "polyhead bench: segment alone (2/3): 1 warm-up run, then 2 timed",
      "polyhead bench: detect alone (3/3): 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 1/2, 1 thread, one pass: 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 1/2, 1 thread, classify alone (1/3): 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 1/2, 1 thread, segment alone (2/3): 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 1/2, 1 thread, detect alone (3/3): 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 2/2, 2 threads, one pass: 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 2/2, 2 threads, classify alone (1/3): 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 2/2, 2 threads, segment alone (2/3): 1 warm-up run, then 2 timed",
      "polyhead bench: sweep 2/2, 2 threads, detect alone (3/3): 1 warm-up run, then 2 timed"};
  // Step lines come only when a measurement outlasts a second, on a loaded machine too.
  CHECK(testing::stage_lines(o.err) == want);

  // A measurement longer than a second also reports its runs, at most once a second.
  o = testing::run_cli_streams({"bench", demo_model(), "--runs", "1", "--warmup", "0", "--min-time",
                                "1.5", "--json", dir / "b.json"},
                               dir);
  REQUIRE(o.exit_code == 0);
  const std::vector<std::string> lines = testing::lines_of(o.err);
  REQUIRE(lines.size() >= 4);
  CHECK(lines[2] == "polyhead bench: one pass: 0 warm-up runs, then 1 timed (and at least 1.5 s)");
  // 1.5 s of runs: one step line, two if the last run is slow.
  CHECK(lines.size() <= 3 + 2);
  for (size_t i = 3; i < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(lines[i].rfind("polyhead bench: one pass: timed ", 0) == 0);
    CHECK(testing::is_step_line(lines[i]));
  }
  CHECK(contains(o.out, "latency"));
  CHECK_FALSE(contains(o.out, "polyhead bench:"));

  std::vector<std::string> quiet = args;
  quiet.push_back("--quiet");
  o = testing::run_cli_streams(quiet, dir);
  REQUIRE(o.exit_code == 0);
  CHECK(o.err.empty());
  parse(o.out);
}

TEST_CASE("cli bench --soak: a few hundred runs pass, and the JSON holds every figure") {
  testing::TempDir dir;
  const auto o = run_cli({"bench", soak_model(), "--soak", "300", "--soak-sample", "25", "--json",
                          dir / "soak.json", "--quiet", "--soak-rss-growth", kSoakRssGrowthMib});
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  for (const char* line : {"soak      ", ": passed", "plan switches", "again after eviction",
                           "no change", "after warm-up", "max drift", "all runs", "drift: median"})
    CHECK(contains(o.output, line));
  const Json root = parse(read_text(dir / "soak.json"));
  const Json& j = root["soak"];
  CHECK(j["passed"].boolean);
  CHECK(j["failure"].string.empty());
  CHECK(j["runs"].number == 300);
  CHECK(j["runs_done"].number == 300);
  CHECK(j["warmup_runs"].number == 150);  // at most half the runs
  CHECK(j["sample_every"].number == 25);
  CHECK(j["seed"].number == 1);
  CHECK(j["tasks"].array.size() == 3);
  const Json& plans = j["plans"];
  CHECK(plans["cache_capacity"].number == 3);
  CHECK(plans["re_prepares"].number > 0);
  CHECK(plans["prepares"].number ==
        plans["first_prepares"].number + plans["re_prepares"].number + plans["cache_hits"].number);
  CHECK(plans["plan_switches"].number > 0);
  CHECK(plans["subset_switches"].number > 0);
  CHECK(j["outputs"]["references"].number == 32);
  CHECK(j["outputs"]["checks"].number > 0);
  CHECK_FALSE(j["outputs"]["changed"].boolean);
  CHECK(j["outputs"]["same_on_every_plan"].kind == Json::kBool);
  const Json& rss = j["rss"];
  for (const char* key : {"start_bytes", "after_warmup_bytes", "end_bytes", "max_bytes",
                          "peak_hwm_bytes", "max_drift_bytes", "max_drift_after_runs",
                          "bound_bytes", "arena_pool_after_warmup_bytes", "arena_pool_end_bytes"}) {
    INFO(key);
    CHECK(rss[key].kind == Json::kNumber);
  }
  CHECK(rss["bound_bytes"].number == std::stod(kSoakRssGrowthMib) * 1024 * 1024);
  CHECK(rss["max_bytes"].number >= rss["end_bytes"].number);
  CHECK(rss["max_drift_bytes"].number <= rss["bound_bytes"].number);
  CHECK(j["latency_ms"]["count"].number == 150);
  CHECK(j["latency_ms"]["median"].number <= j["latency_ms"]["p99"].number);
  CHECK(j["latency_drift"]["first_decile_median_ms"].number > 0);
  CHECK(j["latency_drift"]["last_decile_median_ms"].number > 0);
  REQUIRE(j["subsets"].array.size() == 7);
  double runs = 0;
  for (const Json& s : j["subsets"].array) runs += s["runs"].number;
  CHECK(runs == 150);
  CHECK(j["subsets"].array.back()["tasks"].array.size() == 3);
  REQUIRE(j["samples"].array.size() == 13);  // runs 0, 25, ..., 300
  CHECK(j["samples"].array.back()["runs"].number == 300);
}

TEST_CASE("cli bench --soak: the count may be left out or come before MODEL") {
  // A bare --soak takes its default count: a later option error shows it was not read as N.
  const auto bare = run_cli({"bench", soak_model(), "--soak", "--soak-seed", "x"});
  CHECK(bare.exit_code == 2);
  CHECK(contains(bare.output, "invalid value 'x' for --soak-seed"));
  const auto before = run_cli({"bench", "--soak", soak_model(), "--soak-rss-growth", "-3"});
  CHECK(before.exit_code == 2);
  CHECK(contains(before.output, "invalid value '-3' for --soak-rss-growth"));
  const auto counted = run_cli(
      {"bench", "--soak", "40", soak_model(), "--tasks", "segment", "--json", "-", "--quiet"});
  INFO(counted.output);
  REQUIRE(counted.exit_code == 0);
  const Json root = parse(counted.output);
  const Json& j = root["soak"];
  CHECK(j["runs_done"].number == 40);
  CHECK(j["subsets"].array.size() == 1);
}

TEST_CASE("cli bench --soak: bad options name the option and the value") {
  const std::string model = soak_model();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"bench", model, "--soak", "0"}, "invalid value '0' for --soak"},
      {{"bench", model, "--soak", "-5"}, "invalid value '-5' for --soak"},
      {{"bench", model, "--soak", "abc"}, "invalid value 'abc' for --soak"},
      {{"bench", model, "--soak", "1.5"}, "invalid value '1.5' for --soak"},
      {{"bench", model, "--soak=", "10"}, "--soak"},
      {{"bench", model, "--soak", "10", "--soak-rss-growth", "x"},
       "invalid value 'x' for --soak-rss-growth"},
      {{"bench", model, "--soak", "10", "--soak-rss-growth", "-1"},
       "invalid value '-1' for --soak-rss-growth"},
      {{"bench", model, "--soak", "10", "--soak-warmup", "10"},
       "invalid value '10' for --soak-warmup: expected an integer in [0, 9]"},
      {{"bench", model, "--soak", "10", "--soak-sample", "0"},
       "invalid value '0' for --soak-sample"},
      {{"bench", model, "--soak", "10", "--soak-plan-cache", "0"},
       "invalid value '0' for --soak-plan-cache"},
      {{"bench", model, "--soak", "10", "--soak-seed", "-1"}, "invalid value '-1' for --soak-seed"},
      {{"bench", model, "--soak", "10", "--tasks", "nope"}, "invalid value 'nope' for --tasks"},
      {{"bench", model, "--soak", "10", "--threads", "-1"}, "invalid value '-1' for --threads"},
      {{"bench", model, "--soak", "10", "--profile"}, "--profile cannot be combined with --soak"},
      {{"bench", model, "--soak", "10", "--runs", "5"}, "--runs cannot be combined with --soak"},
      {{"bench", model, "--soak", "10", "--html", "x.html"},
       "--html cannot be combined with --soak"},
      {{"bench", model, "--soak-seed", "3"}, "--soak-seed needs --soak"},
  };
  for (const Case& c : cases) {
    const auto o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == 2);
    CHECK(contains(o.output, c.message));
  }
}

TEST_CASE("cli bench --soak: a failed soak exits 1, says why and still writes its report") {
  testing::TempDir dir;
  // No warm-up and no growth allowed: the plans, arenas and kernel buffers the first cycle makes
  // after the baseline are growth, so the memory check fails.
  const auto o =
      run_cli({"bench", soak_model(), "--soak", "200", "--soak-warmup", "0", "--soak-sample", "1",
               "--soak-rss-growth", "0", "--json", dir / "failed.json", "--quiet"});
  INFO(o.output);
  CHECK(o.exit_code == 1);
  CHECK(contains(o.output, "FAILED"));
  CHECK(contains(o.output, "polyhead bench: soak failed: resident memory grew"));
  CHECK(contains(o.output, "over the --soak-rss-growth bound of 0 MiB"));
  const Json root = parse(read_text(dir / "failed.json"));
  const Json& j = root["soak"];
  CHECK_FALSE(j["passed"].boolean);
  CHECK(contains(j["failure"].string, "resident memory grew"));
  CHECK_FALSE(j["outputs"]["changed"].boolean);
  CHECK(contains(o.output, "no change"));
  CHECK(j["runs_done"].number < 200);
}
