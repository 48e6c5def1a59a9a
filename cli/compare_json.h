// The machine-readable report of `polyhead compare --json`: every number of the report, no value
// as null (schema in docs/compare.md).
#pragma once

#include <string>

#include "eval/compare_report.h"

namespace polyhead::cli {

std::string compare_json(const compare::CompareReport& r);

}  // namespace polyhead::cli
