// `polyhead bench --json`: every figure of a BenchResult as one JSON object; the schema is
// documented in docs/bench.md (its "schema" field names the version).
#pragma once

#include <string>

#include "cli/bench_result.h"

namespace polyhead::cli {

constexpr const char* kBenchJsonSchema = "polyhead-bench/1";

std::string bench_to_json(const BenchResult& r);

class JsonWriter;
// The fields of a latency summary (count, min, median, p90, p99, max, mean, stddev), written into
// the object `j` has open; shared by the bench and soak reports.
void write_summary_fields(JsonWriter& j, const Summary& s);

}  // namespace polyhead::cli
