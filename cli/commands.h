// The subcommands of the `polyhead` program. Each takes the arguments after its name and returns
// the process exit code (see args.h); none of them throws or aborts on bad input.
#pragma once

#include <string>
#include <vector>

namespace polyhead::cli {

struct Command {
  const char* name;
  const char* summary;  // one line for `polyhead --help`
  const char* usage;    // full help for `polyhead help CMD`
  int (*main)(const std::vector<std::string>& args);
};

int inspect_main(const std::vector<std::string>& args);
int run_main(const std::vector<std::string>& args);
int demo_main(const std::vector<std::string>& args);
int convert_main(const std::vector<std::string>& args);
int bench_main(const std::vector<std::string>& args);
int merge_main(const std::vector<std::string>& args);
int compare_main(const std::vector<std::string>& args);
int quantize_main(const std::vector<std::string>& args);
int prune_main(const std::vector<std::string>& args);
int lowrank_main(const std::vector<std::string>& args);
int stream_main(const std::vector<std::string>& args);

extern const char kInspectUsage[];
extern const char kRunUsage[];
extern const char kDemoUsage[];
extern const char kConvertUsage[];
extern const char kBenchUsage[];
extern const char kMergeUsage[];
extern const char kCompareUsage[];
extern const char kQuantizeUsage[];
extern const char kPruneUsage[];
extern const char kLowrankUsage[];
extern const char kStreamUsage[];

// Prints "polyhead CMD: message" to stderr and returns `code`.
int report_error(const char* command, const std::string& message, int code);
// The whole of a command this build has without OpenCV: its help for -h/--help, otherwise an
// error saying OpenCV is needed.
int report_needs_opencv(const char* command, const char* usage,
                        const std::vector<std::string>& args);
// For option errors: adds a pointer to the command's help.
int report_usage_error(const char* command, const std::string& message);

}  // namespace polyhead::cli
