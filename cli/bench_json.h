// `polyhead bench --json`: every figure of a BenchResult as one JSON object; the schema is
// documented in docs/bench.md (its "schema" field names the version).
#pragma once

#include <string>

#include "cli/bench_result.h"

namespace polyhead::cli {

constexpr const char* kBenchJsonSchema = "polyhead-bench/1";

std::string bench_to_json(const BenchResult& r);

}  // namespace polyhead::cli
