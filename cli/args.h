// Command-line parsing shared by the subcommands: options with or without values, numbers with
// ranges, comma lists. Every error names the option and the value so it fits on one line.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/result.h"
#include "polyhead/sparse_weights.h"

namespace polyhead::cli {

// Exit codes: usage errors (bad option, value or syntax) are told apart from runtime failures so
// scripts can react to them.
constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

struct OptionSpec {
  std::string name;  // "--threads"
  bool takes_value = false;
  bool repeatable = false;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // option -> values (flags: "")
  bool help = false;

  bool has(const std::string& option) const { return values.count(option) != 0; }
  // The option's value, or `fallback` when it was not given.
  std::string get(const std::string& option, const std::string& fallback = "") const;
  const std::vector<std::string>& all(const std::string& option) const;
};

// Accepts "--name value" and "--name=value"; "-h"/"--help" anywhere sets `help`; "--" ends options.
Result<ParsedArgs> parse_args(const std::vector<std::string>& args,
                              const std::vector<OptionSpec>& specs);

// Strict numbers: the whole text must parse and lie in [min, max].
Result<long long> parse_int(const std::string& option, const std::string& text, long long min,
                            long long max);
Result<double> parse_double(const std::string& option, const std::string& text, double min,
                            double max);

// "a,b" -> {"a", "b"}; empty items and duplicates are errors.
Result<std::vector<std::string>> parse_list(const std::string& option, const std::string& text);

// --parallel-heads auto|never|always (polyhead::parse_parallel_heads), the error naming the value.
Result<ParallelHeads> parse_parallel_heads_option(const std::string& text);
// --sparse-weights auto|sparse|dense (EngineOptions::sparse_weights).
Result<SparseWeights> parse_sparse_weights_option(const std::string& text);

// "NAME=FILE" -> {NAME, FILE}.
Result<std::pair<std::string, std::string>> parse_assignment(const std::string& option,
                                                             const std::string& text);

// The arguments with "-o" spelt "--output" (the commands that write a file accept both).
std::vector<std::string> expand_output_flag(const std::vector<std::string>& raw);

// True when both paths name one existing file (so writing the output would destroy an input).
bool same_file(const std::string& a, const std::string& b);

}  // namespace polyhead::cli
