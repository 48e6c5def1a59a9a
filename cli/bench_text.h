// The human-readable report of `polyhead bench`: tables on stdout.
#pragma once

#include <cstdio>

#include "cli/bench_result.h"

namespace polyhead::cli {

// Nodes listed in the profile table; the rest are summed up in one line (all are in --json).
constexpr size_t kTextProfileRows = 30;

void print_bench_text(const BenchResult& r, FILE* out);

// "[1,56,56,24] -> [1,28,28,32]": the first input and every output of a node.
std::string node_shapes_text(const NodeProfile& n);

}  // namespace polyhead::cli
