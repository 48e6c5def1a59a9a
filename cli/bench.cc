// `polyhead bench`: latency percentiles of a task set, load and prepare times, memory, and on
// request a per-operator profile, every task alone against the one pass, and a thread sweep;
// as tables, JSON (docs/bench.md) and a self-contained HTML report.
#include <cstdio>
#include <fstream>

#include "cli/args.h"
#include "cli/bench_html.h"
#include "cli/bench_json.h"
#include "cli/bench_measure.h"
#include "cli/bench_text.h"
#include "cli/commands.h"
#include "cli/progress.h"

namespace polyhead::cli {

const char kBenchUsage[] =
    "usage: polyhead bench MODEL [--tasks a,b] [--threads N] [--warmup W] [--runs R]\n"
    "                      [--min-time S] [--profile] [--separate] [--sweep-threads 1,2,4]\n"
    "                      [--parallel-heads auto|never|always] [--json FILE] [--html FILE]\n"
    "                      [--quiet]\n"
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
    "  --json FILE          write every figure as JSON to FILE ('-' = stdout, no table)\n"
    "  --html FILE          write a self-contained HTML report with charts to FILE\n"
    "  --quiet              no progress lines on stderr (one per stage: load, prepare, each\n"
    "                       measurement)\n";

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

}  // namespace

int bench_main(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"--tasks", true},
                                  {"--threads", true},
                                  {"--warmup", true},
                                  {"--runs", true},
                                  {"--min-time", true},
                                  {"--profile", false},
                                  {"--separate", false},
                                  {"--sweep-threads", true},
                                  {"--parallel-heads", true},
                                  {"--json", true},
                                  {"--html", true},
                                  {"--quiet", false}});
  if (!parsed.is_ok()) return report_usage_error(kCmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kBenchUsage, stdout);
    return kExitOk;
  }
  auto config = parse_config(*parsed);
  if (!config.is_ok()) return report_usage_error(kCmd, config.status().message());
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
