// The report of `polyhead bench --soak`: a text summary for people and JSON for scripts
// (fields in docs/bench.md, "Soak").
#pragma once

#include <cstdio>
#include <string>

#include "cli/soak.h"

namespace polyhead::cli {

void print_soak_text(const SoakResult& r, FILE* out);
std::string soak_to_json(const SoakResult& r);

}  // namespace polyhead::cli
