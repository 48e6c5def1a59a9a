#include "cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace polyhead::cli {
namespace {

Status usage(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const OptionSpec& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace

std::string ParsedArgs::get(const std::string& option, const std::string& fallback) const {
  auto it = values.find(option);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& ParsedArgs::all(const std::string& option) const {
  static const std::vector<std::string> kNone;
  auto it = values.find(option);
  return it == values.end() ? kNone : it->second;
}

Result<ParsedArgs> parse_args(const std::vector<std::string>& args,
                              const std::vector<OptionSpec>& specs) {
  ParsedArgs out;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      out.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const OptionSpec* spec = find_spec(specs, name);
    if (!spec) return usage("unknown option '" + name + "'");
    std::string value;
    if (spec->takes_value) {
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return usage("option '" + name + "' needs a value");
      }
      if (value.empty()) return usage("option '" + name + "' needs a non-empty value");
    } else if (eq != std::string::npos) {
      return usage("option '" + name + "' takes no value, found '" + arg.substr(eq + 1) + "'");
    }
    auto& slot = out.values[name];
    if (!slot.empty() && !spec->repeatable)
      return usage("option '" + name + "' is given more than once");
    slot.push_back(value);
  }
  return out;
}

Result<long long> parse_int(const std::string& option, const std::string& text, long long min,
                            long long max) {
  const std::string expected =
      "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (text.empty()) return usage("invalid value '' for " + option + ": " + expected);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size() || v < min || v > max)
    return usage("invalid value '" + text + "' for " + option + ": " + expected);
  return v;
}

Result<double> parse_double(const std::string& option, const std::string& text, double min,
                            double max) {
  auto bad = [&] {
    char range[96];
    std::snprintf(range, sizeof(range), "expected a number in [%g, %g]", min, max);
    return usage("invalid value '" + text + "' for " + option + ": " + range);
  };
  if (text.empty()) return bad();
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v) || v < min || v > max)
    return bad();
  return v;
}

Result<std::vector<std::string>> parse_list(const std::string& option, const std::string& text) {
  std::vector<std::string> items;
  std::set<std::string> seen;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      return usage("invalid value '" + text + "' for " + option + ": empty name in the list");
    if (!seen.insert(item).second)
      return usage("invalid value '" + text + "' for " + option + ": '" + item +
                   "' is listed twice");
    items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

Result<std::pair<std::string, std::string>> parse_assignment(const std::string& option,
                                                             const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return usage("invalid value '" + text + "' for " + option + ": expected NAME=FILE");
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

Result<ParallelHeads> parse_parallel_heads_option(const std::string& text) {
  auto mode = parse_parallel_heads(text);
  if (!mode.is_ok())
    return usage("invalid value '" + text +
                 "' for --parallel-heads: expected auto, never or always");
  return *mode;
}

Result<SparseWeights> parse_sparse_weights_option(const std::string& text) {
  SparseWeights mode = SparseWeights::kAuto;
  if (!parse_sparse_weights(text, &mode))
    return usage("invalid value '" + text +
                 "' for --sparse-weights: expected auto, sparse or dense");
  return mode;
}

std::vector<std::string> expand_output_flag(const std::vector<std::string>& raw) {
  std::vector<std::string> args;
  args.reserve(raw.size());
  for (const std::string& a : raw) args.push_back(a == "-o" ? "--output" : a);
  return args;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

}  // namespace polyhead::cli
