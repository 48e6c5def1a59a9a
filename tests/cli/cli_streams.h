// Runs the `polyhead` program like run_cli (support/cli_runner.h), but with stdout and stderr kept
// apart, for the tests of what goes where: progress lines on stderr, results alone on stdout.
#pragma once

#include <cctype>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/test_files.h"

namespace polyhead::testing {

struct CliStreams {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// `scratch` is a folder for the two capture files (overwritten on every call).
inline CliStreams run_cli_streams(const std::vector<std::string>& args, const TempDir& scratch) {
  std::string cmd = shell_quote(POLYHEAD_CLI);
#ifdef POLYHEAD_CLI_EMULATOR
  cmd = POLYHEAD_CLI_EMULATOR " " + cmd;
#endif
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  const std::string out = scratch / "cli.stdout", err = scratch / "cli.stderr";
  CliStreams r;
  // Grouped, so the "2>&1" run_shell appends does not override the redirections.
  r.exit_code =
      run_shell("{ " + cmd + " >" + shell_quote(out) + " 2>" + shell_quote(err) + "; }").exit_code;
  const auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  r.out = read(out);
  r.err = read(err);
  return r;
}

// The lines of `text`, without their '\n'.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A step line of cli/progress.h, printed once a second inside a long stage: "... 12/40 photos",
// "... timed 120 runs", "... --auto evaluation 3". Stage lines never end that way.
inline bool is_step_line(const std::string& line) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string::npos) end = line.size();
    words.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  const auto number = [](const std::string& w, bool slash) {
    if (w.empty() || !std::isdigit(static_cast<unsigned char>(w.front())) ||
        !std::isdigit(static_cast<unsigned char>(w.back())))
      return false;
    size_t slashes = 0;
    for (char c : w) {
      if (c == '/')
        ++slashes;
      else if (!std::isdigit(static_cast<unsigned char>(c)))
        return false;
    }
    return slashes == (slash ? 1u : 0u);
  };
  const size_t n = words.size();
  if (n < 3) return false;
  return number(words[n - 2], true) ||
         (words[n - 3] == "timed" && number(words[n - 2], false) && words[n - 1] == "runs") ||
         (words[n - 2] == "evaluation" && number(words[n - 1], false));
}

// The lines of `text` but the step lines: what a command prints whatever the machine's speed.
inline std::vector<std::string> stage_lines(const std::string& text) {
  std::vector<std::string> kept;
  for (const std::string& line : lines_of(text))
    if (!is_step_line(line)) kept.push_back(line);
  return kept;
}

}  // namespace polyhead::testing
