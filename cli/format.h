// Human-readable numbers for the tools' tables: byte sizes, operation counts, milliseconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace polyhead::cli {

std::string format_bytes(uint64_t bytes);  // "6.32 MiB"
std::string format_count(uint64_t n);      // "300.8 M"
std::string format_float(double v, int precision = 4);
std::string join(const std::vector<std::string>& items, const std::string& separator);
// Items separated by ", ", wrapped to `width` columns with `indent` spaces on each line.
std::string wrap_list(const std::vector<std::string>& items, size_t indent, size_t width = 100);

}  // namespace polyhead::cli
