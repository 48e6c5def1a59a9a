// The human-readable report of `polyhead compare`: one block per task, then the ratios.
#pragma once

#include <cstdio>

#include "eval/compare_report.h"

namespace polyhead::cli {

void print_compare_text(const compare::CompareReport& r, FILE* out);

}  // namespace polyhead::cli
