// Runs the `polyhead` program as a user would, for the CLI tests. Header-only on purpose: each
// test target defines POLYHEAD_CLI (the binary) and, in cross builds, POLYHEAD_CLI_EMULATOR.
#pragma once

#include <string>
#include <vector>

#include "support/test_files.h"

#ifndef POLYHEAD_CLI
#error "define POLYHEAD_CLI (the polyhead binary) for this test target"
#endif

namespace polyhead::testing {

inline ShellResult run_cli(const std::vector<std::string>& args) {
  std::string cmd = shell_quote(POLYHEAD_CLI);
#ifdef POLYHEAD_CLI_EMULATOR
  cmd = POLYHEAD_CLI_EMULATOR " " + cmd;  // a cross build: the CLI runs under qemu-user too
#endif
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd);
}

}  // namespace polyhead::testing
