// polyhead: the command-line tool. Dispatches to one subcommand per file of cli/.
//
//   polyhead demo                        write the default model and image, run all tasks
//   polyhead inspect MODEL [--json]      inputs, tasks, shared/head nodes, MACs, memory
//   polyhead run MODEL --input NAME=FILE run tasks on raw float32 inputs
//   polyhead bench MODEL [--profile]     latency, per-operator profile, memory, thread sweep
//   polyhead convert MODEL -o OUT        convert a TensorFlow Lite (.tflite) or ONNX (.onnx) model
//   polyhead merge A B -o OUT            merge models sharing a backbone (backbone once)
//   polyhead compare T S --images DIR    a student against its teacher on the same photos
//   polyhead quantize M --calib DIR -o O int8 quantization with calibration photos
//   polyhead prune M --sparsity S -o O   magnitude pruning: block-sparse weights or channels
//   polyhead lowrank M --calib DIR -o O  low-rank factorization of 1x1 and fully connected layers
//   polyhead stream M... --video FILE    models on a video, photos or a camera in real time
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "polyhead/format_version.h"
#include "polyhead/version.h"

namespace polyhead::cli {

int report_error(const char* command, const std::string& message, int code) {
  std::fprintf(stderr, "polyhead %s: %s\n", command, message.c_str());
  return code;
}

int report_needs_opencv(const char* command, const char* usage,
                        const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "-h" || a == "--help") {
      std::fputs(usage, stdout);
      return kExitOk;
    }
  return report_error(command,
                      "needs OpenCV: this polyhead was built without it (install libopencv-dev "
                      "and rebuild)",
                      kExitRuntime);
}

int report_usage_error(const char* command, const std::string& message) {
  std::fprintf(stderr, "polyhead %s: %s (see 'polyhead %s --help')\n", command, message.c_str(),
               command);
  return kExitUsage;
}

namespace {

const Command kCommands[] = {
    {"demo", "write the default multi-task model and an image, then run every task on it",
     kDemoUsage, demo_main},
    {"inspect", "show inputs, tasks, shared and per-task nodes, MACs, parameters and memory",
     kInspectUsage, inspect_main},
    {"run", "run tasks of a model on raw float32 input files", kRunUsage, run_main},
    {"bench", "time tasks: latency percentiles, per-operator profile, memory, thread sweep",
     kBenchUsage, bench_main},
    {"convert", "convert a TensorFlow Lite (.tflite, float32 or int8) or ONNX model into .phm",
     kConvertUsage, convert_main},
    {"merge", "merge models sharing a backbone into one model that computes it once", kMergeUsage,
     merge_main},
    {"compare", "compare a student model with its teacher: agreement, IoU, KL, size, latency",
     kCompareUsage, compare_main},
    {"quantize", "quantize a float model to int8 with calibration photos; per-node sensitivity",
     kQuantizeUsage, quantize_main},
    {"prune", "prune a float model: block-sparse weights or whole channels, by sensitivity",
     kPruneUsage, prune_main},
    {"lowrank", "factorize fully connected and 1x1 layers into two of low rank (SVD); fewer MACs",
     kLowrankUsage, lowrank_main},
    {"stream", "run models on a video, photos or a camera: per-task rates, budget, annotated video",
     kStreamUsage, stream_main},
};

const Command* find_command(const std::string& name) {
  for (const Command& c : kCommands)
    if (name == c.name) return &c;
  return nullptr;
}

void print_help(FILE* out) {
  std::fprintf(out,
               "usage: polyhead COMMAND [options]\n"
               "\n"
               "Polyhead runs several tasks of one model on one input in one pass: the shared\n"
               "backbone once, then only the task heads asked for.\n"
               "\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-9s %s\n", c.name, c.summary);
  std::fprintf(
      out,
      "\nRun 'polyhead help COMMAND' or 'polyhead COMMAND --help' for a command's options.\n"
      "Exit codes: 0 success, 1 runtime error, 2 bad command line.\n");
}

int dispatch(const std::vector<std::string>& args) {
  if (args.empty()) {
    print_help(stderr);
    return kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "-h" || first == "--help") {
    print_help(stdout);
    return kExitOk;
  }
  if (first == "--version") {
    // The release, then the newest format this build reads and writes (models without ABS or SILU
    // are still written as 1.2).
    std::printf("polyhead %s (model format %u.%u)\n", PH_VERSION_STRING, kFormatVersionMajor,
                kFormatVersionMinorLatest);
    return kExitOk;
  }
  if (first == "help") {
    if (args.size() == 1) {
      print_help(stdout);
      return kExitOk;
    }
    const Command* c = find_command(args[1]);
    if (!c) {
      std::fprintf(stderr, "polyhead help: unknown command '%s' (see 'polyhead --help')\n",
                   args[1].c_str());
      return kExitUsage;
    }
    if (args.size() > 2) {
      std::fprintf(stderr,
                   "polyhead help: unexpected argument '%s' (usage: polyhead help COMMAND)\n",
                   args[2].c_str());
      return kExitUsage;
    }
    std::fputs(c->usage, stdout);
    return kExitOk;
  }
  const Command* c = find_command(first);
  if (!c) {
    std::fprintf(stderr, "polyhead: unknown %s '%s' (see 'polyhead --help')\n",
                 first.size() > 1 && first[0] == '-' ? "option" : "command", first.c_str());
    return kExitUsage;
  }
  return c->main(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace
}  // namespace polyhead::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + (argc > 0 ? argc : 0));
  // The library reports errors as Status; this only guards against allocation failure and the
  // like inside the tool itself, so bad input never ends in an abort.
  try {
    return polyhead::cli::dispatch(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "polyhead: internal error: %s\n", e.what());
    return polyhead::cli::kExitRuntime;
  }
}
