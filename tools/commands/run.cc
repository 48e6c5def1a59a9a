// `polyhead run`: runs chosen tasks of a model on raw float32 input files and summarises (and
// optionally dumps) every output.
#include <cstdio>

#include "commands/args.h"
#include "commands/commands.h"
#include "commands/execute.h"
#include "polyhead/model.h"

namespace polyhead::cli {

const char kRunUsage[] =
    "usage: polyhead run MODEL --input NAME=FILE.f32 [--input ...] [--tasks a,b] [--threads N]\n"
    "                    [--repeat N] [--dump DIR]\n"
    "\n"
    "Runs the chosen tasks (default: all) in one pass and prints, per task output, its shape and\n"
    "min/max/mean (classification: top-5 classes), and the latency of the pass.\n"
    "\n"
    "options:\n"
    "  --input NAME=FILE  raw little-endian float32 data for input NAME, in the layout the model\n"
    "                     declares (see `polyhead inspect`); one per model input\n"
    "  --tasks a,b        the tasks to run (comma separated)\n"
    "  --threads N        worker threads, 0 = one per logical processor (default 1)\n"
    "  --repeat N         run N times and also report the median latency (default 1)\n"
    "  --dump DIR         write DIR/<task>.<output>.f32 and DIR/outputs.json\n";

int run_main(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"--input", true, true},
                                  {"--tasks", true},
                                  {"--threads", true},
                                  {"--repeat", true},
                                  {"--dump", true}});
  if (!parsed.is_ok()) return report_usage_error("run", parsed.status().message());
  if (parsed->help) {
    std::fputs(kRunUsage, stdout);
    return kExitOk;
  }
  if (parsed->positional.size() != 1)
    return report_usage_error(
        "run", parsed->positional.empty()
                   ? "missing MODEL argument"
                   : "expected one MODEL, found extra argument '" + parsed->positional[1] + "'");
  ExecuteOptions options;
  options.model_path = parsed->positional[0];
  for (const std::string& text : parsed->all("--input")) {
    auto assignment = parse_assignment("--input", text);
    if (!assignment.is_ok()) return report_usage_error("run", assignment.status().message());
    options.inputs.push_back({assignment->first, assignment->second});
  }
  if (parsed->has("--tasks")) {
    auto list = parse_list("--tasks", parsed->get("--tasks"));
    if (!list.is_ok()) return report_usage_error("run", list.status().message());
    options.tasks = *list;
  }
  auto threads = parse_int("--threads", parsed->get("--threads", "1"), 0, 1024);
  if (!threads.is_ok()) return report_usage_error("run", threads.status().message());
  options.threads = static_cast<size_t>(*threads);
  auto repeat = parse_int("--repeat", parsed->get("--repeat", "1"), 1, 100000);
  if (!repeat.is_ok()) return report_usage_error("run", repeat.status().message());
  options.repeat = static_cast<int>(*repeat);
  options.dump_dir = parsed->get("--dump");

  auto model = Model::load_file(options.model_path);
  if (!model.is_ok())
    return report_error(
        "run", "cannot load model '" + options.model_path + "': " + model.status().to_string(),
        kExitRuntime);
  const Status status = execute_and_report(*model, options);
  if (!status.is_ok()) return report_error("run", status.to_string(), kExitRuntime);
  return kExitOk;
}

}  // namespace polyhead::cli
