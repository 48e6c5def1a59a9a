// How `polyhead prune` and `polyhead lowrank` show a compress::CompressionReport: the same table
// and the same JSON object for every compression tool, so their results compare line by line.
// Built only with POLYHEAD_HAVE_COMPRESS (OpenCV, for the photos the drop is measured on).
#pragma once

#include "cli/json.h"
#include "offline/compress/compression_report.h"

namespace polyhead::cli {

// The table on stdout: file, MACs, arena, packed weights and latency of both models with the
// ratios, then the drop of every task.
void print_compression(const compress::CompressionReport& r);

// The report as the value of the current key (an object).
void add_compression_json(JsonWriter& j, const compress::CompressionReport& r);

}  // namespace polyhead::cli
