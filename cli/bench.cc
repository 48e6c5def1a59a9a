// `polyhead bench`: latency percentiles of a task set, load and prepare times, memory, and on
// request a per-operator profile, every task alone against the one pass, and a thread sweep;
// as tables, JSON (docs/bench.md) and a self-contained HTML report.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/args.h"
#include "cli/bench_html.h"
#include "cli/bench_json.h"
#include "cli/bench_measure.h"
#include "cli/bench_text.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/soak.h"
#include "cli/soak_report.h"

namespace polyhead::cli {

const char kBenchUsage[] =
    "usage: polyhead bench MODEL [--tasks a,b] [--threads N] [--warmup W] [--runs R]\n"
    "                      [--min-time S] [--profile] [--separate] [--sweep-threads 1,2,4]\n"
    "                      [--parallel-heads auto|never|always] [--json FILE] [--html FILE]\n"
    "                      [--sparse-weights auto|sparse|dense] [--quiet]\n"
    "       polyhead bench MODEL --soak [N] [--soak-rss-growth MIB] [--soak-warmup W]\n"
    "                      [--soak-sample K] [--soak-plan-cache C] [--soak-seed S]\n"
    "                      [--tasks a,b] [--threads N] [--parallel-heads M] [--json FILE]\n"
    "\n"
    "Times the chosen tasks (default: all) in one pass on a fixed synthetic input: min, median,\n"
    "p90, p99, max, mean and standard deviation of the latency; load and prepare time apart;\n"
    "the model, packed weight, arena and peak resident memory. MODEL is a .phm file, or a\n"
    ".tflite file converted in memory with the importer's defaults. See docs/bench.md.\n"
    "\n"
    "options:\n"
    "  --tasks a,b          the task set to time (comma separated)\n"
    "  --threads N          worker threads, 0 = one per logical processor (default 1)\n"
    "  --warmup W           untimed runs before each measurement (default 5)\n"
    "  --runs R             timed runs, at least 1 (default 50)\n"
    "  --min-time S         keep running until S seconds were timed (default 0)\n"
    "  --profile            time every node: share, median us, MACs, GFLOP/s, totals per part\n"
    "  --separate           also time every task as its own plan, against the one pass\n"
    "  --sweep-threads L    repeat the measurement for each thread count in L (e.g. 1,2,4)\n"
    "  --parallel-heads M   with 2+ threads, whether the heads run at the same time after the\n"
    "                       shared nodes: auto (default: measured per plan), never or always\n"
    "  --sparse-weights M   layers with block-sparse weights: auto (default: the sparse kernel\n"
    "                       where it beats the dense one), sparse (wherever it can) or dense\n"
    "  --json FILE          write every figure as JSON to FILE ('-' = stdout, no table)\n"
    "  --html FILE          write a self-contained HTML report with charts to FILE\n"
    "  --quiet              no progress lines on stderr (one per stage: load, prepare, each\n"
    "                       measurement)\n"
    "\n"
    "soak (a reliability test instead of the measurement above):\n"
    "  --soak [N]           run N times (default 100000), cycling through the task subsets on\n"
    "                       the plan of every task and on each subset's own plan; fail at once\n"
    "                       when an output differs from its first run or resident memory grows\n"
    "                       past the bound after warm-up (exit code 1)\n"
    "  --soak-rss-growth M  the bound in MiB over the resident memory after warm-up (default 2;\n"
    "                       64 in AddressSanitizer builds)\n"
    "  --soak-warmup W      runs before the baseline (default 1%, at least 200, at most half)\n"
    "  --soak-sample K      resident memory and latency sampled every K runs (default N/200)\n"
    "  --soak-plan-cache C  the engine's plan cache capacity (default half the subsets, so plans\n"
    "                       are evicted and prepared again)\n"
    "  --soak-seed S        the seed of the order and of the input (default 1)\n";

namespace {

constexpr const char* kCmd = "bench";

// An output file opened before the measurement, so a bad path fails in a second, not after it.
struct OutputFile {
  std::string path;
  std::ofstream stream;
};

Status open_output(const std::string& option, const std::string& path, OutputFile& out) {
  out.path = path;
  if (path == "-") return Status::ok();
  out.stream.open(path, std::ios::binary | std::ios::trunc);
  if (!out.stream)
    return Status(ErrorCode::kIoError, "cannot write " + option + " file '" + path + "'");
  return Status::ok();
}

Status write_output(OutputFile& out, const std::string& text) {
  if (out.path == "-") {
    std::fputs(text.c_str(), stdout);
    return Status::ok();
  }
  out.stream << text;
  out.stream.close();
  if (!out.stream) return Status(ErrorCode::kIoError, "cannot write '" + out.path + "'");
  return Status::ok();
}

Result<BenchConfig> parse_config(const ParsedArgs& a) {
  BenchConfig c;
  if (a.positional.size() != 1)
    return Status(ErrorCode::kInvalidArgument,
                  a.positional.empty()
                      ? "missing MODEL argument"
                      : "expected one MODEL, found extra argument '" + a.positional[1] + "'");
  c.model_path = a.positional[0];
  if (a.has("--tasks")) {
    PH_ASSIGN_OR_RETURN(c.tasks, parse_list("--tasks", a.get("--tasks")));
  }
  PH_ASSIGN_OR_RETURN(const long long threads,
                      parse_int("--threads", a.get("--threads", "1"), 0, 1024));
  c.threads = static_cast<size_t>(threads);
  PH_ASSIGN_OR_RETURN(const long long warmup,
                      parse_int("--warmup", a.get("--warmup", "5"), 0, 100000));
  c.warmup = static_cast<int>(warmup);
  PH_ASSIGN_OR_RETURN(const long long runs, parse_int("--runs", a.get("--runs", "50"), 1, 1000000));
  c.runs = static_cast<int>(runs);
  PH_ASSIGN_OR_RETURN(c.min_time_s, parse_double("--min-time", a.get("--min-time", "0"), 0, 3600));
  c.profile = a.has("--profile");
  c.separate = a.has("--separate");
  if (a.has("--parallel-heads")) {
    PH_ASSIGN_OR_RETURN(c.parallel_heads, parse_parallel_heads_option(a.get("--parallel-heads")));
  }
  if (a.has("--sparse-weights")) {
    PH_ASSIGN_OR_RETURN(c.sparse_weights, parse_sparse_weights_option(a.get("--sparse-weights")));
  }
  if (a.has("--sweep-threads")) {
    PH_ASSIGN_OR_RETURN(std::vector<std::string> items,
                        parse_list("--sweep-threads", a.get("--sweep-threads")));
    for (const std::string& item : items) {
      PH_ASSIGN_OR_RETURN(const long long n, parse_int("--sweep-threads", item, 0, 1024));
      c.sweep_threads.push_back(static_cast<size_t>(n));
    }
  }
  return c;
}

// The soak options, valid only with --soak, and the bench options that mean nothing with it.
const char* const kSoakOnlyOptions[] = {"--soak-rss-growth", "--soak-warmup", "--soak-sample",
                                        "--soak-plan-cache", "--soak-seed"};
const char* const kNotWithSoak[] = {"--warmup",   "--runs",          "--min-time", "--profile",
                                    "--separate", "--sweep-threads", "--html"};

// "--soak" takes an optional count: the next argument is the count unless it is an option or an
// existing file (the MODEL may follow --soak). Rewritten as "--soak=N" (kDefaultSoakRuns when no
// count follows) so the common parser sees an option with a value.
std::vector<std::string> expand_soak_flag(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (args[i] != "--soak") {
      out.push_back(args[i]);
      continue;
    }
    std::error_code ec;
    const bool has_count = i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0 &&
                           !std::filesystem::exists(args[i + 1], ec);
    out.push_back("--soak=" + (has_count ? args[++i] : std::to_string(kDefaultSoakRuns)));
  }
  return out;
}

Result<SoakConfig> parse_soak_config(const ParsedArgs& a, const BenchConfig& bench) {
  for (const char* option : kNotWithSoak)
    if (a.has(option))
      return Status(ErrorCode::kInvalidArgument,
                    std::string(option) + " cannot be combined with --soak");
  SoakConfig c;
  c.model_path = bench.model_path;
  c.tasks = bench.tasks;
  c.threads = bench.threads;
  c.parallel_heads = bench.parallel_heads;
  c.sparse_weights = bench.sparse_weights;
  // 10 bytes of bookkeeping per run: 10^8 runs keep it at 1 GB.
  PH_ASSIGN_OR_RETURN(const long long runs, parse_int("--soak", a.get("--soak"), 1, 100000000));
  c.runs = static_cast<size_t>(runs);
  PH_ASSIGN_OR_RETURN(
      c.rss_growth_mib,
      parse_double("--soak-rss-growth",
                   a.get("--soak-rss-growth", format_float(kDefaultSoakRssGrowthMib)), 0, 1048576));
  if (a.has("--soak-warmup")) {
    PH_ASSIGN_OR_RETURN(const long long w, parse_int("--soak-warmup", a.get("--soak-warmup"), 0,
                                                     static_cast<long long>(c.runs) - 1));
    // 0 asks for no warm-up: the baseline is the first sample.
    c.warmup_runs = static_cast<size_t>(w);
  }
  if (a.has("--soak-sample")) {
    PH_ASSIGN_OR_RETURN(const long long k, parse_int("--soak-sample", a.get("--soak-sample"), 1,
                                                     static_cast<long long>(c.runs)));
    c.sample_every = static_cast<size_t>(k);
  }
  if (a.has("--soak-plan-cache")) {
    PH_ASSIGN_OR_RETURN(const long long k,
                        parse_int("--soak-plan-cache", a.get("--soak-plan-cache"), 1, 1024));
    c.plan_cache = static_cast<size_t>(k);
  }
  if (a.has("--soak-seed")) {
    PH_ASSIGN_OR_RETURN(const long long s,
                        parse_int("--soak-seed", a.get("--soak-seed"), 0, 9223372036854775807LL));
    c.seed = static_cast<uint64_t>(s);
  }
  return c;
}

int soak_main(const ParsedArgs& parsed, const BenchConfig& bench) {
  auto config = parse_soak_config(parsed, bench);
  if (!config.is_ok()) return report_usage_error(kCmd, config.status().message());
  OutputFile json;
  if (parsed.has("--json")) {
    const Status s = open_output("--json", parsed.get("--json"), json);
    if (!s.is_ok()) return report_error(kCmd, s.message(), kExitRuntime);
  }
  Progress progress(kCmd, !parsed.has("--quiet"));
  auto result = run_soak(*config, progress);
  if (!result.is_ok()) {
    if (json.stream.is_open()) {
      json.stream.close();
      std::remove(json.path.c_str());
    }
    if (result.status().code() == ErrorCode::kInvalidArgument)
      return report_usage_error(kCmd, result.status().message());
    return report_error(kCmd, config->model_path + ": " + result.status().to_string(),
                        kExitRuntime);
  }
  // A failed soak still writes its report: the figures up to the failure help find its cause.
  if (json.path != "-") print_soak_text(*result, stdout);
  if (!json.path.empty()) {
    const Status s = write_output(json, soak_to_json(*result));
    if (!s.is_ok()) return report_error(kCmd, s.message(), kExitRuntime);
  }
  if (!result->passed) return report_error(kCmd, "soak failed: " + result->failure, kExitRuntime);
  return kExitOk;
}

}  // namespace

int bench_main(const std::vector<std::string>& args) {
  auto parsed = parse_args(expand_soak_flag(args), {{"--tasks", true},
                                                    {"--threads", true},
                                                    {"--sparse-weights", true},
                                                    {"--warmup", true},
                                                    {"--runs", true},
                                                    {"--min-time", true},
                                                    {"--profile", false},
                                                    {"--separate", false},
                                                    {"--sweep-threads", true},
                                                    {"--parallel-heads", true},
                                                    {"--json", true},
                                                    {"--html", true},
                                                    {"--quiet", false},
                                                    {"--soak", true},
                                                    {"--soak-rss-growth", true},
                                                    {"--soak-warmup", true},
                                                    {"--soak-sample", true},
                                                    {"--soak-plan-cache", true},
                                                    {"--soak-seed", true}});
  if (!parsed.is_ok()) return report_usage_error(kCmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kBenchUsage, stdout);
    return kExitOk;
  }
  auto config = parse_config(*parsed);
  if (!config.is_ok()) return report_usage_error(kCmd, config.status().message());
  if (parsed->has("--soak")) return soak_main(*parsed, *config);
  for (const char* option : kSoakOnlyOptions)
    if (parsed->has(option)) return report_usage_error(kCmd, std::string(option) + " needs --soak");
  if (parsed->get("--html") == "-")
    return report_usage_error(kCmd, "invalid value '-' for --html: expected a file name");

  OutputFile json, html;
  if (parsed->has("--json")) {
    const Status s = open_output("--json", parsed->get("--json"), json);
    if (!s.is_ok()) return report_error(kCmd, s.message(), kExitRuntime);
  }
  if (parsed->has("--html")) {
    const Status s = open_output("--html", parsed->get("--html"), html);
    if (!s.is_ok()) return report_error(kCmd, s.message(), kExitRuntime);
  }

  Progress progress(kCmd, !parsed->has("--quiet"));
  auto result = run_bench(*config, progress);
  if (!result.is_ok()) {
    // No half-written reports: drop the files opened for this run.
    for (OutputFile* f : {&json, &html})
      if (f->stream.is_open()) {
        f->stream.close();
        std::remove(f->path.c_str());
      }
    // Only option errors come back as kInvalidArgument (an unknown task in --tasks).
    if (result.status().code() == ErrorCode::kInvalidArgument)
      return report_usage_error(kCmd, result.status().message());
    return report_error(kCmd, config->model_path + ": " + result.status().to_string(),
                        kExitRuntime);
  }
  if (json.path != "-") print_bench_text(*result, stdout);
  if (!json.path.empty()) {
    const Status s = write_output(json, bench_to_json(*result));
    if (!s.is_ok()) return report_error(kCmd, s.message(), kExitRuntime);
  }
  if (!html.path.empty()) {
    const Status s = write_output(html, bench_to_html(*result));
    if (!s.is_ok()) return report_error(kCmd, s.message(), kExitRuntime);
  }
  return kExitOk;
}

}  // namespace polyhead::cli
